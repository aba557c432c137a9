// Store: the persistence of the release history and of what the controller must remember
// across a restart (instances it started, intents not yet carried out).
//
// Every mutating method is one transaction: it happens whole or not at all. Methods are
// thread-safe (implementations serialize writers). Records are never edited after a
// deployment ends, except by the retention policy (PruneDeployments). Methods that take an app
// fail with NotFound "no app named APP" when it was never created.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "history/model.h"

namespace lastgood {

// An instance the local target started, remembered so that a restarted controller can
// re-adopt it (pid + the process's start time guard against pid reuse).
struct InstanceRecord {
  std::string id;  // "web-production-3-a1b2"
  std::string app;
  std::string slot;
  int version = 0;
  int pid = 0;
  uint64_t startTime = 0;  // /proc/<pid>/stat field 22, in clock ticks since boot
  int port = 0;
  InstanceState state = InstanceState::kStarting;
  int64_t createdAt = 0;
  int64_t warmUntil = 0;  // for kWarm: epoch millis after which it is stopped
  // Whose sticky settings the instance runs with: a slot's name, or "" for its version's
  // own. A swap first restarts the source's instances with the target's settings.
  std::string settings;
  // The fleet host it runs on (docs/fleets.md), or "" for the controller's own machine.
  std::string host{};
};

struct AppRecord {
  std::string name;
  int64_t createdAt = 0;
};

// What the slot runs now, as last committed by a finished (or running) deployment.
struct SlotRecord {
  std::string app;
  std::string slot;
  int version = 0;  // 0: nothing deployed yet
  // production: 100. Another slot: the share (0..100) of production's new clients sent to
  // it (`lastgood traffic`). SetSlot sets it only when it creates the record.
  int weight = 100;
  // The slot's own sticky settings, as JSON [{"name","value"}], from the last deployment
  // that brought a version into it other than by swap; "" until then.
  std::string stickyEnv;
  int canaryVersion = 0;    // a canary running in this slot, or 0
  int canaryWeight = 0;     // its share of the slot's requests, 0..100
  std::string swapPending;  // the source slot of a swap in preview, or ""
};

// A bearer token of the TCP API (issue 5). Only the SHA-256 of the token is kept.
struct TokenRecord {
  std::string name;  // unique, e.g. "ci-bot"
  std::string role;  // "viewer" | "deployer" | "admin" (auth/auth.h)
  std::string hash;  // lowercase hex SHA-256 of the token
  int64_t createdAt = 0;
  int64_t lastUsedAt = 0;  // 0: never used
  int64_t revokedAt = 0;   // 0: valid
  int64_t expiresAt = 0;   // 0: never; from then on the token opens nothing
};

// One line of the append-only audit: a mutation or a refused attempt.
struct AuditEntry {
  int64_t id = 0;       // store-assigned, increasing
  int64_t at = 0;       // epoch millis
  std::string actor;    // "token:ci-bot", "local:root", "anonymous"
  std::string from;     // "unix", "127.0.0.1:5555"
  std::string action;   // "POST /v1/apps/web/rollback" (path without its query)
  std::string app;      // "" when the action concerns no app
  int status = 0;       // the HTTP status answered
  std::string message;  // the outcome in words (the deployment's name, or the error); no secrets
  // Repeated refusals from one address within a minute are one row (issue 11 A4): how many,
  // and when the last one was (0: only the first).
  int64_t count = 1;
  int64_t lastAt = 0;
};

// A fleet host (docs/fleets.md): a machine reached with OpenSSH where a node runs.
struct HostRecord {
  std::string name;  // plain name (base/names.h), unique; "local" is the controller's own
  std::string ssh;   // the destination handed to ssh: "web1", "deploy@10.0.0.5", an alias
  std::map<std::string, std::string> labels;  // what manifests select on: role=web
  std::string nodeHome;                       // the node's home on the host
  std::string nodeBuild;  // the build id of the node last seen there ("" before)
  int64_t addedAt = 0;
  int64_t lastSeen = 0;  // epoch millis of the last answer from its node; 0: never
};

// A secret of an app (issue 11 C): its value only as sealed by secrets/ (never in clear).
// A secret may be set before its app has a first version, so it needs no app record.
struct SecretRecord {
  std::string app;
  std::string name;    // a plain name (base/names.h)
  std::string sealed;  // secrets/sealing.h's text
  int64_t setAt = 0;   // epoch millis of the last set
  std::string setBy;   // the actor that set it: "token:ops", "local:root"
};

class Store {
 public:
  virtual ~Store() = default;

  // Apps. CreateApp is idempotent.
  virtual Status CreateApp(const std::string& app, int64_t now) = 0;
  virtual Result<std::vector<AppRecord>> ListApps() = 0;

  // Versions. AddVersion assigns the next number (ignoring version.number) and returns it.
  virtual Result<int> AddVersion(const Version& version) = 0;
  virtual Result<std::vector<Version>> ListVersions(const std::string& app) = 0;  // oldest first
  virtual Result<Version> GetVersion(const std::string& app, int number) = 0;     // NotFound
  virtual Status SetVerdict(const std::string& app, int number, Verdict verdict) = 0;
  // Deletes the app's newest version when nothing refers to it yet (no deployment, no
  // instance): how a refused apply leaves no version behind. Conflict when something does
  // or it is not the newest; NotFound when there is no such version.
  virtual Status DeleteUnusedVersion(const std::string& app, int number) = 0;

  // Deployments. CreateDeployment stores the record with its planned operations and
  // assigns id; it fails with Conflict if the app has a Running deployment, or if the name
  // is taken. `d.name` may be empty: a name is generated from kind, version and id.
  virtual Result<Deployment> CreateDeployment(const Deployment& d) = 0;
  // CreateDeployment, and these instance records put (insert or replace by id), in one
  // transaction: a warm rollback's switch is on record with its deployment, one disk flush.
  virtual Result<Deployment> CreateDeploymentWith(const Deployment& d,
                                                  const std::vector<InstanceRecord>& instances) = 0;
  // Updates state, reason, finishedAt, cursor and every operation of `d` (by app + name);
  // operations of the record that `d` does not hold are kept. Conflict if the stored
  // record has already ended; NotFound if there is none.
  virtual Status UpdateDeployment(const Deployment& d) = 0;
  // UpdateDeployment, and these instance records put (insert or replace by id), in one
  // transaction: the switches of a fleet wave's hosts on record with their operations, one
  // disk flush.
  virtual Status UpdateDeploymentWith(const Deployment& d,
                                      const std::vector<InstanceRecord>& instances) = 0;
  // Ends `ended` (its final state, by app + name), records `verdict` (if any) on its
  // version, and creates `next` (if any), in one transaction: after a crash there is never
  // an ended deployment whose verdict, or whose automatic rollback, was lost. Returns `next`
  // as created (with its name), or `ended` when there is no next. Conflict if `ended` had
  // ended already (nothing changes).
  virtual Result<Deployment> EndDeployment(const Deployment& ended, std::optional<Verdict> verdict,
                                           const std::optional<Deployment>& next) = 0;
  virtual Result<Deployment> GetDeployment(const std::string& app, const std::string& name) = 0;
  // Newest first, at most `limit` (<= 0: all), with no operations; constant time in the
  // history's size.
  virtual Result<std::vector<Deployment>> ListDeployments(const std::string& app, int limit) = 0;
  // Every deployment in state Running, any app, with operations.
  virtual Result<std::vector<Deployment>> RunningDeployments() = 0;
  // The most recent Succeeded deployment per (slot, version) is enough for the rules; this
  // returns every Succeeded or bad-making (Failed, RolledBack) deployment of `slot`, newest
  // first, without operations, at most `limit` (<= 0: all).
  virtual Result<std::vector<Deployment>> FinishedDeployments(const std::string& app,
                                                              const std::string& slot,
                                                              int limit) = 0;

  // Last good (DESIGN.md section 2), the one rule that a manual rollback, an automatic one,
  // `status` and retention all use: the version of the most recent Succeeded deployment of
  // `slot` whose version is not `leaving` and is not bad (its recorded verdict). nullopt if
  // there is none. One indexed query, whatever the length of the history.
  virtual Result<std::optional<int>> LastGood(const std::string& app, const std::string& slot,
                                              int leaving) = 0;

  // Slots.
  virtual Status SetSlot(const SlotRecord& slot) = 0;
  virtual Result<std::vector<SlotRecord>> ListSlots(const std::string& app) = 0;
  // Each of these changes one thing of an existing slot record (NotFound without it), so
  // that the API's traffic verb and a deployment's worker never undo each other's change.
  // SetSlot sets version and stickyEnv, creating the record if needed.
  virtual Status SetSlotWeight(const std::string& app, const std::string& slot, int weight) = 0;
  virtual Status SetCanary(const std::string& app, const std::string& slot, int version,
                           int weight) = 0;
  virtual Status SetSwapPending(const std::string& app, const std::string& slot,
                                const std::string& source) = 0;
  // The switch of a swap, in one transaction: the two slots exchange their versions and
  // their instances (each instance's slot), keep their weights and sticky settings, and
  // the target's swapPending is cleared. Both records must exist. The instances on
  // `kept_hosts` (fleet hosts that failed before their switch) keep their slots.
  virtual Status SwapSlots(const std::string& app, const std::string& source,
                           const std::string& target,
                           const std::vector<std::string>& kept_hosts) = 0;

  // Instances.
  virtual Status PutInstance(const InstanceRecord& instance) = 0;  // insert or replace by id
  virtual Status DeleteInstance(const std::string& id) = 0;        // idempotent
  virtual Result<std::vector<InstanceRecord>> ListInstances(const std::string& app) = 0;
  virtual Result<std::vector<InstanceRecord>> AllInstances() = 0;

  // Intents (history/model.h): what a user asks of a running deployment, which its executor
  // carries out. One per deployment: setting replaces; NotFound without the record.
  virtual Status SetIntent(const std::string& app, const std::string& deployment,
                           const Intent& intent) = 0;
  // Marks the deployment's intent as carried out (none left). Idempotent.
  virtual Status ClearIntent(const std::string& app, const std::string& deployment) = 0;
  virtual Result<std::optional<Intent>> GetIntent(const std::string& app,
                                                  const std::string& deployment) = 0;

  // Tokens (issue 5). CreateToken fails with Conflict if a valid token has that name (a
  // revoked token's name may be used again: the new record replaces it).
  virtual Status CreateToken(const TokenRecord& token) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;  // by name, revoked included
  // The token with this hash, revoked or not; nullopt if none.
  virtual Result<std::optional<TokenRecord>> FindToken(const std::string& hash) = 0;
  virtual Status TouchToken(const std::string& name, int64_t now) = 0;  // sets lastUsedAt
  // NotFound unless a valid token has this name.
  virtual Status RevokeToken(const std::string& name, int64_t now) = 0;

  // Audit (issue 5): append-only; the database itself refuses to edit a row, except that a
  // row's count only grows, and to delete one, except by PruneAudit.
  virtual Result<int64_t> AppendAudit(const AuditEntry& entry) = 0;  // returns its id
  // Sets the count and last time of row `id` (a folded refusal, issue 11 A4); the count
  // never goes down (InvalidInput). NotFound if there is no such row.
  virtual Status SetAuditCount(int64_t id, int64_t count, int64_t last_at) = 0;
  // Deletes every row older than `before` (epoch millis) and appends `record` saying so
  // (its message followed by ": N rows"), in one transaction. Returns N; with none to
  // delete, changes nothing.
  virtual Result<int> PruneAudit(int64_t before, const AuditEntry& record) = 0;
  // Newest first, at most `limit` (<= 0: all); `app` empty: every app.
  virtual Result<std::vector<AuditEntry>> ListAudit(const std::string& app, int limit) = 0;

  // Hosts (issue 14). AddHost fails with Conflict if the name is taken; RemoveHost and
  // TouchHost with NotFound if there is no such host.
  virtual Status AddHost(const HostRecord& host) = 0;
  virtual Result<std::vector<HostRecord>> ListHosts() = 0;  // by name
  virtual Status RemoveHost(const std::string& name) = 0;
  // Sets lastSeen and nodeBuild.
  virtual Status TouchHost(const std::string& name, int64_t last_seen,
                           const std::string& node_build) = 0;

  // Secrets (issue 11 C): one row per (app, name). PutSecret inserts or replaces; it fails
  // with Conflict, changing nothing, when the app would hold more than `max_per_app`.
  virtual Status PutSecret(const SecretRecord& secret, int max_per_app) = 0;
  virtual Result<std::vector<SecretRecord>> ListSecrets(const std::string& app) = 0;  // by name
  // How many secrets the store holds, of every app (deployed or not yet).
  virtual Result<int64_t> CountSecrets() = 0;
  virtual Result<std::optional<SecretRecord>> GetSecret(const std::string& app,
                                                        const std::string& name) = 0;
  // NotFound "no secret NAME of APP" when there is none.
  virtual Status DeleteSecret(const std::string& app, const std::string& name) = 0;

  // Retention (history.keep, issue 5 item 2): deletes these ended deployment records of
  // `app` with their operations, in one transaction; Conflict (nothing deleted) if one of
  // them is Running. Which records may go is history/retention.h's decision. Returns how
  // many were deleted (names that do not exist are skipped).
  virtual Result<int> PruneDeployments(const std::string& app,
                                       const std::vector<std::string>& names) = 0;
  // What the records PruneDeployments deleted had added to the controller's metrics, summed
  // by series (history/figures.h): kept in the same transaction as each deletion.
  virtual Result<std::map<std::string, double>> PrunedFigures() = 0;
};

// Opens (creating if needed) the SQLite store at `path`: WAL mode, schema migrated to the
// current version, one transaction per migration step. A store from a newer schema, a file
// that is not a SQLite database, or another application's database is refused, never
// written (Unavailable with a clear message).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace lastgood
