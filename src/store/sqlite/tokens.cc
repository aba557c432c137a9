// SqliteStore: the tokens of the TCP API. Only hashes are stored (auth/auth.h).
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

namespace {

constexpr const char* kTokenColumns =
    "name, role, hash, created_at, last_used_at, revoked_at, expires_at";

TokenRecord ReadToken(const Statement& s) {
  return TokenRecord{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Int(5), s.Int(6)};
}

}  // namespace

Status SqliteStore::CreateToken(const TokenRecord& t) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  // A revoked or expired token's name may be reused; a valid one's may not.
  LG_RETURN_IF_ERROR(
      db_.Run(std::string("INSERT INTO tokens (") + kTokenColumns +
                  ") VALUES (?, ?, ?, ?, 0, 0, ?) ON CONFLICT (name) DO UPDATE SET "
                  "role = excluded.role, hash = excluded.hash, created_at = excluded.created_at, "
                  "last_used_at = 0, revoked_at = 0, expires_at = excluded.expires_at "
                  "WHERE tokens.revoked_at != 0 OR "
                  "(tokens.expires_at != 0 AND tokens.expires_at <= excluded.created_at)",
              t.name, t.role, t.hash, t.createdAt, t.expiresAt));
  if (db_.Changes() == 0) {
    return Error::Conflict("a valid token named " + t.name +
                           " exists; revoke it first or choose another name");
  }
  return tx->Commit();
}

Result<std::vector<TokenRecord>> SqliteStore::ListTokens() {
  std::lock_guard lock(mu_);
  auto s = db_.Prepare(std::string("SELECT ") + kTokenColumns + " FROM tokens ORDER BY name");
  if (!s.ok()) return s.error();
  std::vector<TokenRecord> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    out.push_back(ReadToken(*s));
  }
}

Result<std::optional<TokenRecord>> SqliteStore::FindToken(const std::string& hash) {
  std::lock_guard lock(mu_);
  auto s =
      db_.Prepare(std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE hash = ?", hash);
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(ReadToken(*s));
}

Status SqliteStore::TouchToken(const std::string& name, int64_t now) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("UPDATE tokens SET last_used_at = ? WHERE name = ?", now, name));
  return tx->Commit();
}

Status SqliteStore::RevokeToken(const std::string& name, int64_t now) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at = 0", now, name));
  if (db_.Changes() == 0) return Error::NotFound("no valid token named " + name);
  return tx->Commit();
}

}  // namespace lastgood::sqlite
