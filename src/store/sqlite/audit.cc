// SqliteStore: the append-only audit. The schema's triggers refuse UPDATE and DELETE.
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

Result<int64_t> SqliteStore::AppendAudit(const AuditEntry& e) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("INSERT INTO audit (at, actor, \"from\", action, app, status, message) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)",
              e.at, e.actor, e.from, e.action, e.app, e.status, e.message));
  int64_t id = db_.LastInsertRowid();
  LG_RETURN_IF_ERROR(tx->Commit());
  return id;
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(const std::string& app, int limit) {
  std::lock_guard lock(mu_);
  constexpr const char* kColumns =
      "SELECT id, at, actor, \"from\", action, app, status, message FROM audit ";
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
                             static_cast<int>(s->Int(6)), s->Text(7)});
  }
}

}  // namespace lastgood::sqlite
