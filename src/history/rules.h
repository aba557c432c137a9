// The domain rules of the release history, as pure functions (DESIGN.md sections 2 and 4).
// They take records and return decisions; no I/O. Messages come from history/reasons.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "history/model.h"

namespace lastgood {

// The verdict a deployment's end gives its version: Succeeded → good; Failed, or rolled
// back automatically, or aborted → bad; a manual rollback or a cancel leaves it as it was
// (returns nullopt).
std::optional<Verdict> VerdictAfter(const Deployment& ended);

// Last good: the version of the most recent Succeeded deployment of `slot` whose version
// is not `leaving`. `deployments` may be in any order and may hold other slots' records.
std::optional<int> LastGood(const std::vector<Deployment>& deployments, const std::string& slot,
                            int leaving);

// The version a rollback goes to. `to` is --to (nullopt: last good); `running` is the
// version the slot runs now (0: none). Errors: NotFound if `to` is not a version;
// InvalidInput "nothing to roll back to" when there is no last good; Conflict when `to`
// is bad and !force. Returns `running` itself when that is the target (a no-op).
Result<int> RollbackTarget(const std::vector<Version>& versions,
                           const std::vector<Deployment>& deployments, const std::string& slot,
                           int running, std::optional<int> to, bool force);

// The version a rollforward goes to: `to`, or the newest version newer than `running` that
// is not bad (unless force, then simply the newest). Refuses a version not newer than
// `running`, and a bad one without force.
Result<int> RollforwardTarget(const std::vector<Version>& versions, int running,
                              std::optional<int> to, bool force);

// The next version number for an app whose versions are `versions`.
int NextVersionNumber(const std::vector<Version>& versions);

// A generated deployment name: "<kind>-<version>-<seq>" e.g. "deploy-3-17", unique since
// `seq` is the store's next deployment id.
std::string GeneratedDeploymentName(DeploymentKind kind, int version, int64_t seq);

}  // namespace lastgood
