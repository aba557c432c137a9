#include "node/node_logs.h"

#include "api/log_query.h"
#include "base/names.h"

namespace lastgood {

ApiResponse NodeLogs(const std::string& logs_dir, const std::vector<std::string>& running,
                     const std::map<std::string, std::string>& query, int64_t now_millis) {
  auto app = query.find("app");
  if (app == query.end()) return ErrorResponse(Error::InvalidInput("'app' is required", "app"));
  if (auto s = ValidateName(app->second, "app name", "app"); !s.ok())
    return ErrorResponse(s.error());
  std::vector<std::string> slots;
  if (auto it = query.find("slots"); it != query.end()) {
    size_t at = 0;
    while (at <= it->second.size() && slots.size() <= 100) {
      size_t comma = it->second.find(',', at);
      if (comma == std::string::npos) comma = it->second.size();
      std::string slot = it->second.substr(at, comma - at);
      if (auto s = ValidateName(slot, "slot name", "slots"); !s.ok())
        return ErrorResponse(s.error());
      slots.push_back(std::move(slot));
      at = comma + 1;
    }
  }
  if (slots.empty() || slots.size() > 100)
    return ErrorResponse(Error::InvalidInput("'slots' names the app's slots (1 to 100)", "slots"));
  auto q = ParseLogQuery(query, now_millis);
  if (!q.ok()) return ErrorResponse(q.error());
  auto files = FindHostLogFiles(logs_dir, app->second, slots, running, q->filter);
  LogRead read = ReadLogs(files, q->cursor, q->sinceMillis, q->maxBytes, q->partial, q->tailLines);
  nlohmann::json answer = LogReadJson(files, read);
  answer["app"] = app->second;
  return {200, DumpJson(answer)};
}

}  // namespace lastgood
