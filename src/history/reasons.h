// Reasons and messages recorded on deployments and shown by the CLI, in one place so that
// records, events, the CLI and tests use the same words (STYLE.md rule 9).
#pragma once

namespace lastgood {

inline constexpr const char* kReasonRolledBackTo = "rolled back to version";  // + " N"
inline constexpr const char* kReasonAutoRollback = "automatic rollback after deployment";
inline constexpr const char* kReasonCanceledByRollback = "canceled by a rollback";
inline constexpr const char* kReasonControllerRestarted = "the controller restarted during this step";
inline constexpr const char* kReasonProgressDeadline = "progress deadline exceeded";
inline constexpr const char* kReasonInstanceExited = "instance exited";
inline constexpr const char* kReasonNothingToRollBackTo =
    "nothing to roll back to: no other version of this slot has succeeded";
inline constexpr const char* kReasonAlreadyRunning = "already running";

}  // namespace lastgood
