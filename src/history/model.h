// The release history as values: versions, deployments and their operations (DESIGN.md
// section 2). This module knows no store and no I/O; it defines the records and the pure
// rules over them (rules.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/names.h"  // kProductionSlot

namespace lastgood {

enum class Verdict { kUntested, kGood, kBad };

struct Version {
  std::string app;
  int number = 0;           // 1, 2, 3… per app, append-only
  std::string manifest;     // canonical YAML (manifest/canonical.h)
  std::string digest;       // "sha256:<hex>" of the artifact, or "" without one
  std::string contentHash;  // "sha256:<hex>" over manifest + digest; equal content ⇔ equal hash
  std::string params;       // resolved parameters as a JSON object, for the record
  int64_t createdAt = 0;    // epoch millis
  std::optional<int> promotedFrom;
  Verdict verdict = Verdict::kUntested;
};

// kReconcile: a fleet host that was unreachable brought to its slot's version, on that host
// only (docs/fleets.md); it changes no version's verdict.
enum class DeploymentKind { kDeploy, kRollback, kRollforward, kPromote, kSwap, kReconcile };

// What a deployment that fails returns to (the manifest's rollback.onError, apply's
// --rollback-on-error): the last good version, nothing, or the version of a named
// Succeeded deployment (ARM's --rollback-on-error NAME).
struct RollbackOnError {
  enum class Kind { kLastSuccessful, kNone, kDeployment };
  Kind kind = Kind::kLastSuccessful;
  std::string deployment;  // kDeployment: its name

  static RollbackOnError LastSuccessful() { return {}; }
  static RollbackOnError None() { return {Kind::kNone, ""}; }
  // "lastSuccessful" (or ""), "none", or a deployment's name.
  static RollbackOnError Parse(const std::string& text);
  std::string ToString() const;
  bool operator==(const RollbackOnError&) const = default;
};
enum class DeploymentState { kRunning, kSucceeded, kFailed, kRolledBack, kCanceled };
enum class Trigger { kUser, kAuto };
enum class OperationState { kPending, kRunning, kSucceeded, kFailed, kCanceled, kSkipped };

struct Operation {
  int index = 0;     // position in the plan, from 0
  std::string step;  // the step as planned, human-readable ("start 1 instance of v3")
  std::string spec;  // the step's machine form (JSON), so a restart can re-run it
  OperationState state = OperationState::kPending;
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
  std::string detail;  // what happened: timings, the instance, the probe's last result
  // The fleet host the operation acts on; "" for a step of the whole deployment (a wave's
  // gate, the finish) and for every step of a deployment to the controller's own machine.
  std::string host{};
};

struct Deployment {
  std::string app;
  std::string name;  // unique per app
  int64_t id = 0;    // store-assigned, increasing in creation order
  int version = 0;
  std::string slot = kProductionSlot;
  DeploymentKind kind = DeploymentKind::kDeploy;
  std::string strategy;  // "recreate", "rolling", …
  Trigger trigger = Trigger::kUser;
  std::string actor;  // "local:root", a token name, or "lastgood" for auto
  DeploymentState state = DeploymentState::kRunning;
  std::string reason;
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
  int fromVersion = 0;  // what the slot ran before (0: nothing)
  RollbackOnError rollbackOnError;
  int cursor = 0;  // index of the current operation
  std::vector<Operation> operations;
};

// Where an instance is in its life, as the record of the controller knows it.
enum class InstanceState {
  kStarting,  // started, not yet ready: out of the routing table
  kReady,     // passed its readiness probe: in the routing table
  kDraining,  // out of the table, stopping once its requests in flight are done
  kWarm,      // out of the table but kept running (keepPrevious): a rollback is a table change
};

// What a user asks of a running deployment (STYLE.md rule 8): the API commits it, the
// deployment's executor carries it out at its next check point. One per deployment.
enum class IntentKind {
  kPause,   // hold before the next step
  kResume,  // go on after a pause (the user's, or a pause step)
  kAbort,   // stop and roll back to the last good version; the release is marked bad
  kCancel,  // a rollback preempts the deployment
};
struct Intent {
  IntentKind kind = IntentKind::kPause;
  std::string actor;  // who asked: "local:root", a token's name
  bool operator==(const Intent&) const = default;
};

const char* VerdictName(Verdict v);                // "untested" | "good" | "bad"
const char* KindName(DeploymentKind k);            // "deploy" | "rollback" | …
const char* StateName(DeploymentState s);          // "Running" | "Succeeded" | …
const char* TriggerName(Trigger t);                // "user" | "auto"
const char* OperationStateName(OperationState s);  // "Pending" | "Running" | …
const char* InstanceStateName(InstanceState s);    // "starting" | "ready" | "draining" | "warm"
const char* IntentName(IntentKind k);              // "pause" | "resume" | "abort" | "cancel"
std::optional<Verdict> ParseVerdict(const std::string& s);
std::optional<IntentKind> ParseIntent(const std::string& s);
std::optional<InstanceState> ParseInstanceState(const std::string& s);
std::optional<DeploymentKind> ParseKind(const std::string& s);
std::optional<DeploymentState> ParseState(const std::string& s);
std::optional<Trigger> ParseTrigger(const std::string& s);
std::optional<OperationState> ParseOperationState(const std::string& s);

inline bool IsFinal(DeploymentState s) { return s != DeploymentState::kRunning; }

}  // namespace lastgood
