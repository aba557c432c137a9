#include "api/log_query.h"

#include <algorithm>
#include <cstdlib>

#include "base/names.h"

namespace lastgood {
namespace {

std::optional<std::string> Get(const std::map<std::string, std::string>& query,
                               const std::string& key) {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

// A whole decimal number in [lo, hi], or nullopt.
std::optional<long long> Number(const std::string& text, long long lo, long long hi) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  char* end = nullptr;
  long long n = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || n < lo || n > hi) return std::nullopt;
  return n;
}

}  // namespace

Result<LogQuery> ParseLogQuery(const std::map<std::string, std::string>& query,
                               int64_t now_millis) {
  LogQuery q;
  if (auto slot = Get(query, "slot")) {
    LG_RETURN_IF_ERROR(ValidateName(*slot, "slot name", "slot"));
    q.filter.slot = *slot;
  }
  if (auto version = Get(query, "version")) {
    auto n = Number(*version, 1, 1'000'000'000);
    if (!n) return Error::InvalidInput("'version' is not a version number", "version");
    q.filter.version = static_cast<int>(*n);
  }
  if (auto instance = Get(query, "instance")) {
    LG_RETURN_IF_ERROR(ValidateName(*instance, "instance id", "instance"));
    q.filter.instance = *instance;
  }
  if (auto ago = Get(query, "since")) {
    auto n = Number(*ago, 0, 100LL * 365 * 86'400'000);
    if (!n) return Error::InvalidInput("'since' is milliseconds ago", "since");
    q.sinceAgoMillis = *n;
    q.sinceMillis = std::max<int64_t>(1, now_millis - *n);
  }
  if (auto text = Get(query, "cursor")) {
    auto parsed = ParseLogCursor(*text);
    if (!parsed.ok()) return parsed.error();
    q.cursor = std::move(*parsed);
  }
  if (auto tail = Get(query, "tail")) {
    auto n = Number(*tail, 1, kMaxTailLines);
    if (!n)
      return Error::InvalidInput(
          "'tail' is a number of lines from 1 to " + std::to_string(kMaxTailLines), "tail");
    q.tailLines = static_cast<int>(*n);
  }
  q.partial = Get(query, "partial").value_or("") == "true";
  if (auto max = Get(query, "max")) {
    auto n = Number(*max, kMinLogReadBytes, kMaxLogReadBytes);
    if (!n) {
      return Error::InvalidInput("'max' is a byte count from " + std::to_string(kMinLogReadBytes) +
                                     " to " + std::to_string(kMaxLogReadBytes),
                                 "max");
    }
    q.maxBytes = static_cast<uint64_t>(*n);
  }
  return q;
}

std::string LogQueryString(const LogQuery& q, uint64_t max_bytes) {
  std::string out = "max=" + std::to_string(max_bytes);
  if (!q.filter.slot.empty()) out += "&slot=" + q.filter.slot;
  if (q.filter.version > 0) out += "&version=" + std::to_string(q.filter.version);
  if (!q.filter.instance.empty()) out += "&instance=" + q.filter.instance;
  if (q.sinceAgoMillis > 0) out += "&since=" + std::to_string(q.sinceAgoMillis);
  if (!q.cursor.empty()) out += "&cursor=" + FormatLogCursor(q.cursor);
  if (q.tailLines > 0) out += "&tail=" + std::to_string(q.tailLines);
  if (q.partial) out += "&partial=true";
  return out;
}

nlohmann::json LogReadJson(const std::vector<LogFile>& files, const LogRead& read) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& f : files) {
    if (ids.empty() || ids.back() != f.instance) ids.push_back(f.instance);
  }
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& c : read.chunks)
    chunks.push_back({{"instance", c.instance}, {"stream", c.stream}, {"text", c.text}});
  return {{"instances", ids},
          {"chunks", chunks},
          {"cursor", FormatLogCursor(read.cursor)},
          {"more", read.more}};
}

}  // namespace lastgood
