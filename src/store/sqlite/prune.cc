// SqliteStore: the retention policy's deletions (history.keep). The choice of what to delete
// is history/retention.h's; this only deletes, all or nothing.
#include "history/figures.h"
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
    // What the record added to the metrics stays counted (history/figures.h).
    auto records = QueryDeployments(true, "WHERE app = ? AND name = ?", app, name);
    if (!records.ok()) return records.error();
    for (const auto& d : *records) {
      for (const auto& [series, value] : FiguresOf(d)) {
        LG_RETURN_IF_ERROR(
            db_.Run("INSERT INTO pruned_figures (series, value) VALUES (?, ?) "
                    "ON CONFLICT (series) DO UPDATE SET value = value + excluded.value",
                    series, value));
      }
    }
    // Operations and intents go with the record (ON DELETE CASCADE).
    LG_RETURN_IF_ERROR(db_.Run("DELETE FROM deployments WHERE app = ? AND name = ?", app, name));
    deleted += db_.Changes();
  }
  LG_RETURN_IF_ERROR(tx->Commit());
  return deleted;
}

Result<std::map<std::string, double>> SqliteStore::PrunedFigures() {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  auto stmt = db_.Prepare("SELECT series, value FROM pruned_figures");
  if (!stmt.ok()) return stmt.error();
  std::map<std::string, double> figures;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    figures[stmt->Text(0)] = stmt->Double(1);
  }
  return figures;
}

}  // namespace lastgood::sqlite
