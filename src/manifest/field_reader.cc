#include "manifest/field_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "manifest/parameters.h"

namespace lastgood::manifest_internal {
namespace {

// yaml-cpp marks are 0-based; a null value's mark may point at the next token, so a
// missing value is reported on its key's line.
int LineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

// Optimal string alignment distance: a swap of two neighbours ("lable") costs one edit.
size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string JoinQuoted(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::string AfterParams(const std::string& original, const std::string& resolved) {
  if (original == resolved) return "";
  return " (resolved from '" + original + "')";
}

}  // namespace

Field Field::Member(const std::string& key, const YAML::Node& value, int key_line) const {
  return {value, path.empty() ? key : path + "." + key, LineOf(value, key_line), key_line};
}

Field Field::Item(size_t i, const YAML::Node& value) const {
  int item_line = LineOf(value, line);
  return {value, path + "[" + std::to_string(i) + "]", item_line, item_line};
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  if (word.size() > 64) return best;  // no field name is that long; spare the quadratic work
  size_t best_distance = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3));
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d <= best_distance && (!best || d < EditDistance(word, *best))) best = c;
  }
  return best;
}

Result<MapFields> MapFields::Open(const Field& field, const std::vector<std::string>& allowed) {
  return OpenImpl(field, &allowed);
}

Result<MapFields> MapFields::OpenFree(const Field& field) { return OpenImpl(field, nullptr); }

Result<MapFields> MapFields::OpenImpl(const Field& field, const std::vector<std::string>* allowed) {
  if (!field.node.IsMap()) {
    return Error::InvalidInput(
        "expected a map (key: value lines or { key: value }), got " + Describe(field.node),
        field.path, field.line);
  }
  MapFields out;
  out.self_ = field;
  for (const auto& kv : field.node) {
    int key_line = LineOf(kv.first, field.line);
    if (!kv.first.IsScalar()) {
      return Error::InvalidInput("a field name must be a plain word, got " + Describe(kv.first),
                                 field.path, key_line);
    }
    const std::string& key = kv.first.Scalar();
    Field member = field.Member(key, kv.second, key_line);
    if (allowed && std::find(allowed->begin(), allowed->end(), key) == allowed->end()) {
      std::string where = field.path.empty() ? "at the top level" : "under " + field.path;
      std::string msg = "unknown field '" + key + "' " + where;
      if (auto close = ClosestMatch(key, *allowed)) {
        msg += "; did you mean '" + *close + "'?";
      } else {
        msg += "; allowed fields are: " + JoinQuoted(*allowed);
      }
      return Error::InvalidInput(msg, member.path, key_line);
    }
    for (const auto& seen : out.entries_) {
      if (seen.key == key) {
        return Error::InvalidInput("'" + key + "' is given twice (first on line " +
                                       std::to_string(seen.value.key_line) + "); keep only one",
                                   member.path, key_line);
      }
    }
    out.entries_.push_back({key, std::move(member)});
  }
  return out;
}

std::optional<Field> MapFields::Get(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

Result<std::string> FieldReader::Scalar(const Field& f, const char* expected,
                                        std::string* original) const {
  if (!f.node.IsScalar()) {
    return Error::InvalidInput(std::string("expected ") + expected + ", got " + Describe(f.node) +
                                   (f.node.IsNull() ? "; give a value or remove the field" : ""),
                               f.path, f.line);
  }
  *original = f.node.Scalar();
  auto text = SubstituteParams(*original, params_, f.path, f.line);
  if (text.ok() && (resolved_bytes_ += text->size()) > kMaxResolvedBytes) {
    return Error::InvalidInput("the manifest grows past " + std::to_string(kMaxResolvedBytes) +
                                   " bytes once parameters are substituted; use shorter values",
                               f.path, f.line);
  }
  if (text.ok() && text->find('\0') != std::string::npos) {
    return Error::InvalidInput(
        "contains a NUL character, which no program argument, path or "
        "setting can hold; remove it",
        f.path, f.line);
  }
  return text;
}

Result<std::string> FieldReader::String(const Field& f) const {
  std::string original;
  return Scalar(f, "a string", &original);
}

Result<std::string> FieldReader::NonEmptyString(const Field& f) const {
  std::string original;
  auto text = Scalar(f, "a string", &original);
  if (!text.ok()) return text;
  if (text->empty()) {
    return Error::InvalidInput(
        "is empty" + AfterParams(original, *text) + "; give a value or remove the field", f.path,
        f.line);
  }
  return text;
}

Result<int> FieldReader::Int(const Field& f, int min, int max) const {
  std::string original;
  auto text = Scalar(f, "an integer", &original);
  if (!text.ok()) return text.error();
  int value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text->empty() || ptr != end || ec == std::errc::invalid_argument) {
    return Error::InvalidInput("expected an integer, got '" + *text + "'" +
                                   AfterParams(original, *text) + "; write a whole number",
                               f.path, f.line);
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    std::string range = max == std::numeric_limits<int>::max()
                            ? "at least " + std::to_string(min)
                            : "between " + std::to_string(min) + " and " + std::to_string(max);
    return Error::InvalidInput(
        "must be " + range + ", got '" + *text + "'" + AfterParams(original, *text), f.path,
        f.line);
  }
  return value;
}

Result<double> FieldReader::Fraction(const Field& f) const {
  std::string original;
  auto text = Scalar(f, "a number between 0 and 1", &original);
  if (!text.ok()) return text.error();
  double value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (text->empty() || ptr != end || ec != std::errc() || !std::isfinite(value) || value < 0 ||
      value > 1) {
    return Error::InvalidInput("expected a number between 0 and 1 (0.01 is 1%), got '" + *text +
                                   "'" + AfterParams(original, *text),
                               f.path, f.line);
  }
  return value;
}

Result<double> FieldReader::Number(const Field& f) const {
  std::string original;
  auto text = Scalar(f, "a number", &original);
  if (!text.ok()) return text.error();
  double value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (text->empty() || ptr != end || ec != std::errc() || !std::isfinite(value)) {
    return Error::InvalidInput(
        "expected a number, like 0.01 or 250, got '" + *text + "'" + AfterParams(original, *text),
        f.path, f.line);
  }
  return value;
}

Result<bool> FieldReader::Bool(const Field& f) const {
  std::string original;
  auto text = Scalar(f, "true or false", &original);
  if (!text.ok()) return text.error();
  if (*text == "true") return true;
  if (*text == "false") return false;
  return Error::InvalidInput(
      "expected true or false, got '" + *text + "'" + AfterParams(original, *text), f.path, f.line);
}

Result<Millis> FieldReader::Duration(const Field& f, bool allow_zero) const {
  std::string original;
  auto text = Scalar(f, "a duration", &original);
  if (!text.ok()) return text.error();
  auto d = ParseDuration(*text);
  if (!d.ok()) {
    return Error::InvalidInput(d.error().message + AfterParams(original, *text), f.path, f.line);
  }
  if (!allow_zero && d->count() == 0) {
    return Error::InvalidInput("must be longer than zero, got '" + *text + "'", f.path, f.line);
  }
  return d;
}

Result<std::vector<std::string>> FieldReader::Argv(const Field& f) const {
  if (!f.node.IsSequence()) {
    return Error::InvalidInput(
        "expected a list of strings (argv, no shell), like [\"./bin/app\", "
        "\"--port\", \"${PORT}\"], got " +
            Describe(f.node),
        f.path, f.line);
  }
  if (f.node.size() == 0) {
    return Error::InvalidInput(
        "is empty; give the program and its arguments, like "
        "[\"./bin/app\", \"--port\", \"${PORT}\"]",
        f.path, f.line);
  }
  std::vector<std::string> argv;
  for (size_t i = 0; i < f.node.size(); ++i) {
    auto arg = String(f.Item(i, f.node[i]));
    if (!arg.ok()) return arg.error();
    argv.push_back(std::move(*arg));
  }
  if (argv[0].empty()) {
    return Error::InvalidInput("the program (first item) is empty; name the executable to run",
                               f.Item(0, f.node[0]).path, f.Item(0, f.node[0]).line);
  }
  return argv;
}

}  // namespace lastgood::manifest_internal
