// GET /v1/apps/{app}/logs: the output of the app's instances (api/instance_logs.h), for
// `lastgood logs`. Query: slot, version, instance (filters); since (milliseconds ago, measured
// by the controller's clock, so that the caller's clock does not matter); cursor (from the
// last answer, as it was given, not percent-encoded: go on from there, how -f follows);
// partial=true (also a last line without its newline). Answers {app, instances, chunks: [{instance,
// stream, text}], cursor, more}: at most kMaxLogReadBytes of output; `more` says to ask again at
// once.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/instance_logs.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/names.h"

namespace lastgood {

ApiResponse AppLogs(const RouteCall& call) {
  LogFilter filter;
  if (auto slot = call.Query("slot")) {
    if (auto s = ValidateName(*slot, "slot name", "slot"); !s.ok()) return ErrorResponse(s.error());
    filter.slot = *slot;
  }
  if (auto version = call.Query("version")) {
    char* end = nullptr;
    long n = std::strtol(version->c_str(), &end, 10);
    if (version->empty() || *end != '\0' || n < 1 || n > 1'000'000'000)
      return ErrorResponse(Error::InvalidInput("'version' is not a version number", "version"));
    filter.version = static_cast<int>(n);
  }
  if (auto instance = call.Query("instance")) {
    if (auto s = ValidateName(*instance, "instance id", "instance"); !s.ok())
      return ErrorResponse(s.error());
    filter.instance = *instance;
  }
  int64_t since = 0;
  if (auto ago = call.Query("since")) {
    char* end = nullptr;
    long long n = std::strtoll(ago->c_str(), &end, 10);
    if (ago->empty() || *end != '\0' || n < 0 || n > 100LL * 365 * 86'400'000)
      return ErrorResponse(Error::InvalidInput("'since' is milliseconds ago", "since"));
    since = std::max<int64_t>(1, Clock::Real()->NowMillis() - n);
  }
  std::map<std::string, uint64_t> cursor;
  if (auto text = call.Query("cursor")) {
    auto parsed = ParseLogCursor(*text);
    if (!parsed.ok()) return ErrorResponse(parsed.error());
    cursor = std::move(*parsed);
  }
  bool partial = call.Query("partial").value_or("") == "true";
  auto versions = call.store.ListVersions(call.app());
  if (!versions.ok()) return ErrorResponse(versions.error());
  if (versions->empty()) return ErrorResponse(Error::NotFound("no app named " + call.app()));
  auto instances = call.store.ListInstances(call.app());
  if (!instances.ok()) return ErrorResponse(instances.error());
  std::vector<LogFile> files = FindLogFiles(call.options.logsRoot, call.app(), *instances, filter);
  LogRead read = ReadLogs(files, cursor, since, kMaxLogReadBytes, partial);
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& f : files) {
    if (ids.empty() || ids.back() != f.instance) ids.push_back(f.instance);
  }
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& c : read.chunks)
    chunks.push_back({{"instance", c.instance}, {"stream", c.stream}, {"text", c.text}});
  return {200, DumpJson({{"app", call.app()},
                         {"instances", ids},
                         {"chunks", chunks},
                         {"cursor", FormatLogCursor(read.cursor)},
                         {"more", read.more}})};
}

}  // namespace lastgood
