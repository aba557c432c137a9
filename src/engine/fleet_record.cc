#include "engine/fleet_record.h"

#include <algorithm>
#include <set>

#include "engine/step.h"

namespace lastgood {

bool IsFleet(const Deployment& d) {
  return std::any_of(d.operations.begin(), d.operations.end(),
                     [](const Operation& op) { return !op.host.empty(); });
}

std::vector<std::string> HostsOf(const Deployment& d, int wave) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& op : d.operations) {
    if (op.host.empty() || seen.count(op.host)) continue;
    if (wave > 0) {
      auto step = StepFromJson(op.spec);
      if (!step.ok() || step->wave != wave) continue;
    }
    seen.insert(op.host);
    out.push_back(op.host);
  }
  return out;
}

std::map<std::string, std::string> FailedHosts(const Deployment& d) {
  std::map<std::string, std::string> out;
  for (const auto& op : d.operations) {
    if (!op.host.empty() && op.state == OperationState::kFailed && !out.count(op.host))
      out[op.host] = op.detail;
  }
  return out;
}

std::vector<std::string> WorkingHosts(const Deployment& d, int wave) {
  auto failed = FailedHosts(d);
  std::vector<std::string> out;
  for (auto& h : HostsOf(d, wave)) {
    if (!failed.count(h)) out.push_back(h);
  }
  return out;
}

std::string DescribeFailedHosts(const std::map<std::string, std::string>& failed) {
  std::string out;
  for (const auto& [host, detail] : failed) {
    out += (out.empty() ? "" : "; ") + host + ": " +
           (detail.size() > 200 ? detail.substr(0, 200) + "…" : detail);
  }
  return out;
}

std::string DescribeSwitches(const Deployment& d) {
  std::string switched, not_switched;
  for (const auto& op : d.operations) {
    auto step = StepFromJson(op.spec);
    if (!step.ok() || step->op != Step::Op::kSwitch || op.host.empty()) continue;
    std::string& list = op.state == OperationState::kSucceeded ? switched : not_switched;
    list += (list.empty() ? "" : ", ") + op.host;
  }
  if (switched.empty()) return "";
  return "switched: " + switched + (not_switched.empty() ? "" : "; not switched: " + not_switched);
}

}  // namespace lastgood
