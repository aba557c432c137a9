// The retention policy (`history: { keep: N }`, issue 5 item 2) as a pure function: which
// ended deployment records of an app may be deleted. It never chooses
//   - a Running record;
//   - a record of a version that a slot runs now;
//   - a slot's last good deployment: the newest Succeeded record of each slot, and the
//     newest Succeeded record of its last good version (Store::LastGood);
// so a rollback works the same after pruning as before. Verdicts live on the versions,
// which are never pruned, so a bad version stays bad. Artifacts belong to versions and are
// therefore never orphaned by pruning records.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "history/model.h"

namespace lastgood {

// What a slot runs now (0: nothing), and the version a rollback of it would go to.
struct SlotRunning {
  std::string slot;
  int version = 0;
  std::optional<int> lastGood;  // Store::LastGood(app, slot, version)
};

// The names of the records to delete, oldest first: the oldest unprotected ended records
// beyond the newest `keep` ended ones. `keep` <= 0 keeps everything. `deployments` are all
// of one app's records in any order (operations not needed).
std::vector<std::string> RecordsToPrune(const std::vector<Deployment>& deployments,
                                        const std::vector<SlotRunning>& slots, int keep);

}  // namespace lastgood
