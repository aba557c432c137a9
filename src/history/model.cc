#include "history/model.h"

#include <array>
#include <utility>

namespace lastgood {

namespace {

// Each enum's names in declaration order: the strings the store and the JSON output use.
constexpr std::array<const char*, 3> kVerdictNames = {"untested", "good", "bad"};
constexpr std::array<const char*, 6> kKindNames = {"deploy",  "rollback", "rollforward",
                                                   "promote", "swap",     "reconcile"};
constexpr std::array<const char*, 5> kStateNames = {"Running", "Succeeded", "Failed", "RolledBack",
                                                    "Canceled"};
constexpr std::array<const char*, 2> kTriggerNames = {"user", "auto"};
constexpr std::array<const char*, 4> kInstanceStateNames = {"starting", "ready", "draining",
                                                            "warm"};
constexpr std::array<const char*, 4> kIntentNames = {"pause", "resume", "abort", "cancel"};
constexpr std::array<const char*, 6> kOperationStateNames = {"Pending", "Running",  "Succeeded",
                                                             "Failed",  "Canceled", "Skipped"};

template <typename Enum, size_t N>
const char* NameOf(const std::array<const char*, N>& names, Enum e) {
  auto i = static_cast<size_t>(e);
  return i < N ? names[i] : "unknown";
}

template <typename Enum, size_t N>
std::optional<Enum> Parse(const std::array<const char*, N>& names, const std::string& s) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

const char* VerdictName(Verdict v) { return NameOf(kVerdictNames, v); }
const char* KindName(DeploymentKind k) { return NameOf(kKindNames, k); }
const char* StateName(DeploymentState s) { return NameOf(kStateNames, s); }
const char* TriggerName(Trigger t) { return NameOf(kTriggerNames, t); }
const char* IntentName(IntentKind k) { return NameOf(kIntentNames, k); }
const char* InstanceStateName(InstanceState s) { return NameOf(kInstanceStateNames, s); }
const char* OperationStateName(OperationState s) { return NameOf(kOperationStateNames, s); }

std::optional<Verdict> ParseVerdict(const std::string& s) {
  return Parse<Verdict>(kVerdictNames, s);
}
std::optional<DeploymentKind> ParseKind(const std::string& s) {
  return Parse<DeploymentKind>(kKindNames, s);
}
std::optional<DeploymentState> ParseState(const std::string& s) {
  return Parse<DeploymentState>(kStateNames, s);
}
std::optional<InstanceState> ParseInstanceState(const std::string& s) {
  return Parse<InstanceState>(kInstanceStateNames, s);
}
std::optional<IntentKind> ParseIntent(const std::string& s) {
  return Parse<IntentKind>(kIntentNames, s);
}
std::optional<Trigger> ParseTrigger(const std::string& s) {
  return Parse<Trigger>(kTriggerNames, s);
}
std::optional<OperationState> ParseOperationState(const std::string& s) {
  return Parse<OperationState>(kOperationStateNames, s);
}

RollbackOnError RollbackOnError::Parse(const std::string& text) {
  if (text.empty() || text == "lastSuccessful") return LastSuccessful();
  if (text == "none") return None();
  return {Kind::kDeployment, text};
}

std::string RollbackOnError::ToString() const {
  switch (kind) {
    case Kind::kLastSuccessful:
      return "lastSuccessful";
    case Kind::kNone:
      return "none";
    case Kind::kDeployment:
      return deployment;
  }
  return "lastSuccessful";
}

}  // namespace lastgood
