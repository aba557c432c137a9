// GET /v1/apps/{app}/logs: the output of the app's instances, for `lastgood logs`. Query:
// api/log_query.h's, and host (only the instances of that fleet host). What is read where,
// and the answer: api/app_logs.h.
#include <set>

#include "api/app_logs.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/names.h"

namespace lastgood {

ApiResponse AppLogs(const RouteCall& call) {
  auto q = ParseLogQuery(call.query, Clock::Real()->NowMillis());
  if (!q.ok()) return ErrorResponse(q.error());
  AppLogsRequest r;
  r.app = call.app();
  r.query = std::move(*q);
  r.host = call.Query("host").value_or("");
  if (!r.host.empty()) {
    if (auto s = ValidateName(r.host, "host name", "host"); !s.ok())
      return ErrorResponse(s.error());
  }
  auto versions = call.store.ListVersions(r.app);
  if (!versions.ok()) return ErrorResponse(versions.error());
  if (versions->empty()) return ErrorResponse(Error::NotFound("no app named " + r.app));
  auto instances = call.store.ListInstances(r.app);
  if (!instances.ok()) return ErrorResponse(instances.error());
  r.instances = std::move(*instances);
  r.logsRoot = call.options.logsRoot;
  // The app's slot names, with which a node reads its instance ids.
  std::set<std::string> slots = {"production"};
  if (auto records = call.store.ListSlots(r.app); records.ok()) {
    for (const auto& s : *records) slots.insert(s.slot);
  }
  for (const auto& i : r.instances) slots.insert(i.slot);
  r.slots.assign(slots.begin(), slots.end());
  auto hosts = FleetHostLogs(call.options.fleet);
  auto answer = ReadAppLogs(r, hosts.get());
  if (!answer.ok()) return ErrorResponse(answer.error());
  return {200, DumpJson(*answer)};
}

}  // namespace lastgood
