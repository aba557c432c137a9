// Slots: what each slot of an app runs, its traffic share, its sticky settings, a canary in
// it, a swap in preview — and the swap's switch, one transaction.
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

Status SqliteStore::SetSlot(const SlotRecord& slot) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(slot.app));
  // The weight is the traffic verb's to change: a deployment ending must not reset it.
  LG_RETURN_IF_ERROR(
      db_.Run("INSERT INTO slots (app, slot, version, weight, sticky_env) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT (app, slot) DO UPDATE SET version = excluded.version, "
              "sticky_env = excluded.sticky_env",
              slot.app, slot.slot, slot.version, slot.weight, slot.stickyEnv));
  return tx->Commit();
}

Result<std::vector<SlotRecord>> SqliteStore::ListSlots(const std::string& app) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  auto stmt = db_.Prepare(
      "SELECT app, slot, version, weight, sticky_env, canary_version, canary_weight, "
      "swap_pending FROM slots WHERE app = ? ORDER BY slot",
      app);
  if (!stmt.ok()) return stmt.error();
  std::vector<SlotRecord> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    SlotRecord r;
    r.app = stmt->Text(0);
    r.slot = stmt->Text(1);
    r.version = static_cast<int>(stmt->Int(2));
    r.weight = static_cast<int>(stmt->Int(3));
    r.stickyEnv = stmt->Text(4);
    r.canaryVersion = static_cast<int>(stmt->Int(5));
    r.canaryWeight = static_cast<int>(stmt->Int(6));
    r.swapPending = stmt->Text(7);
    out.push_back(std::move(r));
  }
}

namespace {

Status RequireChanged(Db& db, const std::string& app, const std::string& slot) {
  if (db.Changes() == 0) return Error::NotFound("no slot " + slot + " in " + app);
  return Status::Ok();
}

}  // namespace

Status SqliteStore::SetSlotWeight(const std::string& app, const std::string& slot, int weight) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE slots SET weight = ? WHERE app = ? AND slot = ?", weight, app, slot));
  LG_RETURN_IF_ERROR(RequireChanged(db_, app, slot));
  return tx->Commit();
}

Status SqliteStore::SetCanary(const std::string& app, const std::string& slot, int version,
                              int weight) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE slots SET canary_version = ?, canary_weight = ? WHERE app = ? AND slot = ?",
              version, weight, app, slot));
  LG_RETURN_IF_ERROR(RequireChanged(db_, app, slot));
  return tx->Commit();
}

Status SqliteStore::SetSwapPending(const std::string& app, const std::string& slot,
                                   const std::string& source) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE slots SET swap_pending = ? WHERE app = ? AND slot = ?", source, app, slot));
  LG_RETURN_IF_ERROR(RequireChanged(db_, app, slot));
  return tx->Commit();
}

Status SqliteStore::SwapSlots(const std::string& app, const std::string& source,
                              const std::string& target,
                              const std::vector<std::string>& kept_hosts) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto version_of = [&](const std::string& slot) -> Result<int64_t> {
    auto v = db_.QueryInt("SELECT version FROM slots WHERE app = ? AND slot = ?", app, slot);
    if (!v.ok()) return v.error();
    if (!*v) return Error::NotFound("no slot " + slot + " in " + app);
    return **v;
  };
  auto source_version = version_of(source);
  if (!source_version.ok()) return source_version.error();
  auto target_version = version_of(target);
  if (!target_version.ok()) return target_version.error();
  LG_RETURN_IF_ERROR(db_.Run("UPDATE slots SET version = ? WHERE app = ? AND slot = ?",
                             *target_version, app, source));
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE slots SET version = ?, swap_pending = '', canary_version = 0, "
              "canary_weight = 0 WHERE app = ? AND slot = ?",
              *source_version, app, target));
  // Three-way exchange through a name no slot can have (names are plain: no '#').
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE instances SET slot = '#swap' WHERE app = ? AND slot = ?", app, source));
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE instances SET slot = ? WHERE app = ? AND slot = ?", source, app, target));
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE instances SET slot = ? WHERE app = ? AND slot = '#swap'", target, app));
  // A kept host's instances are exchanged back, in the same transaction: no reader sees them
  // moved.
  for (const auto& host : kept_hosts) {
    LG_RETURN_IF_ERROR(
        db_.Run("UPDATE instances SET slot = '#swap' WHERE app = ? AND slot = ? AND host = ?", app,
                source, host));
    LG_RETURN_IF_ERROR(
        db_.Run("UPDATE instances SET slot = ? WHERE app = ? AND slot = ? AND host = ?", source,
                app, target, host));
    LG_RETURN_IF_ERROR(
        db_.Run("UPDATE instances SET slot = ? WHERE app = ? AND slot = '#swap' AND host = ?",
                target, app, host));
  }
  return tx->Commit();
}

}  // namespace lastgood::sqlite
