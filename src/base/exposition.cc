#include "base/exposition.h"

#include <charconv>
#include <cmath>

namespace lastgood {
namespace {

constexpr long kMaxPlainDigits = 21;

}  // namespace

std::string MetricNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Plain digits while they stay short (0.0001, 250000), as people and most exporters write
  // them; else the shortest form, which may have an exponent (1e+21). Both read back as `v`.
  char buf[400];
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (fixed.ec == std::errc() && fixed.ptr - buf <= kMaxPlainDigits)
    return std::string(buf, fixed.ptr);
  auto shortest = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, shortest.ec == std::errc() ? shortest.ptr : buf);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Exposition::Family::Line(std::string_view suffix, const MetricLabels& labels,
                              std::string_view extra_label, const std::string& value) {
  samples_ += name_;
  samples_ += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    samples_ += '{';
    bool first = true;
    for (const auto& [name, label_value] : labels) {
      if (!first) samples_ += ',';
      first = false;
      samples_ += name + "=\"" + EscapeLabelValue(label_value) + '"';
    }
    if (!extra_label.empty()) {
      if (!first) samples_ += ',';
      samples_ += extra_label;
    }
    samples_ += '}';
  }
  samples_ += ' ';
  samples_ += value;
  samples_ += '\n';
}

void Exposition::Family::Sample(const MetricLabels& labels, double value) {
  Line("", labels, "", MetricNumber(value));
}

void Exposition::Family::Histogram(const MetricLabels& labels, std::span<const double> bounds,
                                   std::span<const uint64_t> counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le = i < bounds.size() ? MetricNumber(bounds[i]) : "+Inf";
    Line("_bucket", labels, "le=\"" + le + '"', std::to_string(cumulative));
  }
  Line("_sum", labels, "", MetricNumber(sum));
  Line("_count", labels, "", std::to_string(cumulative));
}

Exposition::Family& Exposition::Add(std::string name, Type type, std::string help) {
  families_.push_back(std::unique_ptr<Family>(new Family(std::move(name), type, std::move(help))));
  return *families_.back();
}

std::string Exposition::Text() const {
  std::string out;
  for (const auto& f : families_) {
    const char* type = f->type_ == Type::kCounter ? "counter"
                       : f->type_ == Type::kGauge ? "gauge"
                                                  : "histogram";
    std::string help;
    for (char c : f->help_) help += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
    out += "# HELP " + f->name_ + " " + help + "\n";
    out += "# TYPE " + f->name_ + " " + type + "\n";
    out += f->samples_;
  }
  return out;
}

}  // namespace lastgood
