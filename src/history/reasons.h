// Reasons and messages recorded on deployments and shown by the CLI, in one place so that
// records, events, the CLI and tests use the same words (STYLE.md rule 9).
#pragma once

namespace lastgood {

inline constexpr const char* kReasonRolledBackTo = "rolled back to version";  // + " N"
inline constexpr const char* kReasonAutoRollback = "automatic rollback after deployment";
inline constexpr const char* kReasonCanceledByRollback = "canceled by a rollback";
inline constexpr const char* kReasonControllerRestarted =
    "the controller restarted during this step";
inline constexpr const char* kReasonProgressDeadline = "progress deadline exceeded";
inline constexpr const char* kReasonInstanceExited = "instance exited";
inline constexpr const char* kReasonNothingToRollBackTo =
    "nothing to roll back to: no other version of this slot has succeeded";
inline constexpr const char* kReasonAlreadyRunning = "already running";
inline constexpr const char* kReasonAbortedBy = "aborted by";          // + " ACTOR"
inline constexpr const char* kReasonPromotedFrom = "promoted from v";  // + "N"
inline constexpr const char* kReasonAutoSwapAfter = "autoSwap after";  // + " NAME: " + the swap's
// A slot's autoSwap that its checks refused (a fleet host unreachable, one lacking a slot):
// the succeeded deployment's reason says so ("autoSwap into production refused: …").
inline constexpr const char* kReasonAutoSwapRefused = "autoSwap into production refused";
inline constexpr const char* kReasonSwapBackOf = "swap back of";  // + " NAME: SLOT returns to vN"
inline constexpr const char* kReasonManifestNoLongerParses = "no longer parses";
// A deployment whose record could not be written ends with this reason (+ ": " and the
// store's error) once the store answers again; its version keeps its verdict.
inline constexpr const char* kReasonStoreFailed = "the store failed to record this deployment";
// An analysis that failed the canary, and one that reached no verdict in its time limit (the
// sequential judge says which; docs/behaviour.md).
inline constexpr const char* kReasonAnalysisFailed = "analysis failed";
inline constexpr const char* kReasonAnalysisUndecided = "analysis undecided";
// Fleets (docs/fleets.md): "3 of 5 hosts failed (maxFailedHosts 1): h2: …; h4: …".
inline constexpr const char* kReasonHostsFailed = "failed";
// A reconcile: "host h3 was unreachable and runs v2; production runs v3".
inline constexpr const char* kReasonReconcileHost = "host";

// Fragments of the refusals in rules.h; the full messages read e.g.
// "version 9 of web does not exist (versions 1-4)",
// "version 3 is bad (its deployment deploy-3-7 failed); use --force to roll back to it anyway",
// "version 2 is not newer than the running version 3; use rollback --to 2".
inline constexpr const char* kReasonNoSuchVersion = "does not exist";
inline constexpr const char* kReasonVersionIsBad = "is bad";
inline constexpr const char* kReasonVersionIsUntested =
    "is untested (no deployment of it has succeeded)";
inline constexpr const char* kReasonNotNewerThanRunning = "is not newer than the running version";
inline constexpr const char* kReasonNothingToRollForwardTo = "nothing to roll forward to";
inline constexpr const char* kHintForceRollback = "use --force to roll back to it anyway";
inline constexpr const char* kHintForceRollforward = "use --force to roll forward to it anyway";

// Refusals of the store (store/store.h).
inline constexpr const char* kReasonDeploymentRunning = "has a running deployment";
inline constexpr const char* kReasonDeploymentNameTaken = "is already taken";
inline constexpr const char* kReasonDeploymentEnded = "has ended; its record cannot change";
inline constexpr const char* kReasonNoSuchApp = "no app named";

}  // namespace lastgood
