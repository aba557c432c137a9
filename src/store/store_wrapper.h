// StoreWrapper: a Store that forwards every call to another one (leveldb's EnvWrapper), so
// that a subclass can change a few things: a test injects faults (fail or "crash" after
// the Nth commit: tests/testutil/fault_store.h), the executor notices a failed write.
//
// Every mutating method (a commit) passes through BeforeWrite, which may refuse it without
// forwarding, and AfterWrite, which sees its outcome. Thread-safe if the wrapped store and
// the subclass's hooks are. Does not own the wrapped store, which must outlive it.
#pragma once

#include <string_view>
#include <type_traits>

#include "store/store.h"

namespace lastgood {

class StoreWrapper : public Store {
 public:
  explicit StoreWrapper(Store* target) : target_(target) {}
  Store* target() const { return target_; }

  lastgood::Status CreateApp(const std::string& app, int64_t now) override {
    return Write("CreateApp", [&] { return target_->CreateApp(app, now); });
  }
  Result<std::vector<AppRecord>> ListApps() override { return target_->ListApps(); }
  Result<int> AddVersion(const Version& version) override {
    return Write("AddVersion", [&] { return target_->AddVersion(version); });
  }
  Result<std::vector<Version>> ListVersions(const std::string& app) override {
    return target_->ListVersions(app);
  }
  Result<Version> GetVersion(const std::string& app, int number) override {
    return target_->GetVersion(app, number);
  }
  lastgood::Status SetVerdict(const std::string& app, int number, Verdict verdict) override {
    return Write("SetVerdict", [&] { return target_->SetVerdict(app, number, verdict); });
  }
  Result<Deployment> CreateDeployment(const Deployment& d) override {
    return Write("CreateDeployment", [&] { return target_->CreateDeployment(d); });
  }
  Result<Deployment> CreateDeploymentWith(const Deployment& d,
                                          const std::vector<InstanceRecord>& instances) override {
    return Write("CreateDeploymentWith",
                 [&] { return target_->CreateDeploymentWith(d, instances); });
  }
  lastgood::Status UpdateDeployment(const Deployment& d) override {
    return Write("UpdateDeployment", [&] { return target_->UpdateDeployment(d); });
  }
  lastgood::Status UpdateDeploymentWith(const Deployment& d,
                                        const std::vector<InstanceRecord>& instances) override {
    return Write("UpdateDeploymentWith",
                 [&] { return target_->UpdateDeploymentWith(d, instances); });
  }
  Result<Deployment> EndDeployment(const Deployment& ended, std::optional<Verdict> verdict,
                                   const std::optional<Deployment>& next) override {
    return Write("EndDeployment", [&] { return target_->EndDeployment(ended, verdict, next); });
  }
  Result<Deployment> GetDeployment(const std::string& app, const std::string& name) override {
    return target_->GetDeployment(app, name);
  }
  Result<std::vector<Deployment>> ListDeployments(const std::string& app, int limit) override {
    return target_->ListDeployments(app, limit);
  }
  Result<std::vector<Deployment>> RunningDeployments() override {
    return target_->RunningDeployments();
  }
  Result<std::vector<Deployment>> FinishedDeployments(const std::string& app,
                                                      const std::string& slot, int limit) override {
    return target_->FinishedDeployments(app, slot, limit);
  }
  Result<std::optional<int>> LastGood(const std::string& app, const std::string& slot,
                                      int leaving) override {
    return target_->LastGood(app, slot, leaving);
  }
  lastgood::Status SetSlot(const SlotRecord& slot) override {
    return Write("SetSlot", [&] { return target_->SetSlot(slot); });
  }
  Result<std::vector<SlotRecord>> ListSlots(const std::string& app) override {
    return target_->ListSlots(app);
  }
  lastgood::Status SetSlotWeight(const std::string& app, const std::string& slot,
                                 int weight) override {
    return Write("SetSlotWeight", [&] { return target_->SetSlotWeight(app, slot, weight); });
  }
  lastgood::Status SetCanary(const std::string& app, const std::string& slot, int version,
                             int weight) override {
    return Write("SetCanary", [&] { return target_->SetCanary(app, slot, version, weight); });
  }
  lastgood::Status SetSwapPending(const std::string& app, const std::string& slot,
                                  const std::string& source) override {
    return Write("SetSwapPending", [&] { return target_->SetSwapPending(app, slot, source); });
  }
  lastgood::Status SwapSlots(const std::string& app, const std::string& source,
                             const std::string& target,
                             const std::vector<std::string>& kept_hosts) override {
    return Write("SwapSlots", [&] { return target_->SwapSlots(app, source, target, kept_hosts); });
  }
  lastgood::Status PutInstance(const InstanceRecord& instance) override {
    return Write("PutInstance", [&] { return target_->PutInstance(instance); });
  }
  lastgood::Status DeleteInstance(const std::string& id) override {
    return Write("DeleteInstance", [&] { return target_->DeleteInstance(id); });
  }
  Result<std::vector<InstanceRecord>> ListInstances(const std::string& app) override {
    return target_->ListInstances(app);
  }
  Result<std::vector<InstanceRecord>> AllInstances() override { return target_->AllInstances(); }
  lastgood::Status SetIntent(const std::string& app, const std::string& deployment,
                             const Intent& intent) override {
    return Write("SetIntent", [&] { return target_->SetIntent(app, deployment, intent); });
  }
  lastgood::Status ClearIntent(const std::string& app, const std::string& deployment) override {
    return Write("ClearIntent", [&] { return target_->ClearIntent(app, deployment); });
  }
  Result<std::optional<Intent>> GetIntent(const std::string& app,
                                          const std::string& deployment) override {
    return target_->GetIntent(app, deployment);
  }
  lastgood::Status CreateToken(const TokenRecord& token) override {
    return Write("CreateToken", [&] { return target_->CreateToken(token); });
  }
  Result<std::vector<TokenRecord>> ListTokens() override { return target_->ListTokens(); }
  Result<std::optional<TokenRecord>> FindToken(const std::string& hash) override {
    return target_->FindToken(hash);
  }
  lastgood::Status TouchToken(const std::string& name, int64_t now) override {
    return Write("TouchToken", [&] { return target_->TouchToken(name, now); });
  }
  lastgood::Status RevokeToken(const std::string& name, int64_t now) override {
    return Write("RevokeToken", [&] { return target_->RevokeToken(name, now); });
  }
  Result<int64_t> AppendAudit(const AuditEntry& entry) override {
    return Write("AppendAudit", [&] { return target_->AppendAudit(entry); });
  }
  lastgood::Status SetAuditCount(int64_t id, int64_t count, int64_t last_at) override {
    return Write("SetAuditCount", [&] { return target_->SetAuditCount(id, count, last_at); });
  }
  Result<int> PruneAudit(int64_t before, const AuditEntry& record) override {
    return Write("PruneAudit", [&] { return target_->PruneAudit(before, record); });
  }
  lastgood::Status DeleteUnusedVersion(const std::string& app, int number) override {
    return Write("DeleteUnusedVersion", [&] { return target_->DeleteUnusedVersion(app, number); });
  }
  Result<std::vector<AuditEntry>> ListAudit(const std::string& app, int limit) override {
    return target_->ListAudit(app, limit);
  }
  lastgood::Status AddHost(const HostRecord& host) override {
    return Write("AddHost", [&] { return target_->AddHost(host); });
  }
  Result<std::vector<HostRecord>> ListHosts() override { return target_->ListHosts(); }
  lastgood::Status RemoveHost(const std::string& name) override {
    return Write("RemoveHost", [&] { return target_->RemoveHost(name); });
  }
  lastgood::Status TouchHost(const std::string& name, int64_t last_seen,
                             const std::string& node_build) override {
    return Write("TouchHost", [&] { return target_->TouchHost(name, last_seen, node_build); });
  }
  lastgood::Status PutSecret(const SecretRecord& secret, int max_per_app) override {
    return Write("PutSecret", [&] { return target_->PutSecret(secret, max_per_app); });
  }
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& app) override {
    return target_->ListSecrets(app);
  }
  Result<std::optional<SecretRecord>> GetSecret(const std::string& app,
                                                const std::string& name) override {
    return target_->GetSecret(app, name);
  }
  Result<int64_t> CountSecrets() override { return target_->CountSecrets(); }
  lastgood::Status DeleteSecret(const std::string& app, const std::string& name) override {
    return Write("DeleteSecret", [&] { return target_->DeleteSecret(app, name); });
  }
  Result<int> PruneDeployments(const std::string& app,
                               const std::vector<std::string>& names) override {
    return Write("PruneDeployments", [&] { return target_->PruneDeployments(app, names); });
  }
  Result<std::map<std::string, double>> PrunedFigures() override {
    return target_->PrunedFigures();
  }

 protected:
  // Called before each commit; an error is returned to the caller instead of forwarding.
  virtual lastgood::Status BeforeWrite(std::string_view /*method*/) { return Status::Ok(); }
  // Called after each commit forwarded, with its outcome.
  virtual void AfterWrite(std::string_view /*method*/, const lastgood::Status& /*outcome*/) {}

 private:
  template <typename Call>
  auto Write(std::string_view method, Call call) -> decltype(call()) {
    if (auto refused = BeforeWrite(method); !refused.ok()) return refused.error();
    auto outcome = call();
    if constexpr (std::is_same_v<decltype(outcome), lastgood::Status>) {
      AfterWrite(method, outcome);
    } else {
      AfterWrite(method, outcome.ok() ? Status::Ok() : lastgood::Status(outcome.error()));
    }
    return outcome;
  }

  Store* const target_;
};

}  // namespace lastgood
