// Backup and restore of the store file (issue 5): one consistent snapshot, checked before it
// is trusted. Both work on the file directly, not through the controller: a backup may be
// taken while a controller runs (SQLite's online backup reads a consistent snapshot); a
// restore needs the controller stopped (the caller holds the home's controller lock).
#pragma once

#include <string>

#include "base/result.h"

namespace lastgood {

// Writes a snapshot of the store at `db_path` to `file` (which must not exist), then checks
// the copy's integrity. InvalidInput if `file` exists; Unavailable if the store cannot be read.
Status BackupStore(const std::string& db_path, const std::string& file);

// Replaces the store at `db_path` with the snapshot in `file`, after checking that `file` is
// an intact lastgood store that this binary can open (not from a newer schema). The store it
// replaces is kept beside it as "<db_path>.before-restore.<epoch seconds>". Nothing changes
// when the check fails. REQUIRES: no controller runs on this store.
Status RestoreStore(const std::string& file, const std::string& db_path);

}  // namespace lastgood
