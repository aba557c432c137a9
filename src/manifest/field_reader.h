// Internal to manifest/: reading YAML nodes as typed manifest fields.
//
// Every value is read together with its field path ("strategy.rolling.maxSurge") and its
// 1-based line, so that every error can say where it is. Scalars are taken as their raw
// text (YAML tags are ignored), "${params.NAME}" is substituted first, and only then is the
// text interpreted as an integer, duration, … ("resolve first, then type-check").
// Not thread-safe to share a FieldReader between threads; it is a short-lived helper.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood::manifest_internal {

using Params = std::map<std::string, std::string>;

// The most text all scalars together may hold once parameters are substituted, so that
// many references to a long value cannot blow a small manifest up.
inline constexpr size_t kMaxResolvedBytes = 4 << 20;

// A YAML node and where it is.
struct Field {
  YAML::Node node;
  std::string path;  // "" for the document itself
  int line = 0;      // 1-based, of the value
  int key_line = 0;  // 1-based, of its key (of the item, for list items): where a missing
                     // member of this field is reported

  // The value under `key` of this map field, found on `key_line`.
  Field Member(const std::string& key, const YAML::Node& value, int key_line) const;
  // The i-th item of this list field.
  Field Item(size_t i, const YAML::Node& value) const;
};

// "a map", "a list", "nothing" or "'text'": what was found, for error messages.
std::string Describe(const YAML::Node& node);

// The closest of `candidates` to `word` when it is close enough to be a likely typo.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

// The entries of a map field. Refuses a field that is not a map, keys that are not plain
// strings, a key given twice, and (when `allowed` is not empty) keys not in `allowed`.
class MapFields {
 public:
  static Result<MapFields> Open(const Field& field, const std::vector<std::string>& allowed);
  // Like Open, but any key is accepted (env names, parameter names).
  static Result<MapFields> OpenFree(const Field& field);

  struct Entry {
    std::string key;
    Field value;  // value.key_line is the key's line
  };

  std::optional<Field> Get(std::string_view key) const;
  const std::vector<Entry>& entries() const { return entries_; }
  const Field& self() const { return self_; }

 private:
  static Result<MapFields> OpenImpl(const Field& field, const std::vector<std::string>* allowed);
  Field self_;
  std::vector<Entry> entries_;  // in the order written
};

// Reads scalars with parameters substituted.
class FieldReader {
 public:
  explicit FieldReader(const Params& params) : params_(params) {}

  // Any scalar as text (may be empty).
  Result<std::string> String(const Field& f) const;
  // A scalar that is not empty.
  Result<std::string> NonEmptyString(const Field& f) const;
  // A decimal integer in [min, max].
  Result<int> Int(const Field& f, int min, int max) const;
  // A decimal number in [0, 1].
  Result<double> Fraction(const Field& f) const;
  // Any finite decimal number.
  Result<double> Number(const Field& f) const;
  // true or false.
  Result<bool> Bool(const Field& f) const;
  // A duration ("500ms", "1m30s"); zero only when `allow_zero`.
  Result<Millis> Duration(const Field& f, bool allow_zero) const;
  // An argv: a non-empty list of strings whose first item is not empty.
  Result<std::vector<std::string>> Argv(const Field& f) const;

 private:
  // The scalar text with parameters substituted; `original` is set to the text as written.
  Result<std::string> Scalar(const Field& f, const char* expected, std::string* original) const;
  const Params& params_;
  mutable size_t resolved_bytes_ = 0;  // a running total, checked against kMaxResolvedBytes
};

}  // namespace lastgood::manifest_internal

// Assigns the value of a Result expression to `lhs`, or returns its error.
#define LG_MANIFEST_ASSIGN(lhs, expr) \
  do {                                \
    auto lg_result_ = (expr);         \
    if (!lg_result_.ok()) {           \
      return lg_result_.error();      \
    }                                 \
    lhs = std::move(*lg_result_);     \
  } while (0)
