// The SQLite store's schema and its migrations. The schema version lives in the file's
// header (PRAGMA user_version); each migration step moves it up by one, in its own
// transaction, so a crash mid-migration leaves the store at the previous version, intact.
// A file stamped with another application's id, or a database that has tables but no
// lastgood stamp, or one from a newer lastgood, is refused before anything is written.
#pragma once

#include <string>

#include "base/result.h"
#include "store/sqlite/db.h"

namespace lastgood::sqlite {

// PRAGMA application_id of a lastgood store: "LGOD".
inline constexpr int kApplicationId = 0x4C474F44;

// The schema version this binary writes: the number of migration steps it knows.
int CurrentSchemaVersion();

// Opens the store at `path` for use: checks it is ours and not newer, then WAL journal,
// synchronous=FULL, foreign keys on, a busy timeout, and migrates to CurrentSchemaVersion().
// Errors: Unavailable (cannot open, not a lastgood store, newer schema, busy).
Result<Db> OpenAndMigrate(const std::string& path);

}  // namespace lastgood::sqlite
