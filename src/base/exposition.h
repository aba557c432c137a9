// Exposition: writes the Prometheus text format (version 0.0.4) that the router and the
// controller serve at GET /metrics (docs/metrics.md). A metric family is its HELP and TYPE
// lines followed by all of its samples, in the order the families were added, as the format
// requires; numbers are printed in their shortest exact form (std::to_chars: 0.000119, never
// 0.00011899999999999999), label values are escaped.
//
// A plain value, built by one thread and then read; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lastgood {

// Label names and values, in the order they are printed.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The shortest text that reads back as exactly `v`; "+Inf", "-Inf", "NaN" as the format
// spells them.
std::string MetricNumber(double v);
// `v` with backslash, double quote and newline escaped, as a label value must be.
std::string EscapeLabelValue(std::string_view v);

class Exposition {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  class Family {
   public:
    // One sample of a counter or gauge.
    void Sample(const MetricLabels& labels, double value);
    // A histogram's series: `counts[i]` values fell in (bounds[i-1], bounds[i]], and
    // counts[bounds.size()] above the last bound; written as cumulative _bucket lines with
    // le="…" and le="+Inf", then _sum and _count.
    // REQUIRES: counts.size() == bounds.size() + 1; bounds increasing.
    void Histogram(const MetricLabels& labels, std::span<const double> bounds,
                   std::span<const uint64_t> counts, double sum);

   private:
    friend class Exposition;
    Family(std::string name, Type type, std::string help)
        : name_(std::move(name)), type_(type), help_(std::move(help)) {}
    void Line(std::string_view suffix, const MetricLabels& labels, std::string_view extra_label,
              const std::string& value);
    std::string name_;
    Type type_;
    std::string help_;
    std::string samples_;
  };

  // Adds a family; its samples are written after those of the families added before.
  // The reference stays valid until the Exposition is destroyed.
  Family& Add(std::string name, Type type, std::string help);
  // The whole text, ending in a newline.
  std::string Text() const;

 private:
  std::vector<std::unique_ptr<Family>> families_;
};

// The content type of the text format, for the HTTP answer.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace lastgood
