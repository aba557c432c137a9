// GET /v1/apps/{app}/logs: the output of the app's instances (api/instance_logs.h), for
// `lastgood logs`. Query: api/log_query.h's, and host (only the instances of that fleet
// host). Answers {app, instances, chunks: [{instance, stream, text, host?}], cursor, more,
// unreachable: [{host, problem}]}: at most kMaxLogReadBytes of output; `more` says to ask
// again at once.
//
// The output of the controller's own instances is read here; a fleet host's is asked of its
// node (node/node_logs.h) over the forwarded socket, with the same query and a share of the
// budget. Without `host`, every host on which the store records instances of the app is
// asked, side by side with this machine's files: a host that cannot be asked then is named in
// `unreachable` and the others are shown. With `host`, that host alone: unknown → 404, it
// runs nothing of the app (and no version or instance named, whose stopped instances' output
// may remain) → 404, unreachable → 503, each naming the host.
#include <nlohmann/json.hpp>
#include <set>

#include "api/handlers.h"
#include "api/instance_logs.h"
#include "api/json.h"
#include "api/log_query.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "base/names.h"
#include "targets/remote/fleet.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

// The app's slot names, with which a node reads its instance ids.
std::string SlotList(Store& store, const std::string& app,
                     const std::vector<InstanceRecord>& instances) {
  std::set<std::string> slots = {"production"};
  if (auto records = store.ListSlots(app); records.ok()) {
    for (const auto& s : *records) slots.insert(s.slot);
  }
  for (const auto& i : instances) slots.insert(i.slot);
  std::string out;
  for (const auto& s : slots) out += (out.empty() ? "" : ",") + s;
  return out;
}

// One fleet host's part of the answer, or why it could not be asked.
Result<json> AskHost(Fleet* fleet, const std::string& host, const std::string& query) {
  auto node = fleet ? fleet->Node(host) : nullptr;
  if (!node) return Error::NotFound("no fleet host named " + host + " (lastgood hosts lists them)");
  for (const auto& h : fleet->Snapshot()) {
    if (h.name == host && !h.reachable)
      return Error::Unavailable("host " + host + " is unreachable" +
                                (h.problem.empty() ? "" : ": " + h.problem));
  }
  auto answer = node->Logs(query);
  if (!answer.ok()) {
    // A node of an older build has no logs route: not the app's absence.
    if (answer.error().code == ErrorCode::kNotFound &&
        answer.error().message.find("no route") != std::string::npos)
      return Error::Unavailable("the node of host " + host +
                                " is of a lastgood without logs; upgrade it (lastgood host add)");
    Error e = answer.error();
    e.message = "host " + host + ": " + e.message;
    return e;
  }
  if (!(*answer)["chunks"].is_array() || !(*answer)["instances"].is_array())
    return Error::Unavailable("host " + host + " answered logs without chunks");
  return answer;
}

}  // namespace

ApiResponse AppLogs(const RouteCall& call) {
  auto q = ParseLogQuery(call.query, Clock::Real()->NowMillis());
  if (!q.ok()) return ErrorResponse(q.error());
  const std::string only_host = call.Query("host").value_or("");
  if (!only_host.empty()) {
    if (auto s = ValidateName(only_host, "host name", "host"); !s.ok())
      return ErrorResponse(s.error());
  }
  auto versions = call.store.ListVersions(call.app());
  if (!versions.ok()) return ErrorResponse(versions.error());
  if (versions->empty()) return ErrorResponse(Error::NotFound("no app named " + call.app()));
  auto instances = call.store.ListInstances(call.app());
  if (!instances.ok()) return ErrorResponse(instances.error());

  std::vector<InstanceRecord> local;
  std::set<std::string> hosts;  // the fleet hosts to ask
  for (const auto& i : *instances) {
    if (i.host.empty())
      local.push_back(i);
    else
      hosts.insert(i.host);
  }
  const bool stopped_too = q->filter.version != 0 || !q->filter.instance.empty();
  if (!only_host.empty()) {
    if (!call.options.fleet || !call.options.fleet->Node(only_host))
      return ErrorResponse(
          Error::NotFound("no fleet host named " + only_host + " (lastgood hosts lists them)"));
    if (!hosts.count(only_host) && !stopped_too) {
      std::string where;
      for (const auto& h : hosts) where += (where.empty() ? "" : ", ") + h;
      return ErrorResponse(
          Error::NotFound(call.app() + " runs no instance on host " + only_host +
                          (where.empty() ? "" : " (it runs on " + where + ")") +
                          "; --version or --instance finds the output of stopped ones"));
    }
    hosts = {only_host};
  }
  const bool read_local = only_host.empty();
  const size_t readers = hosts.size() + (read_local ? 1 : 0);
  const uint64_t share =
      std::max<uint64_t>(q->maxBytes / std::max<size_t>(readers, 1), kMinLogReadBytes);

  json answer = {{"app", call.app()}};
  json ids = json::array(), chunks = json::array(), unreachable = json::array();
  std::map<std::string, uint64_t> cursor;
  bool more = false;
  if (read_local) {
    auto files = FindLogFiles(call.options.logsRoot, call.app(), local, q->filter);
    LogRead read = ReadLogs(files, q->cursor, q->sinceMillis, share, q->partial);
    json part = LogReadJson(files, read);
    for (auto& id : part["instances"]) ids.push_back(id);
    for (auto& c : part["chunks"]) chunks.push_back(c);
    cursor.insert(read.cursor.begin(), read.cursor.end());
    more = read.more;
  }
  const std::string host_query = LogQueryString(*q, share) + "&app=" + call.app() +
                                 "&slots=" + SlotList(call.store, call.app(), *instances);
  for (const auto& host : hosts) {
    auto part = AskHost(call.options.fleet, host, host_query);
    if (!part.ok()) {
      if (!only_host.empty()) return ErrorResponse(part.error());
      unreachable.push_back({{"host", host}, {"problem", Utf8String(part.error().message)}});
      continue;
    }
    for (const auto& id : (*part)["instances"]) ids.push_back(id);
    for (auto c : (*part)["chunks"]) {
      c["host"] = host;
      chunks.push_back(std::move(c));
    }
    if (auto read = ParseLogCursor((*part).value("cursor", "")); read.ok())
      cursor.insert(read->begin(), read->end());
    more = more || (*part).value("more", false);
  }
  // While a host cannot be asked, its files keep their place, so that -f goes on from there
  // once it answers again (otherwise a file that is gone leaves the cursor).
  if (!unreachable.empty()) {
    for (const auto& [key, offset] : q->cursor) cursor.emplace(key, offset);
  }
  answer["instances"] = ids;
  answer["chunks"] = chunks;
  answer["cursor"] = FormatLogCursor(cursor);
  answer["more"] = more;
  answer["unreachable"] = unreachable;
  return {200, DumpJson(answer)};
}

}  // namespace lastgood
