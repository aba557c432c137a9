// LogQuery: the query of a logs read — GET /v1/apps/{app}/logs on the controller and GET
// /v1/logs on a fleet host's node take the same one (docs/cli.md `logs`), and answer it the
// same way, so that the controller passes a caller's query on to a node as it came.
//
//   slot, version, instance   filters (LogFilter)
//   since                     milliseconds ago, measured by the clock of whoever reads the
//                             files, so that neither the caller's nor the controller's
//                             clock matters
//   cursor                    from the last answer, as it was given: go on from there
//   tail                      only each file's last N lines (a file in the cursor: from there)
//   partial=true              also a last line without its newline
//   max                       at most this many bytes of output (up to kMaxLogReadBytes)
//
// Thread-safety: functions of their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/instance_logs.h"
#include "base/result.h"
#include "wire/json_text.h"

namespace lastgood {

// The smallest budget a read may be given: one long line's worth.
inline constexpr uint64_t kMinLogReadBytes = 64 << 10;

struct LogQuery {
  LogFilter filter;
  int64_t sinceMillis = 0;     // epoch millis by the reader's clock; 0: from each file's start
  int64_t sinceAgoMillis = 0;  // as asked (0: not asked), to pass on
  std::map<std::string, uint64_t> cursor;
  int tailLines = 0;  // 0: every line
  bool partial = false;
  uint64_t maxBytes = kMaxLogReadBytes;
};

// The query's fields, checked (InvalidInput naming the field); `now_millis` turns `since`
// into a time.
Result<LogQuery> ParseLogQuery(const std::map<std::string, std::string>& query, int64_t now_millis);

// The query string ("slot=…&version=…", no '?') that asks another reader for `q` with
// `max_bytes`, its cursor included.
std::string LogQueryString(const LogQuery& q, uint64_t max_bytes);

// {"instances": [ids of `files`], "chunks": [{instance, stream, text}], "cursor", "more"}.
nlohmann::json LogReadJson(const std::vector<LogFile>& files, const LogRead& read);

}  // namespace lastgood
