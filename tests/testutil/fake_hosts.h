// FakeHosts: a fleet for the engine's unit tests (targets/hosts.h) — each host a FakeTarget and
// a FakeRouter, reachable until the test cuts it. Release directories are made up (no file is
// written); each artifact "sent" to a host is counted, so that a test can tell that a host which
// has an artifact is not sent it again.
//
//   FakeHosts hosts;
//   hosts.Add("h1", {{"role", "web"}});
//   hosts.Cut("h1", "ssh: connect to host 10.0.0.5 port 22: No route to host");
//   hosts.target("h1").Alive();
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "targets/hosts.h"
#include "testutil/fake_router.h"
#include "testutil/fake_target.h"

namespace lastgood::testutil {

class FakeHosts : public Hosts {
 public:
  struct Host : public HostNode {
    std::string name;
    std::map<std::string, std::string> labels;
    FakeTarget fakeTarget;
    FakeRouter fakeRouter;
    std::mutex mu;
    bool reachable = true;
    std::string problem;
    std::set<std::string> artifacts;  // digests the host holds
    int pushes = 0;                   // artifacts sent to it
    std::vector<ProbeSpec> execs;     // exec probes the node ran (smoke tests), in order
    int execExit = 0;                 // what each exec probe exits with

    Target* target() override { return &fakeTarget; }
    RouterControl* router() override { return &fakeRouter; }
    ProbeResult Probe(const ProbeSpec& spec) override {
      std::lock_guard lock(mu);
      if (!reachable) return {false, "the node on " + name + " did not probe: " + problem, 0};
      if (spec.kind == ProbeSpec::Kind::kExec) {
        execs.push_back(spec);
        return {execExit == 0, "exec " + spec.command.at(0) + " → exit " + std::to_string(execExit),
                0};
      }
      return {true, "probe on " + name + " :" + std::to_string(spec.port) + " ok", 200};
    }
    Result<std::string> EnsureRelease(const std::string& app, int version,
                                      const std::string& digest, const std::string& /*name*/,
                                      const std::string& /*artifact_path*/) override {
      std::lock_guard lock(mu);
      if (!reachable) return Error::Unavailable("host " + name + " is unreachable: " + problem);
      if (!digest.empty() && artifacts.insert(digest).second) ++pushes;
      return "/fake/" + name + "/releases/" + app + "/" + std::to_string(version);
    }
  };

  std::vector<HostInfo> Snapshot() override {
    std::lock_guard lock(mu_);
    std::vector<HostInfo> out;
    for (auto& [name, h] : hosts_) {
      std::lock_guard host_lock(h->mu);
      out.push_back({name, h->labels, h->reachable, h->problem});
    }
    return out;
  }
  std::shared_ptr<HostNode> Driver(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(name);
    return it == hosts_.end() ? nullptr : it->second;
  }

  void Add(const std::string& name, std::map<std::string, std::string> labels = {}) {
    auto h = std::make_shared<Host>();
    h->name = name;
    h->labels = std::move(labels);
    std::lock_guard lock(mu_);
    hosts_[name] = h;
  }
  // The network to `name` is cut: it cannot be reached (its instances and router go on, as
  // a real host's do); `problem` is what ssh said.
  void Cut(const std::string& name, const std::string& problem = "the ssh connection is down") {
    auto& h = host(name);
    {
      std::lock_guard lock(h.mu);
      h.reachable = false;
      h.problem = problem;
    }
    h.fakeTarget.Freeze();
    h.fakeRouter.SetDown(true);
  }
  void Mend(const std::string& name) {
    auto& h = host(name);
    {
      std::lock_guard lock(h.mu);
      h.reachable = true;
      h.problem.clear();
    }
    h.fakeTarget.Thaw();
    h.fakeRouter.SetDown(false);
  }
  FakeTarget& target(const std::string& name) { return host(name).fakeTarget; }
  FakeRouter& router(const std::string& name) { return host(name).fakeRouter; }
  // The exec probes (smoke tests) `name`'s node ran, and what the next ones exit with.
  std::vector<ProbeSpec> Execs(const std::string& name) {
    auto& h = host(name);
    std::lock_guard lock(h.mu);
    return h.execs;
  }
  void ExecExits(const std::string& name, int code) {
    auto& h = host(name);
    std::lock_guard lock(h.mu);
    h.execExit = code;
  }
  int Pushes(const std::string& name) {
    auto& h = host(name);
    std::lock_guard lock(h.mu);
    return h.pushes;
  }
  // A dead controller changes no host's instances (FakeTarget::Freeze), until Thaw().
  void Freeze() {
    std::lock_guard lock(mu_);
    for (auto& [name, h] : hosts_) h->fakeTarget.Freeze();
  }
  void Thaw() {
    std::lock_guard lock(mu_);
    for (auto& [name, h] : hosts_) h->fakeTarget.Thaw();
  }
  // A new controller: each host's target forgets what it started (as FakeTarget does).
  void NewController() {
    std::lock_guard lock(mu_);
    for (auto& [name, h] : hosts_) h->fakeTarget.NewController();
  }

 private:
  Host& host(const std::string& name) {
    std::lock_guard lock(mu_);
    return *hosts_.at(name);
  }
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Host>> hosts_;
};

}  // namespace lastgood::testutil
