#include "api/app_logs.h"

#include <algorithm>
#include <set>

#include "api/instance_logs.h"
#include "targets/remote/fleet.h"
#include "wire/json_text.h"

namespace lastgood {
namespace {

using json = nlohmann::json;

class NodeLogs : public HostLogs {
 public:
  explicit NodeLogs(Fleet* fleet) : fleet_(fleet) {}

  bool Registered(const std::string& host) override { return fleet_ && fleet_->Node(host); }

  Result<json> Read(const std::string& host, const std::string& query) override {
    auto node = fleet_ ? fleet_->Node(host) : nullptr;
    if (!node)
      return Error::NotFound("no fleet host named " + host + " (lastgood hosts lists them)");
    for (const auto& h : fleet_->Snapshot()) {
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
    return answer;
  }

 private:
  Fleet* const fleet_;
};

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

std::unique_ptr<HostLogs> FleetHostLogs(Fleet* fleet) { return std::make_unique<NodeLogs>(fleet); }

Result<json> ReadAppLogs(const AppLogsRequest& r, HostLogs* hosts) {
  const LogQuery& q = r.query;
  std::vector<InstanceRecord> local;
  std::set<std::string> asked;  // the fleet hosts to ask
  for (const auto& i : r.instances) {
    if (i.host.empty())
      local.push_back(i);
    else
      asked.insert(i.host);
  }
  if (!r.host.empty()) {
    if (!hosts || !hosts->Registered(r.host))
      return Error::NotFound("no fleet host named " + r.host + " (lastgood hosts lists them)");
    const bool stopped_too = q.filter.version != 0 || !q.filter.instance.empty();
    if (!asked.count(r.host) && !stopped_too) {
      std::string where;
      for (const auto& h : asked) where += (where.empty() ? "" : ", ") + h;
      return Error::NotFound(r.app + " runs no instance on host " + r.host +
                             (where.empty() ? "" : " (it runs on " + where + ")") +
                             "; --version or --instance finds the output of stopped ones");
    }
    asked = {r.host};
  }
  const bool read_local = r.host.empty();
  const size_t readers = asked.size() + (read_local ? 1 : 0);
  const uint64_t share =
      std::max<uint64_t>(q.maxBytes / std::max<size_t>(readers, 1), kMinLogReadBytes);

  json ids = json::array(), chunks = json::array(), unreachable = json::array();
  std::map<std::string, uint64_t> cursor;
  bool more = false;
  if (read_local) {
    auto files = FindLogFiles(r.logsRoot, r.app, local, q.filter);
    LogRead read = ReadLogs(files, q.cursor, q.sinceMillis, share, q.partial, q.tailLines);
    json part = LogReadJson(files, read);
    for (auto& id : part["instances"]) ids.push_back(id);
    for (auto& c : part["chunks"]) chunks.push_back(c);
    cursor.insert(read.cursor.begin(), read.cursor.end());
    more = read.more;
  }
  const std::string host_query =
      LogQueryString(q, share) + "&app=" + r.app + "&slots=" + Joined(r.slots);
  for (const auto& host : asked) {
    auto part = hosts ? hosts->Read(host, host_query)
                      : Result<json>(Error::NotFound("no fleet host named " + host));
    if (part.ok() && (!(*part)["chunks"].is_array() || !(*part)["instances"].is_array()))
      part = Error::Unavailable("host " + host + " answered logs without chunks");
    if (!part.ok()) {
      if (!r.host.empty()) return part.error();
      unreachable.push_back({{"host", host}, {"problem", Utf8String(part.error().message)}});
      continue;
    }
    for (const auto& id : (*part)["instances"]) ids.push_back(id);
    for (auto c : (*part)["chunks"]) {
      c["host"] = host;
      chunks.push_back(std::move(c));
    }
    const json& text = (*part)["cursor"];
    if (auto read = ParseLogCursor(text.is_string() ? text.get<std::string>() : ""); read.ok())
      cursor.insert(read->begin(), read->end());
    more = more || (*part).value("more", false);
  }
  // While a host cannot be asked, its files keep their place, so that -f goes on from there
  // once it answers again (otherwise a file that is gone leaves the cursor).
  if (!unreachable.empty()) {
    for (const auto& [key, offset] : q.cursor) cursor.emplace(key, offset);
  }
  return json{{"app", r.app},     {"instances", ids},
              {"chunks", chunks}, {"cursor", FormatLogCursor(cursor)},
              {"more", more},     {"unreachable", unreachable}};
}

}  // namespace lastgood
