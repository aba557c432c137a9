#include "store/sqlite/sqlite_store.h"

#include "history/reasons.h"
#include "store/sqlite/schema.h"

namespace lastgood {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto db = sqlite::OpenAndMigrate(path);
  if (!db.ok()) return db.error();
  return std::unique_ptr<Store>(new sqlite::SqliteStore(std::move(*db), path));
}

namespace sqlite {

namespace {

constexpr const char* kVersionColumns =
    "app, number, manifest, digest, content_hash, params, created_at, promoted_from, verdict";

Result<Version> ReadVersion(const Statement& s) {
  Version v;
  v.app = s.Text(0);
  v.number = static_cast<int>(s.Int(1));
  v.manifest = s.Text(2);
  v.digest = s.Text(3);
  v.contentHash = s.Text(4);
  v.params = s.Text(5);
  v.createdAt = s.Int(6);
  if (!s.IsNull(7)) v.promotedFrom = static_cast<int>(s.Int(7));
  auto verdict = ParseVerdict(s.Text(8));
  if (!verdict) {
    return Error::Internal("version " + std::to_string(v.number) + " of " + v.app +
                           " has an unknown verdict '" + s.Text(8) + "' in the store");
  }
  v.verdict = *verdict;
  return v;
}

constexpr const char* kInstanceColumns =
    "id, app, slot, version, pid, start_time, port, state, created_at, warm_until, settings, host";

Result<InstanceRecord> ReadInstance(const Statement& s) {
  InstanceRecord r;
  r.id = s.Text(0);
  r.app = s.Text(1);
  r.slot = s.Text(2);
  r.version = static_cast<int>(s.Int(3));
  r.pid = static_cast<int>(s.Int(4));
  r.startTime = static_cast<uint64_t>(s.Int(5));
  r.port = static_cast<int>(s.Int(6));
  auto state = ParseInstanceState(s.Text(7));
  if (!state) return Error::Internal("stored instance state is not valid: " + s.Text(7));
  r.state = *state;
  r.createdAt = s.Int(8);
  r.warmUntil = s.Int(9);
  r.settings = s.Text(10);
  r.host = s.Text(11);
  return r;
}

// Collects every row of `stmt` through `read`, which returns a T or a Result<T>.
template <typename T, typename Read>
Result<std::vector<T>> Collect(Result<Statement> stmt, Read read) {
  if (!stmt.ok()) return stmt.error();
  std::vector<T> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    Result<T> item = read(*stmt);
    if (!item.ok()) return item.error();
    out.push_back(std::move(*item));
  }
}

}  // namespace

Status SqliteStore::RequireApp(const std::string& app) {
  auto found = db_.QueryInt("SELECT 1 FROM apps WHERE name = ?", app);
  if (!found.ok()) return found.error();
  if (!*found) return Error::NotFound(std::string(kReasonNoSuchApp) + " " + app);
  return Status::Ok();
}

Status SqliteStore::CreateApp(const std::string& app, int64_t now) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run(
      "INSERT INTO apps (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", app, now));
  return tx->Commit();
}

Result<std::vector<AppRecord>> SqliteStore::ListApps() {
  std::lock_guard lock(mu_);
  return Collect<AppRecord>(db_.Prepare("SELECT name, created_at FROM apps ORDER BY name"),
                            [](const Statement& s) {
                              return AppRecord{s.Text(0), s.Int(1)};
                            });
}

Result<int> SqliteStore::AddVersion(const Version& v) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(v.app));
  auto next =
      db_.QueryInt("SELECT coalesce(max(number), 0) + 1 FROM versions WHERE app = ?", v.app);
  if (!next.ok()) return next.error();
  int number = static_cast<int>(next->value_or(1));
  if (v.promotedFrom && (*v.promotedFrom < 1 || *v.promotedFrom >= number)) {
    return Error::NotFound("version " + std::to_string(*v.promotedFrom) + " of " + v.app + " " +
                           kReasonNoSuchVersion);
  }
  LG_RETURN_IF_ERROR(db_.Run(std::string("INSERT INTO versions (") + kVersionColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             v.app, number, v.manifest, v.digest, v.contentHash, v.params,
                             v.createdAt, v.promotedFrom, VerdictName(v.verdict)));
  LG_RETURN_IF_ERROR(tx->Commit());
  return number;
}

Status SqliteStore::DeleteUnusedVersion(const std::string& app, int number) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto newest = db_.QueryInt("SELECT max(number) FROM versions WHERE app = ?", app);
  if (!newest.ok()) return newest.error();
  if (!newest->has_value() || **newest < number) {
    return Error::NotFound("version " + std::to_string(number) + " of " + app + " " +
                           kReasonNoSuchVersion);
  }
  auto used = db_.QueryInt(
      "SELECT (SELECT count(*) FROM deployments WHERE app = ?1 AND version = ?2) + "
      "(SELECT count(*) FROM instances WHERE app = ?1 AND version = ?2)",
      app, number);
  if (!used.ok()) return used.error();
  if (**newest != number || used->value_or(0) > 0) {
    return Error::Conflict("version " + std::to_string(number) + " of " + app +
                           " is not the newest or is in use; it stays");
  }
  LG_RETURN_IF_ERROR(db_.Run("DELETE FROM versions WHERE app = ? AND number = ?", app, number));
  return tx->Commit();
}

Result<std::vector<Version>> SqliteStore::ListVersions(const std::string& app) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  return Collect<Version>(db_.Prepare(std::string("SELECT ") + kVersionColumns +
                                          " FROM versions WHERE app = ? ORDER BY number",
                                      app),
                          ReadVersion);
}

Result<Version> SqliteStore::GetVersion(const std::string& app, int number) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  auto found = Collect<Version>(db_.Prepare(std::string("SELECT ") + kVersionColumns +
                                                " FROM versions WHERE app = ? AND number = ?",
                                            app, number),
                                ReadVersion);
  if (!found.ok()) return found.error();
  if (found->empty()) {
    return Error::NotFound("version " + std::to_string(number) + " of " + app + " " +
                           kReasonNoSuchVersion);
  }
  return std::move(found->front());
}

Status SqliteStore::SetVerdict(const std::string& app, int number, Verdict verdict) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  LG_RETURN_IF_ERROR(db_.Run("UPDATE versions SET verdict = ? WHERE app = ? AND number = ?",
                             VerdictName(verdict), app, number));
  if (db_.Changes() == 0) {
    return Error::NotFound("version " + std::to_string(number) + " of " + app + " " +
                           kReasonNoSuchVersion);
  }
  return tx->Commit();
}

Status SqliteStore::PutInstance(const InstanceRecord& r) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(PutInstanceLocked(r));
  return tx->Commit();
}

Status SqliteStore::PutInstanceLocked(const InstanceRecord& r) {
  LG_RETURN_IF_ERROR(RequireApp(r.app));
  return db_.Run(std::string("INSERT OR REPLACE INTO instances (") + kInstanceColumns +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 r.id, r.app, r.slot, r.version, r.pid, static_cast<int64_t>(r.startTime), r.port,
                 InstanceStateName(r.state), r.createdAt, r.warmUntil, r.settings, r.host);
}

Status SqliteStore::DeleteInstance(const std::string& id) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("DELETE FROM instances WHERE id = ?", id));
  return tx->Commit();
}

Result<std::vector<InstanceRecord>> SqliteStore::ListInstances(const std::string& app) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  return Collect<InstanceRecord>(
      db_.Prepare(std::string("SELECT ") + kInstanceColumns +
                      " FROM instances WHERE app = ? ORDER BY created_at, id",
                  app),
      ReadInstance);
}

Result<std::vector<InstanceRecord>> SqliteStore::AllInstances() {
  std::lock_guard lock(mu_);
  return Collect<InstanceRecord>(db_.Prepare(std::string("SELECT ") + kInstanceColumns +
                                             " FROM instances ORDER BY app, created_at, id"),
                                 ReadInstance);
}

Status SqliteStore::SetIntent(const std::string& app, const std::string& deployment,
                              const Intent& intent) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto exists =
      db_.QueryInt("SELECT 1 FROM deployments WHERE app = ? AND name = ?", app, deployment);
  if (!exists.ok()) return exists.error();
  if (!*exists) return Error::NotFound("no deployment named " + deployment + " of " + app);
  LG_RETURN_IF_ERROR(
      db_.Run("INSERT INTO intents (app, deployment, intent, actor) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (app, deployment) DO UPDATE SET intent = excluded.intent, actor = "
              "excluded.actor",
              app, deployment, IntentName(intent.kind), intent.actor));
  return tx->Commit();
}

Status SqliteStore::ClearIntent(const std::string& app, const std::string& deployment) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(
      db_.Run("DELETE FROM intents WHERE app = ? AND deployment = ?", app, deployment));
  return tx->Commit();
}

Result<std::optional<Intent>> SqliteStore::GetIntent(const std::string& app,
                                                     const std::string& deployment) {
  std::lock_guard lock(mu_);
  auto s = db_.Prepare("SELECT intent, actor FROM intents WHERE app = ? AND deployment = ?", app,
                       deployment);
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<Intent>();
  auto kind = ParseIntent(s->Text(0));
  if (!kind) return Error::Internal("stored intent is not valid: " + s->Text(0));
  return std::optional<Intent>(Intent{*kind, s->Text(1)});
}

}  // namespace sqlite
}  // namespace lastgood
