#include "history/rules.h"

#include <algorithm>
#include <map>

#include "history/reasons.h"

namespace lastgood {

namespace {

// Creation order: the store's id, then the start time for records not yet stored.
bool IsNewer(const Deployment& a, const Deployment& b) {
  if (a.id != b.id) return a.id > b.id;
  return a.startedAt > b.startedAt;
}

// The newest deployment of `version` that gave it a verdict, or nullptr.
const Deployment* LatestJudging(const std::vector<Deployment>& deployments, int version) {
  const Deployment* latest = nullptr;
  for (const Deployment& d : deployments) {
    if (d.version != version || !VerdictAfter(d)) continue;
    if (latest == nullptr || IsNewer(d, *latest)) latest = &d;
  }
  return latest;
}

const Version* Find(const std::vector<Version>& versions, int number) {
  for (const Version& v : versions) {
    if (v.number == number) return &v;
  }
  return nullptr;
}

std::string V(int number) { return "version " + std::to_string(number); }

// "version 9 of web does not exist (versions 1-4)".
Error NoSuchVersion(const std::vector<Version>& versions, int number) {
  if (versions.empty())
    return Error::NotFound(V(number) + " " + kReasonNoSuchVersion + " (there are no versions yet)");
  auto [lo, hi] =
      std::minmax_element(versions.begin(), versions.end(),
                          [](const Version& a, const Version& b) { return a.number < b.number; });
  std::string range = lo->number == hi->number ? V(lo->number)
                                               : "versions " + std::to_string(lo->number) + "-" +
                                                     std::to_string(hi->number);
  return Error::NotFound(V(number) + " of " + versions.front().app + " " + kReasonNoSuchVersion +
                         " (" + range + ")");
}

// "(its deployment deploy-3-7 failed)", or "" when no record says why.
std::string WhyBad(const std::vector<Deployment>& deployments, int version) {
  const Deployment* d = LatestJudging(deployments, version);
  if (d == nullptr || VerdictAfter(*d) != Verdict::kBad) return "";
  const char* what = d->state == DeploymentState::kFailed ? "failed" : "was rolled back";
  return " (its deployment " + d->name + " " + what + ")";
}

}  // namespace

std::optional<Verdict> VerdictAfter(const Deployment& ended) {
  if (ended.kind == DeploymentKind::kReconcile) return std::nullopt;  // one host caught up
  switch (ended.state) {
    case DeploymentState::kSucceeded:
      return Verdict::kGood;
    case DeploymentState::kFailed:
    case DeploymentState::kRolledBack:  // rolled back automatically, or aborted by the user
      return Verdict::kBad;
    case DeploymentState::kRunning:
    case DeploymentState::kCanceled:  // canceled by a manual rollback: not the release's fault
      return std::nullopt;
  }
  return std::nullopt;
}

Result<int> RollbackTarget(const std::vector<Version>& versions,
                           const std::vector<Deployment>& deployments, std::optional<int> last_good,
                           int running, std::optional<int> to, bool force) {
  if (!to) {
    if (!last_good) return Error::InvalidInput(kReasonNothingToRollBackTo);
    return *last_good;
  }
  const Version* target = Find(versions, *to);
  if (target == nullptr) return NoSuchVersion(versions, *to);
  if (*to == running || force) return *to;
  switch (target->verdict) {
    case Verdict::kGood:
      return *to;
    case Verdict::kBad:
      return Error::Conflict(V(*to) + " " + kReasonVersionIsBad + WhyBad(deployments, *to) + "; " +
                             kHintForceRollback);
    case Verdict::kUntested:
      return Error::Conflict(V(*to) + " " + kReasonVersionIsUntested + "; " + kHintForceRollback);
  }
  return *to;
}

Result<int> RollforwardTarget(const std::vector<Version>& versions, int running,
                              std::optional<int> to, bool force) {
  if (to) {
    const Version* target = Find(versions, *to);
    if (target == nullptr) return NoSuchVersion(versions, *to);
    if (*to == running) return *to;
    if (*to < running) {
      return Error::InvalidInput(V(*to) + " " + kReasonNotNewerThanRunning + " " +
                                 std::to_string(running) + "; use rollback --to " +
                                 std::to_string(*to));
    }
    if (target->verdict == Verdict::kBad && !force) {
      return Error::Conflict(V(*to) + " " + kReasonVersionIsBad + "; " + kHintForceRollforward);
    }
    return *to;
  }
  const Version* newest = nullptr;
  std::vector<int> bad;
  for (const Version& v : versions) {
    if (v.number <= running) continue;
    if (v.verdict == Verdict::kBad && !force) {
      bad.push_back(v.number);
      continue;
    }
    if (newest == nullptr || v.number > newest->number) newest = &v;
  }
  if (newest != nullptr) return newest->number;
  std::string nothing = kReasonNothingToRollForwardTo;
  if (bad.empty()) {
    if (running == 0) return Error::InvalidInput(nothing + ": there are no versions yet");
    return Error::InvalidInput(nothing + ": no version is newer than the running " + V(running));
  }
  std::sort(bad.begin(), bad.end());
  std::string list;
  for (int n : bad) list += (list.empty() ? "" : ", ") + std::to_string(n);
  return Error::Conflict(nothing + ": every newer version is bad (" + list +
                         "); use --to N --force to roll forward to one anyway");
}

int NextVersionNumber(const std::vector<Version>& versions) {
  int highest = 0;
  for (const Version& v : versions) highest = std::max(highest, v.number);
  return highest + 1;
}

std::string GeneratedDeploymentName(DeploymentKind kind, int version, int64_t seq) {
  return std::string(KindName(kind)) + "-" + std::to_string(version) + "-" + std::to_string(seq);
}

}  // namespace lastgood
