// The deployment records of the SQLite store: creation under the one-Running-per-app rule,
// updates of a running record, and the history queries.
#include "history/reasons.h"
#include "history/rules.h"
#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

namespace {

Error Unreadable(const Deployment& d, const char* what, const std::string& word) {
  return Error::Internal("deployment " + d.name + " of " + d.app + " has an unknown " + what +
                         " '" + word + "' in the store");
}

Result<Deployment> ReadDeployment(const Statement& s) {
  Deployment d;
  d.id = s.Int(0);
  d.app = s.Text(1);
  d.name = s.Text(2);
  d.version = static_cast<int>(s.Int(3));
  d.slot = s.Text(4);
  auto kind = ParseKind(s.Text(5));
  if (!kind) return Unreadable(d, "kind", s.Text(5));
  d.kind = *kind;
  d.strategy = s.Text(6);
  auto trigger = ParseTrigger(s.Text(7));
  if (!trigger) return Unreadable(d, "trigger", s.Text(7));
  d.trigger = *trigger;
  d.actor = s.Text(8);
  auto state = ParseState(s.Text(9));
  if (!state) return Unreadable(d, "state", s.Text(9));
  d.state = *state;
  d.reason = s.Text(10);
  d.startedAt = s.Int(11);
  d.finishedAt = s.Int(12);
  d.fromVersion = static_cast<int>(s.Int(13));
  d.rollbackOnError = RollbackOnError::Parse(s.Text(14));
  d.cursor = static_cast<int>(s.Int(15));
  return d;
}

std::string Named(const std::string& app, const std::string& name) {
  return "deployment " + name + " of " + app;
}

// SQLite's LIMIT takes -1 for "no limit".
int64_t SqlLimit(int limit) { return limit > 0 ? limit : -1; }

}  // namespace

template <typename... Args>
Result<std::vector<Deployment>> SqliteStore::QueryDeployments(bool with_operations,
                                                              const std::string& sql,
                                                              const Args&... args) {
  std::vector<Deployment> out;
  {
    auto s = db_.Prepare(std::string("SELECT ") + kDeploymentColumns + " FROM deployments " + sql,
                         args...);
    if (!s.ok()) return s.error();
    while (true) {
      auto row = s->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      auto d = ReadDeployment(*s);
      if (!d.ok()) return d.error();
      out.push_back(std::move(*d));
    }
  }
  if (with_operations) {
    for (Deployment& d : out) LG_RETURN_IF_ERROR(LoadOperations(d));
  }
  return out;
}

Status SqliteStore::LoadOperations(Deployment& d) {
  auto s = db_.Prepare(
      "SELECT idx, step, spec, state, started_at, finished_at, detail, host FROM operations "
      "WHERE deployment_id = ? ORDER BY idx",
      d.id);
  if (!s.ok()) return s.error();
  d.operations.clear();
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return Status::Ok();
    Operation op;
    op.index = static_cast<int>(s->Int(0));
    op.step = s->Text(1);
    op.spec = s->Text(2);
    auto state = ParseOperationState(s->Text(3));
    if (!state) return Unreadable(d, "operation state", s->Text(3));
    op.state = *state;
    op.startedAt = s->Int(4);
    op.finishedAt = s->Int(5);
    op.detail = s->Text(6);
    op.host = s->Text(7);
    d.operations.push_back(std::move(op));
  }
}

Status SqliteStore::SaveOperations(const Deployment& d) {
  for (const Operation& op : d.operations) {
    LG_RETURN_IF_ERROR(
        db_.Run("INSERT INTO operations (deployment_id, idx, step, spec, state, started_at, "
                "finished_at, detail, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (deployment_id, idx) DO UPDATE SET step = excluded.step, "
                "spec = excluded.spec, state = excluded.state, started_at = excluded.started_at, "
                "finished_at = excluded.finished_at, detail = excluded.detail, "
                "host = excluded.host",
                d.id, op.index, op.step, op.spec, OperationStateName(op.state), op.startedAt,
                op.finishedAt, op.detail, op.host));
  }
  return Status::Ok();
}

Result<Deployment> SqliteStore::CreateDeployment(const Deployment& in) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto d = CreateLocked(in);
  if (!d.ok()) return d.error();
  LG_RETURN_IF_ERROR(tx->Commit());
  return d;
}

Result<Deployment> SqliteStore::CreateDeploymentWith(const Deployment& in,
                                                     const std::vector<InstanceRecord>& instances) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  auto d = CreateLocked(in);
  if (!d.ok()) return d.error();
  for (const InstanceRecord& r : instances) LG_RETURN_IF_ERROR(PutInstanceLocked(r));
  LG_RETURN_IF_ERROR(tx->Commit());
  return d;
}

Result<Deployment> SqliteStore::EndDeployment(const Deployment& ended,
                                              std::optional<Verdict> verdict,
                                              const std::optional<Deployment>& next) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  if (!IsFinal(ended.state)) return Error::Internal("EndDeployment needs an ended deployment");
  LG_RETURN_IF_ERROR(UpdateLocked(ended));
  if (verdict) {
    LG_RETURN_IF_ERROR(db_.Run("UPDATE versions SET verdict = ? WHERE app = ? AND number = ?",
                               VerdictName(*verdict), ended.app, ended.version));
  }
  Result<Deployment> out = ended;
  if (next) out = CreateLocked(*next);
  if (!out.ok()) return out.error();
  LG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<Deployment> SqliteStore::CreateLocked(const Deployment& in) {
  LG_RETURN_IF_ERROR(RequireApp(in.app));
  if (in.state == DeploymentState::kRunning) {
    // The partial unique index enforces this too; asking first gives the error a name.
    auto running = QueryDeployments(false, kRunningOfApp, in.app);
    if (!running.ok()) return running.error();
    if (!running->empty()) {
      return Error::Conflict(in.app + " " + kReasonDeploymentRunning + " (" +
                             running->front().name +
                             "); wait for it to end, or stop it with "
                             "`lastgood abort " +
                             in.app + "`");
    }
  }
  auto taken = [&](const std::string& name) -> Result<bool> {
    auto found = db_.QueryInt("SELECT 1 FROM deployments WHERE app = ? AND name = ?", in.app, name);
    if (!found.ok()) return found.error();
    return found->has_value();
  };
  if (!in.name.empty()) {
    auto is_taken = taken(in.name);
    if (!is_taken.ok()) return is_taken.error();
    if (*is_taken) {
      return Error::Conflict("the deployment name " + in.name + " of " + in.app + " " +
                             kReasonDeploymentNameTaken + "; choose another --name");
    }
  }

  Deployment d = in;
  // An empty name is stored for the moment it takes to learn the id; the write lock keeps
  // it from ever being seen or committed.
  LG_RETURN_IF_ERROR(db_.Run(std::string("INSERT INTO deployments (") + kDeploymentColumns +
                                 ") VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             d.app, d.name, d.version, d.slot, KindName(d.kind), d.strategy,
                             TriggerName(d.trigger), d.actor, StateName(d.state), d.reason,
                             d.startedAt, d.finishedAt, d.fromVersion, d.rollbackOnError.ToString(),
                             d.cursor));
  d.id = db_.LastInsertRowid();
  if (d.name.empty()) {
    std::string base = GeneratedDeploymentName(d.kind, d.version, d.id);
    d.name = base;
    // A user may have chosen a name of the generated form for an earlier deployment.
    for (int n = 2;; ++n) {
      auto is_taken = taken(d.name);
      if (!is_taken.ok()) return is_taken.error();
      if (!*is_taken) break;
      d.name = base + "-" + std::to_string(n);
    }
    LG_RETURN_IF_ERROR(db_.Run("UPDATE deployments SET name = ? WHERE id = ?", d.name, d.id));
  }
  LG_RETURN_IF_ERROR(SaveOperations(d));
  return d;
}

Status SqliteStore::UpdateDeployment(const Deployment& d) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(UpdateLocked(d));
  return tx->Commit();
}

Status SqliteStore::UpdateDeploymentWith(const Deployment& d,
                                         const std::vector<InstanceRecord>& instances) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(UpdateLocked(d));
  for (const InstanceRecord& r : instances) LG_RETURN_IF_ERROR(PutInstanceLocked(r));
  return tx->Commit();
}

Status SqliteStore::UpdateLocked(const Deployment& d) {
  auto stored = QueryDeployments(false, "WHERE app = ? AND name = ?", d.app, d.name);
  if (!stored.ok()) return stored.error();
  if (stored->empty()) return Error::NotFound("no " + Named(d.app, d.name));
  const Deployment& now = stored->front();
  if (IsFinal(now.state)) {
    return Error::Conflict(Named(d.app, d.name) + " " + kReasonDeploymentEnded + " (it " +
                           StateName(now.state) + ")");
  }
  LG_RETURN_IF_ERROR(db_.Run(
      "UPDATE deployments SET state = ?, reason = ?, finished_at = ?, cursor = ? WHERE id = ?",
      StateName(d.state), d.reason, d.finishedAt, d.cursor, now.id));
  Deployment with_id = d;
  with_id.id = now.id;
  return SaveOperations(with_id);
}

Result<Deployment> SqliteStore::GetDeployment(const std::string& app, const std::string& name) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  auto found = QueryDeployments(true, "WHERE app = ? AND name = ?", app, name);
  if (!found.ok()) return found.error();
  if (found->empty()) return Error::NotFound("no " + Named(app, name));
  return std::move(found->front());
}

Result<std::vector<Deployment>> SqliteStore::ListDeployments(const std::string& app, int limit) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  return QueryDeployments(false, kHistoryOfApp, app, SqlLimit(limit));
}

Result<std::vector<Deployment>> SqliteStore::RunningDeployments() {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  return QueryDeployments(true, "WHERE state = 'Running' ORDER BY id");
}

Result<std::vector<Deployment>> SqliteStore::FinishedDeployments(const std::string& app,
                                                                 const std::string& slot,
                                                                 int limit) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  return QueryDeployments(false,
                          "WHERE app = ? AND slot = ? AND state IN ('Succeeded', 'Failed', "
                          "'RolledBack') ORDER BY id DESC LIMIT ?",
                          app, slot, SqlLimit(limit));
}

Result<std::optional<int>> SqliteStore::LastGood(const std::string& app, const std::string& slot,
                                                 int leaving) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kRead);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(RequireApp(app));
  // Walks the slot's Succeeded records newest first (deployments_succeeded) and stops at the
  // first whose version qualifies.
  auto found = db_.QueryInt(
      "SELECT d.version FROM deployments d JOIN versions v ON v.app = d.app AND v.number = "
      "d.version WHERE d.app = ? AND d.slot = ? AND d.state = 'Succeeded' AND d.version <> ? "
      "AND v.verdict <> 'bad' ORDER BY d.id DESC LIMIT 1",
      app, slot, leaving);
  if (!found.ok()) return found.error();
  if (!*found) return std::optional<int>();
  return std::optional<int>(static_cast<int>(**found));
}

}  // namespace lastgood::sqlite
