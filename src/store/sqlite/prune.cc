// SqliteStore: the retention policy's deletions (history.keep). The choice of what to delete
// is history/retention.h's; this only deletes, all or nothing.
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

Result<int> SqliteStore::PruneDeployments(const std::string& app,
                                          const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  int deleted = 0;
  for (const std::string& name : names) {
    auto running = db_.QueryInt(
        "SELECT 1 FROM deployments WHERE app = ? AND name = ? AND state = 'Running'", app, name);
    if (!running.ok()) return running.error();
    if (*running) {
      return Error::Conflict("deployment " + name + " of " + app +
                             " is running; a running deployment is never pruned");
    }
    // Operations and intents go with the record (ON DELETE CASCADE).
    LG_RETURN_IF_ERROR(db_.Run("DELETE FROM deployments WHERE app = ? AND name = ?", app, name));
    deleted += db_.Changes();
  }
  LG_RETURN_IF_ERROR(tx->Commit());
  return deleted;
}

}  // namespace lastgood::sqlite
