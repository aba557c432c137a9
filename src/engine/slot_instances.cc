#include "engine/slot_instances.h"

#include <algorithm>
#include <random>

#include "engine/confine.h"
#include "engine/drainer.h"
#include "engine/routes.h"
#include "engine/secret_env.h"
#include "health/probe.h"

namespace lastgood {
namespace {

// Waits until the router reports no request in flight at the backend `id`, for at most
// kMaxDrain. Without an answer from the router there is nothing to wait on.
void WaitForRequestsInFlight(Routes* routes, Clock* clock, const std::string& id) {
  auto until = clock->Steady() + kMaxDrain;
  while (clock->Steady() < until) {
    auto stats = routes->Stats(Millis(1000));
    if (!stats.ok()) return;
    uint64_t in_flight = 0;
    for (const auto& row : stats->rows) {
      if (row.backend == id) in_flight += row.inFlight;
    }
    if (in_flight == 0) return;
    clock->SleepFor(kDrainPoll);
  }
}

// While an instance starts it is probed more often than `interval`, so that readiness is
// seen promptly and a deployment takes no longer than the instances themselves need.
constexpr Millis kStartupProbeFirst{2};
constexpr Millis kStartupProbeMin{20};
constexpr Millis kSleepSlice{25};

std::string RandomSuffix() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 4; ++i) s += hex[rng() % 16];
  return s;
}

ProbeSpec ProbeFor(const Manifest& m, int port, const std::string& cwd, const Sandbox& box) {
  const Probe& p = *m.readiness;
  ProbeSpec spec;
  spec.kind = p.kind == Probe::Kind::kHttp  ? ProbeSpec::Kind::kHttp
              : p.kind == Probe::Kind::kTcp ? ProbeSpec::Kind::kTcp
                                            : ProbeSpec::Kind::kExec;
  spec.port = port;
  spec.path = p.path;
  spec.command = p.command;
  spec.env = {{"PORT", std::to_string(port)}};
  spec.cwd = cwd;
  spec.sandbox = box;
  spec.app = m.app;  // a fleet host's node confines it by these
  spec.runUser = m.run.user;
  spec.timeout = p.timeout;
  return spec;
}

// The last error line an instance logged; only this machine's logs are at hand.
std::string LastErrorOf(const EngineDeps& deps, const std::string& log_dir, const std::string& id) {
  return deps.node ? "" : LastErrorLine(log_dir, id);
}

}  // namespace

ProbeResult ProbeOn(const EngineDeps& deps, const ProbeSpec& spec) {
  return deps.node ? deps.node->Probe(spec) : RunProbe(spec);
}

SlotInstances::SlotInstances(const EngineDeps& deps, std::string app, std::string slot,
                             std::function<StepResult::Kind()> interrupted)
    : deps_(deps),
      app_(std::move(app)),
      slot_(std::move(slot)),
      interrupted_(std::move(interrupted)) {}

Result<Sandbox> SlotInstances::ExecProbeSandbox(const Manifest& m, const std::string& release_dir) {
  if (!m.readiness || m.readiness->kind != Probe::Kind::kExec) return Sandbox{};
  return SandboxFor(deps_, m, release_dir, app_ + " readiness probe");
}

StepResult SlotInstances::Interrupted() { return {interrupted_(), ""}; }

bool SlotInstances::Sleep(Millis d) {
  auto until = deps_.clock->Steady() + d;
  while (deps_.clock->Steady() < until) {
    if (interrupted_() != StepResult::Kind::kOk) return false;
    deps_.clock->SleepFor(std::min<Millis>(
        kSleepSlice, std::chrono::duration_cast<Millis>(until - deps_.clock->Steady())));
  }
  return interrupted_() == StepResult::Kind::kOk;
}

StepResult SlotInstances::EnsureReady(int version, const Manifest& m,
                                      const std::string& release_dir, int count,
                                      const std::optional<std::string>& settings) {
  const std::string log_dir = deps_.logDir + "/" + app_;
  auto listed = deps_.store->ListInstances(app_);
  if (!listed.ok()) return StepResult::Failed(listed.error().message);
  auto slots = deps_.store->ListSlots(app_);
  if (!slots.ok()) return StepResult::Failed(slots.error().message);
  // New instances run with the settings asked for, or else with their version's own (which
  // a deployment records as the slot's when it ends).
  const std::string wanted_settings = settings.value_or("");
  const std::vector<EnvVar> wanted_env = EnvFor(m, wanted_settings, *slots);

  // What already runs counts: a re-run after a crash, or a rollback to a version whose
  // instances are still up, starts only what is missing.
  std::vector<InstanceRecord> mine;
  for (auto& rec : *listed) {
    // A draining instance is on its way out (a drain thread stops it): never counted.
    if (rec.host != deps_.host || rec.slot != slot_ || rec.version != version ||
        rec.state == InstanceState::kDraining)
      continue;
    if (settings && EnvFor(m, rec.settings, *slots) != wanted_env) continue;
    auto st = deps_.target->Status(rec.id);
    if (!st.ok() || !st->alive) {
      (void)deps_.target->Stop(rec.id);  // it is gone already; this only forgets it
      if (auto s = deps_.store->DeleteInstance(rec.id); !s.ok())
        return StepResult::Failed(s.error().message);
      continue;
    }
    mine.push_back(rec);
  }
  // Warm instances (kept by keepPrevious) come back first: they were ready moments ago, so
  // a rollback to them is a probe and a table change, not a start.
  std::stable_sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
    return (a.state == InstanceState::kReady) > (b.state == InstanceState::kReady);
  });
  for (auto& rec : mine) {
    if (rec.state == InstanceState::kWarm) {
      rec.state = InstanceState::kStarting;
      rec.warmUntil = 0;
    }
  }
  if (static_cast<int>(mine.size()) > count) {
    // Only as many as asked come back now; the rest stay warm for a later step.
    for (size_t i = count; i < mine.size(); ++i) {
      if (mine[i].state == InstanceState::kStarting) mine[i].state = InstanceState::kWarm;
    }
    mine.resize(count);
  }
  // "At least": extra instances of the version (a rollback to a version that still runs
  // more than this step asks for) are kept; the slot's final size is the plan's business.
  std::vector<std::string> started;
  // Secrets are read when an instance starts: a rotated one reaches new instances only.
  std::optional<ResolvedEnv> resolved;
  if (static_cast<int>(mine.size()) < count) {
    auto r = ResolveEnv(deps_, app_, wanted_env);
    if (!r.ok()) return StepResult::Failed("cannot start an instance: " + r.error().message);
    resolved = std::move(*r);
  }
  while (static_cast<int>(mine.size()) < count) {
    std::string id = app_ + "-" + slot_ + "-v" + std::to_string(version) + "-" +
                     (deps_.host.empty() ? "" : deps_.host + "-") + RandomSuffix();
    // A fleet host's node picks the port there (0); this machine's, here.
    auto port = deps_.node ? Result<int>(0) : PickFreePort();
    if (!port.ok()) return StepResult::Failed(port.error().message);
    InstanceSpec spec = SpecFor(m, id, release_dir, log_dir, *port, *resolved);
    auto box = SandboxFor(deps_, m, release_dir, id);
    if (!box.ok()) return StepResult::Failed("instance " + id + ": " + box.error().message);
    spec.sandbox = *box;
    auto h = deps_.target->Start(spec);
    if (!h.ok()) return StepResult::Failed("instance " + id + ": " + h.error().message);
    InstanceRecord rec{id,
                       app_,
                       slot_,
                       version,
                       h->pid,
                       h->startTime,
                       h->port,
                       InstanceState::kStarting,
                       deps_.clock->NowMillis(),
                       0,
                       wanted_settings,
                       deps_.host};
    if (auto s = deps_.store->PutInstance(rec); !s.ok()) {
      (void)deps_.target->Stop(id);
      return StepResult::Failed(s.error().message);
    }
    mine.push_back(rec);
    started.push_back(id);
  }

  // A restart counts from now: a warm instance may have been restarted long ago.
  std::map<std::string, int> base_restarts;
  for (auto& rec : mine) {
    auto st = deps_.target->Status(rec.id);
    base_restarts[rec.id] = st.ok() ? st->restarts : 0;
  }
  // Wait until every instance is ready, an instance dies, or the progress deadline passes.
  const auto deadline = deps_.clock->Steady() + m.progressDeadline;
  const auto step_start = deps_.clock->Steady();
  // Probe soon after a start (a small service is ready within milliseconds), then back off
  // to a quarter of the interval.
  const Millis max_pause =
      std::max(kStartupProbeMin, (m.readiness ? m.readiness->interval : Millis(50)) / 4);
  Millis pause = kStartupProbeFirst;
  std::map<std::string, std::string> last_result;
  std::map<std::string, int> failures;
  Result<Sandbox> probe_box = ExecProbeSandbox(m, release_dir);
  if (!probe_box.ok()) return StepResult::Failed(probe_box.error().message);
  for (;;) {
    bool all_ready = true, newly_ready = false;
    for (auto& rec : mine) {
      if (rec.state == InstanceState::kReady) continue;
      auto st = deps_.target->Status(rec.id);
      if (!st.ok() || !st->alive || st->restarts > base_restarts[rec.id]) {
        std::string why = st.ok() && !st->lastExit.empty() ? st->lastExit : "exited";
        std::string err = LastErrorOf(deps_, log_dir, rec.id);
        return StepResult::Failed("instance " + rec.id + " " + why + " before it was ready" +
                                  (err.empty() ? "" : "; its last error: " + err));
      }
      bool ready = true;
      if (m.readiness) {
        auto r = ProbeOn(deps_, ProbeFor(m, rec.port, release_dir, *probe_box));
        last_result[rec.id] = r.detail;
        if (!r.ok) ++failures[rec.id];
        ready = r.ok;
      }
      if (ready) {
        rec.state = InstanceState::kReady;
        newly_ready = true;
        if (auto s = deps_.store->PutInstance(rec); !s.ok())
          return StepResult::Failed(s.error().message);
      } else {
        all_ready = false;
      }
    }
    // A ready instance takes traffic at once, before the others are ready.
    if (newly_ready) {
      if (auto s = Publish(); !s.ok())
        return StepResult::Failed("the router did not take the new table: " + s.error().message);
    }
    if (all_ready) break;
    if (deps_.clock->Steady() >= deadline) {
      for (auto& rec : mine) {
        if (rec.state == InstanceState::kReady) continue;
        return StepResult::Failed("progress deadline " + FormatDuration(m.progressDeadline) +
                                  " exceeded: instance " + rec.id + " not ready; readiness probe " +
                                  last_result[rec.id] + " (failed " +
                                  std::to_string(failures[rec.id]) + " times)");
      }
    }
    if (!Sleep(pause)) return Interrupted();
    pause = std::min(pause * 2, max_pause);
  }
  auto took = std::chrono::duration_cast<Millis>(deps_.clock->Steady() - step_start);
  std::string detail = std::to_string(count) + " ready";
  if (!started.empty()) {
    detail += ", started " + std::to_string(started.size()) + " (";
    for (size_t i = 0; i < started.size(); ++i) {
      detail += (i ? ", " : "") + started[i];
    }
    detail += ")";
  }
  detail += " in " + FormatDuration(took);
  return StepResult::Ok(detail);
}

StepResult SlotInstances::EnsureSettings(int version, const Manifest& m,
                                         const std::string& release_dir,
                                         const std::string& settings) {
  auto listed = deps_.store->ListInstances(app_);
  if (!listed.ok()) return StepResult::Failed(listed.error().message);
  auto slots = deps_.store->ListSlots(app_);
  if (!slots.ok()) return StepResult::Failed(slots.error().message);
  const std::vector<EnvVar> wanted = EnvFor(m, settings, *slots);
  std::vector<InstanceRecord> mismatched;
  int live = 0;
  for (const auto& rec : *listed) {
    if (rec.host != deps_.host || rec.slot != slot_ || rec.version != version || !IsLive(rec))
      continue;
    ++live;
    if (EnvFor(m, rec.settings, *slots) != wanted) mismatched.push_back(rec);
  }
  if (live == 0)
    return StepResult::Failed("no instance of v" + std::to_string(version) + " in " + slot_);
  if (mismatched.empty()) {
    return StepResult::Ok(std::to_string(live) + " instances already run with " + settings +
                          "'s settings");
  }
  StepResult r = EnsureReady(version, m, release_dir, live, settings);
  if (r.kind != StepResult::Kind::kOk) return r;
  StepResult retired = Retire(mismatched);
  if (retired.kind != StepResult::Kind::kOk) return retired;
  return StepResult::Ok("restarted with " + settings + "'s settings: " + r.detail + "; " +
                        retired.detail);
}

Status SlotInstances::Publish() {
  if (!deps_.routes) return Status::Ok();
  return deps_.routes->Publish();
}

StepResult SlotInstances::Retire(const std::vector<InstanceRecord>& instances) {
  if (instances.empty()) return StepResult::Ok("");
  bool routed = false;
  for (auto rec : instances) {
    routed = routed || rec.state == InstanceState::kReady;
    rec.state = InstanceState::kDraining;
    if (auto s = deps_.store->PutInstance(rec); !s.ok())
      return StepResult::Failed(s.error().message);
  }
  if (routed && deps_.routes) {
    if (auto s = Publish(); !s.ok())
      return StepResult::Failed("the router did not take the new table: " + s.error().message);
  }
  std::string detail = "stopped";
  for (size_t i = 0; i < instances.size(); ++i) detail += (i ? ", " : " ") + instances[i].id;
  // Out of the table, they take no new request: the deployment goes on while they drain.
  const Millis delay =
      routed && deps_.routes && deps_.routes->Routed(app_) ? kDrainDelay : Millis(0);
  for (const auto& rec : instances) {
    auto stop = [deps = deps_, id = rec.id, wait = delay.count() > 0] {
      if (wait) WaitForRequestsInFlight(deps.routes, deps.clock, id);
      // A record whose stop failed stays "draining" and is retired again later.
      // A record whose delete failed stays "draining" too: Recover stops and forgets it.
      if (deps.target->Stop(id).ok()) (void)deps.store->DeleteInstance(id);
    };
    if (deps_.drainer) {
      deps_.drainer->Drain(app_, delay, std::move(stop));
    } else {
      deps_.clock->SleepFor(delay);
      stop();
    }
  }
  return StepResult::Ok(detail + (delay.count() ? " (draining their requests in flight)" : ""));
}

StepResult SlotInstances::StopOthers(int version, int count, int keep_warm, int64_t warm_until) {
  auto listed = deps_.store->ListInstances(app_);
  if (!listed.ok()) return StepResult::Failed(listed.error().message);
  std::vector<InstanceRecord> others;
  for (auto& rec : *listed) {
    if (rec.host == deps_.host && rec.slot == slot_ && rec.version != version && IsLive(rec))
      others.push_back(rec);
  }
  if (static_cast<int>(others.size()) <= count) return StepResult::Ok("nothing to stop");
  // Stop instances that are not ready first, then the oldest.
  std::sort(others.begin(), others.end(), [](auto& a, auto& b) {
    if ((a.state == InstanceState::kReady) != (b.state == InstanceState::kReady))
      return a.state != InstanceState::kReady;
    return a.createdAt < b.createdAt;
  });
  others.resize(others.size() - count);
  std::vector<InstanceRecord> warm, retire;
  for (auto& rec : others) {
    bool keep = keep_warm != 0 && rec.version == keep_warm && rec.state == InstanceState::kReady;
    (keep ? warm : retire).push_back(rec);
  }
  std::string detail;
  if (!warm.empty()) {
    for (auto& rec : warm) {
      rec.state = InstanceState::kWarm;
      rec.warmUntil = warm_until;
      if (auto s = deps_.store->PutInstance(rec); !s.ok())
        return StepResult::Failed(s.error().message);
      detail += (detail.empty() ? "kept warm, out of traffic: " : ", ") + rec.id;
    }
    if (auto s = Publish(); !s.ok())
      return StepResult::Failed("the router did not take the new table: " + s.error().message);
  }
  StepResult r = Retire(retire);
  if (r.kind != StepResult::Kind::kOk) return r;
  if (!r.detail.empty()) detail += (detail.empty() ? "" : "; ") + r.detail;
  return StepResult::Ok(detail);
}

StepResult SlotInstances::StopStaleWarm(int keep) {
  auto listed = deps_.store->ListInstances(app_);
  if (!listed.ok()) return StepResult::Failed(listed.error().message);
  const int64_t now = deps_.clock->NowMillis();
  std::vector<InstanceRecord> stale;
  for (auto& rec : *listed) {
    bool other = keep >= 0 && rec.version != keep;
    if (rec.host == deps_.host && rec.slot == slot_ && rec.state == InstanceState::kWarm &&
        (other || rec.warmUntil <= now))
      stale.push_back(rec);
  }
  return Retire(stale);
}

StepResult SlotInstances::Bake(int version, const Manifest& m, const std::string& release_dir) {
  auto listed = deps_.store->ListInstances(app_);
  if (!listed.ok()) return StepResult::Failed(listed.error().message);
  std::vector<InstanceRecord> mine;
  for (auto& rec : *listed) {
    if (rec.host == deps_.host && rec.slot == slot_ && rec.version == version) mine.push_back(rec);
  }
  const std::string log_dir = deps_.logDir + "/" + app_;
  std::map<std::string, int> restarts, failures;
  for (auto& rec : mine) {
    auto st = deps_.target->Status(rec.id);
    restarts[rec.id] = st.ok() ? st->restarts : 0;
  }
  Result<Sandbox> probe_box = ExecProbeSandbox(m, release_dir);
  if (!probe_box.ok()) return StepResult::Failed(probe_box.error().message);
  const auto until = deps_.clock->Steady() + m.bake;
  const Millis interval = m.readiness ? m.readiness->interval : Millis(200);
  for (;;) {
    for (auto& rec : mine) {
      auto st = deps_.target->Status(rec.id);
      if (!st.ok() || !st->alive || st->restarts != restarts[rec.id]) {
        std::string why = st.ok() && !st->lastExit.empty() ? st->lastExit : "exited";
        std::string err = LastErrorOf(deps_, log_dir, rec.id);
        return StepResult::Failed("instance " + rec.id + " " + why + " during bake" +
                                  (err.empty() ? "" : "; its last error: " + err));
      }
      if (!m.readiness) continue;
      auto r = ProbeOn(deps_, ProbeFor(m, rec.port, release_dir, *probe_box));
      failures[rec.id] = r.ok ? 0 : failures[rec.id] + 1;
      if (failures[rec.id] >= m.readiness->failureThreshold) {
        return StepResult::Failed("instance " + rec.id + " failed its readiness probe " +
                                  std::to_string(failures[rec.id]) +
                                  " times in a row during bake; last: " + r.detail);
      }
    }
    if (deps_.clock->Steady() >= until) break;
    auto left = std::chrono::duration_cast<Millis>(until - deps_.clock->Steady());
    if (!Sleep(std::min(interval, left))) return Interrupted();
  }
  return StepResult::Ok(std::to_string(mine.size()) + " instances healthy for " +
                        FormatDuration(m.bake));
}

}  // namespace lastgood
