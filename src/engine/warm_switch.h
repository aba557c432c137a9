// WarmSwitch: a return to a version whose instances still run out of the routing table
// (keepPrevious), as the instance records that make it — `count` of its warm instances
// ready, and the slot's live instances of other versions out of the table: kept warm until
// `keep_until` when they are ready instances of `keep_version` (the version being left, if
// it is kept), else marked to be stopped (warm, expired). Written in one transaction and
// followed by one table change, the traffic moves at once; the rest (stopping what is not
// kept, the bake) can wait.
//
// Used by a rollback's start (engine.cc), which commits it with the deployment's record and
// pushes the table before anything else, and by the takeWarm step (steps/take_warm.cc),
// which does it when the start could not, or after a crash. Reads only; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"

namespace lastgood {

// nullopt: fewer than `count` instances of `version` are ready, or warm and alive — they
// must be started as any start is. An empty list: the switch is done already.
Result<std::optional<std::vector<InstanceRecord>>> WarmSwitch(const EngineDeps& deps,
                                                              const std::string& app,
                                                              const std::string& slot, int version,
                                                              int count, int keep_version,
                                                              int64_t keep_until);

}  // namespace lastgood
