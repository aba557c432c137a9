// The engine's read side: status, traffic, diff, follow-up.
#include <algorithm>
#include <map>

#include "engine/confine.h"
#include "engine/diff.h"
#include "engine/engine.h"
#include "engine/fleet_plan.h"
#include "engine/host_scope.h"
#include "engine/plan.h"
#include "engine/release.h"
#include "engine/routes.h"
#include "engine/slot_now.h"
#include "history/reasons.h"
#include "history/rules.h"

namespace lastgood {
namespace {

// AppStatus::analysis (see engine.h). Best effort: a version whose manifest no longer
// loads has no analysis to show, which is not an error of `status`.
std::optional<AnalysisView> AnalysisNow(const EngineDeps& deps, const std::string& app,
                                        const std::optional<Deployment>& running,
                                        int production_version) {
  if (running) {
    auto m = LoadManifest(deps, app, running->version);
    if (!m.ok()) return std::nullopt;
    for (int i = running->cursor; i < static_cast<int>(running->operations.size()); ++i) {
      auto step = StepFromJson(running->operations[i].spec);
      if (!step.ok()) continue;
      const Analysis* a = AnalysisOf(*step, *m);
      if (!a) continue;
      AnalysisView v{Describe(*step), i == running->cursor, *a, ""};
      if (v.active) v.lastWindow = running->operations[i].detail;
      return v;
    }
    return std::nullopt;
  }
  if (production_version == 0) return std::nullopt;
  auto m = LoadManifest(deps, app, production_version);
  if (!m.ok()) return std::nullopt;
  for (const auto& c : m->strategy.canarySteps) {
    if (c.kind == CanaryStep::Kind::kAnalysis) return AnalysisView{"", false, c.analysis, ""};
  }
  if (m->strategy.blueGreen.analysis)
    return AnalysisView{"", false, *m->strategy.blueGreen.analysis, ""};
  return std::nullopt;
}

// A fleet app's hosts in a slot: those its version's manifest selects, and any that runs an
// instance of it there; each with the version its ready instances run (the newest of two,
// under a canary) and whether it can be reached.
// `asked`: each reachable host's router listeners of the app, asked once per status (a
// request over that host's ssh connection) and shared by the slots.
std::vector<HostSlotView> HostsOfSlot(const EngineDeps& deps, const std::string& app,
                                      const SlotView& slot,
                                      const std::vector<InstanceRecord>& instances,
                                      std::map<std::string, std::vector<ListenerView>>* asked) {
  std::vector<std::string> names;
  if (slot.version > 0) {
    auto m = LoadManifest(deps, app, slot.version);
    if (m.ok() && m->fleet.enabled()) {
      auto selected = SelectedHosts(deps, *m);
      if (selected.ok()) names = *selected;
    }
  }
  for (const auto& i : instances) {
    if (!i.host.empty() && i.slot == slot.name &&
        std::find(names.begin(), names.end(), i.host) == names.end())
      names.push_back(i.host);
  }
  std::vector<HostSlotView> out;
  for (const auto& name : names) {
    HostSlotView h;
    h.name = name;
    h.reachable = HostReachable(deps, name, &h.problem);
    if (h.reachable) {
      // What that host's router says of the slot's addresses: one it could not bind is seen
      // from the app's status, not only from `lastgood hosts`.
      auto [it, first] = asked->try_emplace(name);
      if (first) {
        if (auto scoped = ForHost(deps, name); scoped.ok() && scoped->routes)
          it->second = scoped->routes->Listeners(app);
      }
      for (const auto& l : it->second)
        if (l.slot == slot.name) h.listeners.push_back(l);
    }
    for (const auto& i : instances) {
      if (i.host == name && i.slot == slot.name && i.state == InstanceState::kReady)
        h.version = std::max(h.version, i.version);
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

Result<AppStatus> Engine::StatusOf(const std::string& app) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, app));
  AppStatus st;
  st.app = app;
  auto slots = deps_.store->ListSlots(app);
  if (!slots.ok()) return slots.error();
  auto instances = deps_.store->ListInstances(app);
  if (!instances.ok()) return instances.error();
  auto find_slot = [&](const std::string& name) -> SlotView& {
    for (auto& s : st.slots) {
      if (s.name == name) return s;
    }
    SlotView view;
    view.name = name;
    st.slots.push_back(std::move(view));
    return st.slots.back();
  };
  for (const auto& s : *slots) {
    SlotView& view = find_slot(s.slot);
    view.version = s.version;
    view.weight = s.weight;
    view.canaryVersion = s.canaryVersion;
    view.canaryWeight = s.canaryWeight;
    view.swapPending = s.swapPending;
  }
  // A fleet host's instances are asked of its node; one that cannot be reached now shows
  // what the record says, and the host shows as unreachable.
  std::map<std::string, Target*> targets = {{"", deps_.target}};
  auto target_of = [&](const std::string& host) -> Target* {
    auto it = targets.find(host);
    if (it != targets.end()) return it->second;
    auto scoped = ForHost(deps_, host);
    return targets[host] = scoped.ok() ? scoped->target : nullptr;
  };
  for (const auto& rec : *instances) {
    InstanceView iv{rec.id,
                    rec.host,
                    rec.version,
                    "127.0.0.1:" + std::to_string(rec.port),  // on its own host
                    InstanceStateName(rec.state),
                    rec.pid,
                    0};
    if (Target* target = target_of(rec.host)) {
      auto ts = target->Status(rec.id);
      if (!ts.ok() || !ts->alive) {
        iv.state = "exited";
      } else {
        iv.pid = ts->handle.pid;
        iv.restarts = ts->restarts;
      }
    }
    find_slot(rec.slot).instances.push_back(iv);
  }
  std::map<std::string, std::vector<ListenerView>> host_listeners;
  for (auto& view : st.slots)
    view.hosts = HostsOfSlot(deps_, app, view, *instances, &host_listeners);
  auto running = deps_.store->RunningDeployments();
  if (!running.ok()) return running.error();
  for (auto& d : *running) {
    if (d.app == app) st.running = d;
  }
  int running_version = 0;
  for (auto& s : st.slots) {
    if (s.name == kProductionSlot) running_version = s.version;
  }
  auto last_good = deps_.store->LastGood(app, kProductionSlot, running_version);
  if (!last_good.ok()) return last_good.error();
  st.lastGood = *last_good;
  st.analysis = AnalysisNow(deps_, app, st.running, running_version);
  st.confinement = ConfinementOf(deps_, app, running_version);
  if (deps_.routes) st.listeners = deps_.routes->Listeners(app);
  return st;
}

Result<RouterStats> Engine::Traffic(const std::string& app, Millis window) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, app));
  // A fleet app's traffic is its hosts' routers' statistics, merged (docs/fleets.md).
  auto hosts = HostsRunning(deps_, app);
  if (!hosts.ok()) return hosts.error();
  std::unique_ptr<Routes> view;
  const EngineDeps deps = ForHosts(deps_, *hosts, &view);
  if (!deps.routes) {
    return Error::Unavailable("this controller runs without a router (serve --no-router)");
  }
  auto stats = deps.routes->Stats(window);
  if (!stats.ok()) return stats.error();
  RouterStats mine;
  mine.windowMillis = stats->windowMillis;
  for (auto& row : stats->rows) {
    if (row.app == app && row.backend.empty()) mine.rows.push_back(std::move(row));
  }
  return mine;
}

Result<std::string> Engine::Diff(const std::string& app, int a, int b) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, app));
  auto va = deps_.store->GetVersion(app, a);
  if (!va.ok()) return va.error();
  auto vb = deps_.store->GetVersion(app, b);
  if (!vb.ok()) return vb.error();
  std::string diff =
      UnifiedDiff(va->manifest, vb->manifest, VersionLabel(app, a), VersionLabel(app, b));
  if (va->digest != vb->digest) {
    diff += "artifact: " + (va->digest.empty() ? "(none)" : va->digest) + " → " +
            (vb->digest.empty() ? "(none)" : vb->digest) + "\n";
  }
  return diff;
}

std::optional<std::string> Engine::FollowUp(const std::string& app, const std::string& name) {
  auto recent = deps_.store->ListDeployments(app, 20);
  if (!recent.ok()) return std::nullopt;
  const std::string needle = std::string(kReasonAutoRollback) + " " + name + " failed";
  for (const auto& d : *recent) {
    if (d.trigger == Trigger::kAuto && d.reason.rfind(needle, 0) == 0) return d.name;
  }
  return std::nullopt;
}

}  // namespace lastgood
