// SqliteStore: the secrets table. Values arrive sealed (secrets/sealing.h); this file never
// sees one in clear.
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

namespace {

constexpr const char* kSecretColumns = "app, name, sealed, set_at, set_by";

SecretRecord ReadSecret(const Statement& s) {
  return SecretRecord{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Text(4)};
}

}  // namespace

Status SqliteStore::PutSecret(const SecretRecord& r, int max_per_app) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto others =
      db_.QueryInt("SELECT count(*) FROM secrets WHERE app = ? AND name != ?", r.app, r.name);
  if (!others.ok()) return others.error();
  if (others->value_or(0) >= max_per_app) {
    return Error::Conflict(r.app + " has " + std::to_string(max_per_app) +
                           " secrets, the most an app may have; remove one first");
  }
  LG_RETURN_IF_ERROR(db_.Run(std::string("INSERT INTO secrets (") + kSecretColumns +
                                 ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (app, name) DO UPDATE SET "
                                 "sealed = excluded.sealed, set_at = excluded.set_at, "
                                 "set_by = excluded.set_by",
                             r.app, r.name, r.sealed, r.setAt, r.setBy));
  return tx->Commit();
}

Result<std::vector<SecretRecord>> SqliteStore::ListSecrets(const std::string& app) {
  std::lock_guard lock(mu_);
  auto s = db_.Prepare(
      std::string("SELECT ") + kSecretColumns + " FROM secrets WHERE app = ? ORDER BY name", app);
  if (!s.ok()) return s.error();
  std::vector<SecretRecord> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    out.push_back(ReadSecret(*s));
  }
}

Result<int64_t> SqliteStore::CountSecrets() {
  std::lock_guard lock(mu_);
  auto n = db_.QueryInt("SELECT count(*) FROM secrets");
  if (!n.ok()) return n.error();
  return static_cast<int64_t>(n->value_or(0));
}

Result<std::optional<SecretRecord>> SqliteStore::GetSecret(const std::string& app,
                                                           const std::string& name) {
  std::lock_guard lock(mu_);
  auto s = db_.Prepare(
      std::string("SELECT ") + kSecretColumns + " FROM secrets WHERE app = ? AND name = ?", app,
      name);
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<SecretRecord>();
  return std::optional<SecretRecord>(ReadSecret(*s));
}

Status SqliteStore::DeleteSecret(const std::string& app, const std::string& name) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("DELETE FROM secrets WHERE app = ? AND name = ?", app, name));
  if (db_.Changes() == 0) return Error::NotFound("no secret " + name + " of " + app);
  return tx->Commit();
}

}  // namespace lastgood::sqlite
