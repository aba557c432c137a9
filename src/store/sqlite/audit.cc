// SqliteStore: the append-only audit. The schema's triggers refuse to edit a row (but let
// its count grow) and to delete one younger than the cutoff PruneAudit records.
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

namespace {

constexpr const char* kInsert =
    "INSERT INTO audit (at, actor, \"from\", action, app, status, message, count, last_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

}  // namespace

Result<int64_t> SqliteStore::AppendAudit(const AuditEntry& e) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run(kInsert, e.at, e.actor, e.from, e.action, e.app, e.status, e.message,
                             e.count, e.lastAt));
  int64_t id = db_.LastInsertRowid();
  LG_RETURN_IF_ERROR(tx->Commit());
  return id;
}

Status SqliteStore::SetAuditCount(int64_t id, int64_t count, int64_t last_at) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto s = db_.Prepare("SELECT count FROM audit WHERE id = ?", id);
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  if (!*row) return Error::NotFound("no audit row " + std::to_string(id));
  if (s->Int(0) > count) {
    return Error::InvalidInput("an audit row's count only grows (row " + std::to_string(id) +
                               " counts " + std::to_string(s->Int(0)) + ")");
  }
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE audit SET count = ?, last_at = ? WHERE id = ?", count, last_at, id));
  return tx->Commit();
}

Result<int> SqliteStore::PruneAudit(int64_t before, const AuditEntry& e) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("INSERT INTO audit_pruned (cutoff) VALUES (?)", before));
  LG_RETURN_IF_ERROR(db_.Run("DELETE FROM audit WHERE at < ?", before));
  int deleted = db_.Changes();
  if (deleted == 0) return 0;  // nothing to say: the transaction rolls back, no row is added
  LG_RETURN_IF_ERROR(db_.Run(kInsert, e.at, e.actor, e.from, e.action, e.app, e.status,
                             e.message + ": " + std::to_string(deleted) + " rows", e.count,
                             e.lastAt));
  LG_RETURN_IF_ERROR(tx->Commit());
  return deleted;
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(const std::string& app, int limit) {
  std::lock_guard lock(mu_);
  constexpr const char* kColumns =
      "SELECT id, at, actor, \"from\", action, app, status, message, count, last_at FROM audit ";
  int64_t cap = limit > 0 ? limit : -1;  // LIMIT -1: no limit
  auto s =
      app.empty()
          ? db_.Prepare(std::string(kColumns) + "ORDER BY id DESC LIMIT ?", cap)
          : db_.Prepare(std::string(kColumns) + "WHERE app = ? ORDER BY id DESC LIMIT ?", app, cap);
  if (!s.ok()) return s.error();
  std::vector<AuditEntry> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    out.push_back(AuditEntry{s->Int(0), s->Int(1), s->Text(2), s->Text(3), s->Text(4), s->Text(5),
                             static_cast<int>(s->Int(6)), s->Text(7), s->Int(8), s->Int(9)});
  }
}

}  // namespace lastgood::sqlite
