#include "store/sqlite/schema.h"

#include <vector>

namespace lastgood::sqlite {

namespace {

// Long enough to ride out another writer's transaction (ours are milliseconds), short enough
// that a stuck lock becomes an error a user sees.
constexpr int kBusyTimeoutMillis = 5000;

// Enum columns hold the words of history/model.h's name functions. They carry no CHECK
// constraint so that a new kind or state needs no table rebuild; reading validates them.
// Append steps; never edit one that has shipped.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> steps = {
      // 1: the release history, slots, instances and intents.
      R"sql(
CREATE TABLE apps (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE versions (
  app TEXT NOT NULL REFERENCES apps(name),
  number INTEGER NOT NULL CHECK (number > 0),
  manifest TEXT NOT NULL,
  digest TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  params TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  promoted_from INTEGER,
  verdict TEXT NOT NULL,
  PRIMARY KEY (app, number)
) STRICT, WITHOUT ROWID;

CREATE TABLE deployments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  app TEXT NOT NULL REFERENCES apps(name),
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  slot TEXT NOT NULL,
  kind TEXT NOT NULL,
  strategy TEXT NOT NULL,
  "trigger" TEXT NOT NULL,
  actor TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  from_version INTEGER NOT NULL,
  rollback_on_error TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  UNIQUE (app, name)
) STRICT;
-- history, newest first, without a sort: constant time in the history's size.
CREATE INDEX deployments_by_app ON deployments (app, id);
-- last good of a slot.
CREATE INDEX deployments_by_slot ON deployments (app, slot, id);
-- one Running deployment per app, enforced by the database itself.
CREATE UNIQUE INDEX deployments_one_running ON deployments (app) WHERE state = 'Running';

CREATE TABLE operations (
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  step TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (deployment_id, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE slots (
  app TEXT NOT NULL REFERENCES apps(name),
  slot TEXT NOT NULL,
  version INTEGER NOT NULL,
  weight INTEGER NOT NULL,
  PRIMARY KEY (app, slot)
) STRICT, WITHOUT ROWID;

CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  app TEXT NOT NULL REFERENCES apps(name),
  slot TEXT NOT NULL,
  version INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  port INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  warm_until INTEGER NOT NULL
) STRICT;
CREATE INDEX instances_by_app ON instances (app, created_at);

CREATE TABLE intents (
  app TEXT NOT NULL,
  deployment TEXT NOT NULL,
  intent TEXT NOT NULL,
  PRIMARY KEY (app, deployment),
  FOREIGN KEY (app, deployment) REFERENCES deployments (app, name) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
)sql",
      // 2: API tokens (only their hashes) and the append-only audit (issue 5).
      R"sql(
CREATE TABLE tokens (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  "from" TEXT NOT NULL,
  action TEXT NOT NULL,
  app TEXT NOT NULL,
  status INTEGER NOT NULL,
  message TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_app ON audit (app, id);
-- Append-only, enforced by the database itself: no code path of ours, nor a sqlite3 shell
-- session that forgets, can edit or erase what happened.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
)sql",
      // 3: slots and swap (issue 4). A slot keeps its own sticky settings, a canary's
      // version and share, and the source of a swap in preview; an instance remembers whose
      // sticky settings it runs with ('' = its version's own).
      R"sql(
ALTER TABLE slots ADD COLUMN sticky_env TEXT NOT NULL DEFAULT '';
ALTER TABLE slots ADD COLUMN canary_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE slots ADD COLUMN canary_weight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE slots ADD COLUMN swap_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN settings TEXT NOT NULL DEFAULT '';
)sql",
      // 4: tokens may expire (0: never, as every token made before).
      R"sql(
ALTER TABLE tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
)sql",
      // 5: an intent's actor in its own column (it was written into the text: "abort:alice");
      // the index of the last-good query.
      R"sql(
ALTER TABLE intents ADD COLUMN actor TEXT NOT NULL DEFAULT '';
UPDATE intents SET actor = substr(intent, 7), intent = 'abort' WHERE intent LIKE 'abort:%';
-- Store::LastGood: a slot's Succeeded records, newest first, in one index walk.
CREATE INDEX deployments_succeeded ON deployments (app, slot, id) WHERE state = 'Succeeded';
)sql",
      // 6: fleet hosts (issue 14): where to reach each, what it is labelled, its node.
      R"sql(
CREATE TABLE hosts (
  name TEXT PRIMARY KEY,
  ssh TEXT NOT NULL,
  labels TEXT NOT NULL,
  node_home TEXT NOT NULL,
  node_build TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) STRICT;
)sql",
      // 7: secrets (issue 11 C), each value sealed with the key kept beside the store
      // (secrets/sealing.h), never in clear. No reference to apps: a secret is set before
      // the first apply that refers to it.
      R"sql(
CREATE TABLE secrets (
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  sealed TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  set_by TEXT NOT NULL,
  PRIMARY KEY (app, name)
) STRICT, WITHOUT ROWID;
)sql",
      // 8: the audit stays bounded under abuse (issue 11 A4): repeated refusals from one
      // address are one row with a count; rows are deleted by age only, below a cutoff that
      // PruneAudit records in the same transaction.
      R"sql(
ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE audit_pruned (cutoff INTEGER NOT NULL) STRICT;
CREATE INDEX audit_by_time ON audit (at);
DROP TRIGGER audit_no_update;
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_update BEFORE UPDATE OF id, at, actor, "from", action, app, status, message
ON audit BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER audit_count_only_grows BEFORE UPDATE OF count ON audit WHEN NEW.count < OLD.count
BEGIN SELECT RAISE(ABORT, 'the audit is append-only: a count only grows'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.at >= (SELECT coalesce(max(cutoff), 0) FROM audit_pruned)
BEGIN SELECT RAISE(ABORT, 'the audit is append-only; it is pruned by age only'); END;
CREATE TRIGGER audit_pruned_no_update BEFORE UPDATE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER audit_pruned_no_delete BEFORE DELETE ON audit_pruned
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
)sql",
      // 9: what the deployment records pruned by history.keep added to the controller's
      // metrics (history/figures.h), so that its counters never go down (docs/metrics.md).
      R"sql(
CREATE TABLE pruned_figures (
  series TEXT PRIMARY KEY,
  value REAL NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
      // 10: fleet deployments (issue 14): the host an instance runs on and an operation acts
      // on ('' = the controller's own machine, or the whole deployment).
      R"sql(
ALTER TABLE instances ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN host TEXT NOT NULL DEFAULT '';
)sql",
  };
  return steps;
}

Result<int64_t> ReadInt(Db& db, const char* sql) {
  auto s = db.Prepare(sql);
  if (!s.ok()) return s.error();
  auto row = s->Step();
  if (!row.ok()) return row.error();
  return *row ? s->Int(0) : 0;
}

struct Header {
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t objects = 0;  // tables, indexes, … in the file
};

// Reads only: a refused file must stay byte for byte as it was.
Result<Header> ReadHeader(Db& db, const std::string& path) {
  Header h;
  auto refused = [&](const Error& e) {
    return Error::Unavailable("the file at " + path + " is not a lastgood store (" + e.message +
                              "); move it away or choose another --home");
  };
  auto id = ReadInt(db, "PRAGMA application_id");
  if (!id.ok()) {
    int rc = db.LastErrorCode();
    return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? refused(id.error()) : id.error();
  }
  h.application_id = *id;
  auto version = ReadInt(db, "PRAGMA user_version");
  if (!version.ok()) return version.error();
  h.user_version = *version;
  auto objects = ReadInt(db, "SELECT count(*) FROM sqlite_schema");
  if (!objects.ok()) return objects.error();
  h.objects = *objects;
  return h;
}

Status Check(const Header& h, const std::string& path) {
  bool ours = h.application_id == kApplicationId;
  bool empty = h.application_id == 0 && h.user_version == 0 && h.objects == 0;
  if (!ours && !empty) {
    return Error::Unavailable("the file at " + path +
                              " is a SQLite database of another application, not a lastgood "
                              "store; move it away or choose another --home");
  }
  if (h.user_version > CurrentSchemaVersion()) {
    return Error::Unavailable("the store at " + path + " has schema version " +
                              std::to_string(h.user_version) + ", newer than this lastgood (" +
                              std::to_string(CurrentSchemaVersion()) + "); upgrade lastgood");
  }
  return Status::Ok();
}

// Applies step `index` (0-based) unless another process already has.
Status Migrate(Db& db, int index, const std::string& path) {
  auto tx = Transaction::Begin(db, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto header = ReadHeader(db, path);
  if (!header.ok()) return header.error();
  LG_RETURN_IF_ERROR(Check(*header, path));
  if (header->user_version > index) return Status::Ok();
  LG_RETURN_IF_ERROR(db.Exec(Migrations()[index]));
  LG_RETURN_IF_ERROR(db.Exec("PRAGMA application_id = " + std::to_string(kApplicationId)));
  LG_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(index + 1)));
  return tx->Commit();
}

// WAL: readers never block the writer and a commit is one append. synchronous=FULL (set
// next) syncs the WAL on every commit: NORMAL would survive a crash of lastgood but could
// lose the last commits on power loss, and a deployment's record must outlive both (§4).
Status UseWriteAheadLog(Db& db, const std::string& path) {
  auto mode = db.Prepare("PRAGMA journal_mode = WAL");
  if (!mode.ok()) return mode.error();
  auto row = mode->Step();
  if (!row.ok()) return row.error();
  std::string got = *row ? mode->Text(0) : "";
  if (got != "wal") {
    return Error::Unavailable("the store at " + path +
                              " cannot use write-ahead logging (journal mode '" + got +
                              "'); is it on a network file system?");
  }
  return Status::Ok();
}

}  // namespace

int CurrentSchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<Db> OpenAndMigrate(const std::string& path) {
  auto db = Db::Open(path);
  if (!db.ok()) return db.error();
  sqlite3_busy_timeout(db->get(), kBusyTimeoutMillis);
  auto header = ReadHeader(*db, path);
  if (!header.ok()) return header.error();
  LG_RETURN_IF_ERROR(Check(*header, path));

  LG_RETURN_IF_ERROR(UseWriteAheadLog(*db, path));
  LG_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));

  for (int i = static_cast<int>(header->user_version); i < CurrentSchemaVersion(); ++i) {
    Status s = Migrate(*db, i, path);
    if (!s.ok()) {
      return Error{s.error().code,
                   "migrating the store at " + path + " to schema version " +
                       std::to_string(i + 1) + ": " + s.error().message,
                   "", 0};
    }
  }
  return std::move(*db);
}

}  // namespace lastgood::sqlite
