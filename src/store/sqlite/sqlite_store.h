// SqliteStore: the Store (store/store.h) on one SQLite connection (sqlite/db.h) in WAL mode.
// Every mutating method is one BEGIN IMMEDIATE … COMMIT; reads that take several statements
// run in one read transaction, so they see one state.
//
// Thread-safety: thread-safe; one mutex serializes all callers on the one connection (the
// store's transactions take microseconds to milliseconds, far below a deployment's steps).
// Other processes may open the same file; SQLite's locks and the busy timeout order them.
#pragma once

#include <mutex>
#include <string>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace lastgood::sqlite {

// The columns of a deployment row, in the order ReadDeployment reads them, and the filters of
// the hot queries (shared with the test that checks their query plans use an index).
inline constexpr const char* kDeploymentColumns =
    "id, app, name, version, slot, kind, strategy, \"trigger\", actor, state, reason, "
    "started_at, finished_at, from_version, rollback_on_error, cursor";
inline constexpr const char* kHistoryOfApp = "WHERE app = ? ORDER BY id DESC LIMIT ?";
inline constexpr const char* kRunningOfApp = "WHERE app = ? AND state = 'Running'";

class SqliteStore : public Store {
 public:
  SqliteStore(Db db, std::string path) : path_(std::move(path)), db_(std::move(db)) {}

  Status CreateApp(const std::string& app, int64_t now) override;
  Result<std::vector<AppRecord>> ListApps() override;

  Result<int> AddVersion(const Version& version) override;
  Status DeleteUnusedVersion(const std::string& app, int number) override;
  Result<std::vector<Version>> ListVersions(const std::string& app) override;
  Result<Version> GetVersion(const std::string& app, int number) override;
  Status SetVerdict(const std::string& app, int number, Verdict verdict) override;

  Result<Deployment> CreateDeployment(const Deployment& d) override;
  Status UpdateDeployment(const Deployment& d) override;
  Status UpdateDeploymentWith(const Deployment& d,
                              const std::vector<InstanceRecord>& instances) override;
  Result<Deployment> CreateDeploymentWith(const Deployment& d,
                                          const std::vector<InstanceRecord>& instances) override;
  Result<Deployment> EndDeployment(const Deployment& ended, std::optional<Verdict> verdict,
                                   const std::optional<Deployment>& next) override;
  Result<Deployment> GetDeployment(const std::string& app, const std::string& name) override;
  Result<std::vector<Deployment>> ListDeployments(const std::string& app, int limit) override;
  Result<std::vector<Deployment>> RunningDeployments() override;
  Result<std::vector<Deployment>> FinishedDeployments(const std::string& app,
                                                      const std::string& slot, int limit) override;

  Result<std::optional<int>> LastGood(const std::string& app, const std::string& slot,
                                      int leaving) override;
  Status SetSlot(const SlotRecord& slot) override;
  Result<std::vector<SlotRecord>> ListSlots(const std::string& app) override;
  Status SetSlotWeight(const std::string& app, const std::string& slot, int weight) override;
  Status SetCanary(const std::string& app, const std::string& slot, int version,
                   int weight) override;
  Status SetSwapPending(const std::string& app, const std::string& slot,
                        const std::string& source) override;
  Status SwapSlots(const std::string& app, const std::string& source, const std::string& target,
                   const std::vector<std::string>& kept_hosts) override;

  Status PutInstance(const InstanceRecord& instance) override;
  Status DeleteInstance(const std::string& id) override;
  Result<std::vector<InstanceRecord>> ListInstances(const std::string& app) override;
  Result<std::vector<InstanceRecord>> AllInstances() override;

  Status ClearIntent(const std::string& app, const std::string& deployment) override;
  Status SetIntent(const std::string& app, const std::string& deployment,
                   const Intent& intent) override;
  Result<std::optional<Intent>> GetIntent(const std::string& app,
                                          const std::string& deployment) override;

  // tokens.cc
  Status CreateToken(const TokenRecord& token) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Result<std::optional<TokenRecord>> FindToken(const std::string& hash) override;
  Status TouchToken(const std::string& name, int64_t now) override;
  Status RevokeToken(const std::string& name, int64_t now) override;

  // audit.cc
  Result<int64_t> AppendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAudit(const std::string& app, int limit) override;
  Status SetAuditCount(int64_t id, int64_t count, int64_t last_at) override;
  Result<int> PruneAudit(int64_t before, const AuditEntry& record) override;

  // hosts.cc
  Status AddHost(const HostRecord& host) override;
  Result<std::vector<HostRecord>> ListHosts() override;
  Status RemoveHost(const std::string& name) override;
  Status TouchHost(const std::string& name, int64_t last_seen,
                   const std::string& node_build) override;

  // secrets.cc
  Status PutSecret(const SecretRecord& secret, int max_per_app) override;
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& app) override;
  Result<int64_t> CountSecrets() override;
  Result<std::optional<SecretRecord>> GetSecret(const std::string& app,
                                                const std::string& name) override;
  Status DeleteSecret(const std::string& app, const std::string& name) override;

  // prune.cc
  Result<std::map<std::string, double>> PrunedFigures() override;
  Result<int> PruneDeployments(const std::string& app,
                               const std::vector<std::string>& names) override;

 private:
  // NotFound "no app named APP" unless the app exists. REQUIRES: mu_ held.
  Status RequireApp(const std::string& app);
  // The deployments selected by `sql` (which selects kDeploymentColumns and binds `args`),
  // with their operations if `with_operations`. REQUIRES: mu_ held.
  template <typename... Args>
  Result<std::vector<Deployment>> QueryDeployments(bool with_operations, const std::string& sql,
                                                   const Args&... args);
  Status LoadOperations(Deployment& d);  // REQUIRES: mu_ held
  // The bodies of CreateDeployment / UpdateDeployment. REQUIRES: mu_ held, in a write
  // transaction.
  Result<Deployment> CreateLocked(const Deployment& in);
  Status UpdateLocked(const Deployment& d);
  Status PutInstanceLocked(const InstanceRecord& r);
  Status SaveOperations(const Deployment& d);  // upserts by index; REQUIRES: mu_ held

  const std::string path_;  // constant after construction
  std::mutex mu_;
  Db db_;  // guarded by mu_
};

}  // namespace lastgood::sqlite
