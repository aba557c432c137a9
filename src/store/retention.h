// Applying the retention policy to a store: reads the app's records and slots, asks
// history/retention.h which records may go, and deletes them in one transaction. The engine
// calls it when a deployment of an app ends, with the app's `history.keep`.
#pragma once

#include <string>

#include "base/result.h"
#include "store/store.h"

namespace lastgood {

// Returns how many records were deleted (0 when keep <= 0 or within it; that check reads
// only the newest keep + 1 records, so calling it often is cheap). A deployment that
// starts between the read and the delete is Running and so never deleted (the store
// refuses, and the next call tries again).
Result<int> ApplyRetention(Store& store, const std::string& app, int keep);

}  // namespace lastgood
