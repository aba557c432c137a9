// The domain rules of the release history, as pure functions (DESIGN.md sections 2 and 4).
// They take records and return decisions; no I/O. Messages come from history/reasons.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "history/model.h"

namespace lastgood {

// The verdict a deployment's end gives its version: Succeeded → good (whatever its kind: a
// rollback that succeeds makes the version it went to good again) — except a reconcile, which
// changes no verdict (one fleet host caught up with its slot); Failed or RolledBack
// (rolled back automatically, or aborted by the user) → bad; Canceled (what a manual
// rollback does to the deployment it interrupts) and Running → nullopt, as it was.
std::optional<Verdict> VerdictAfter(const Deployment& ended);

// Last good — the version of the most recent Succeeded deployment of a slot whose version
// is not the one being left and is not bad — is one query of the store (Store::LastGood),
// so that every caller gets the same answer whatever the length of the history.

// The version a rollback goes to. `to` is --to (nullopt: `last_good`, Store::LastGood);
// `running` is the version the slot runs now (0: none); `deployments` (any order, may be
// few) only explain a refusal ("its deployment deploy-3-7 failed"). Errors: NotFound if `to`
// is not a version; InvalidInput kReasonNothingToRollBackTo when there is no last good;
// Conflict when `to` is bad or untested and !force (DESIGN: --to must be good). Returns
// `running` itself when that is `to` (a no-op).
Result<int> RollbackTarget(const std::vector<Version>& versions,
                           const std::vector<Deployment>& deployments, std::optional<int> last_good,
                           int running, std::optional<int> to, bool force);

// The version a rollforward goes to: `to`, or the newest version newer than `running` that
// is not bad (unless force, then simply the newest); untested versions are fine (a fix is
// untested). Errors: NotFound if `to` is not a version; InvalidInput if `to` is older than
// `running`, or nothing is newer; Conflict if the target is bad and !force. Returns
// `running` itself when that is `to` (a no-op).
Result<int> RollforwardTarget(const std::vector<Version>& versions, int running,
                              std::optional<int> to, bool force);

// The next version number for an app whose versions are `versions`.
int NextVersionNumber(const std::vector<Version>& versions);

// A generated deployment name: "<kind>-<version>-<seq>" e.g. "deploy-3-17", unique since
// `seq` is the store's next deployment id.
std::string GeneratedDeploymentName(DeploymentKind kind, int version, int64_t seq);

}  // namespace lastgood
