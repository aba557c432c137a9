#include "engine/fleet_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/fleet_record.h"
#include "engine/release.h"
#include "engine/slot_instances.h"
#include "engine/strategies/strategies.h"
#include "manifest/fleet.h"

namespace lastgood {
namespace {

// How many of the newest records are searched for the fleet deployment a rollback undoes.
constexpr int kSwitchRecords = 5;
// A fleet host runs the smoke test as its node's exec probe, which a node bounds to a minute
// (targets/remote/node_wire.h, kMaxProbeTimeoutMs).
constexpr Millis kMaxHostSmokeTimeout{60'000};

// Steps that hold the whole wave: a canary's analysis (of the hosts' merged traffic) and
// its pauses. Every other step of a strategy acts on one host.
bool WholeWave(const Step& s) { return s.op == Step::Op::kAnalyze || s.op == Step::Op::kPause; }

// A host's steps of the strategy (without prepare, hooks, bake and finish), cut at the steps
// of the whole wave: segments[i] comes before barriers[i].
struct HostSteps {
  std::string host;
  std::vector<std::vector<Step>> segments;
  std::vector<Step> barriers;
  std::vector<Step> switches;  // bluegreen's: held back until every wave's preview is up
};

HostSteps Split(const FleetHostPlan& h, int wave) {
  PlanInput in = h.in;
  in.preHook.clear();
  in.postHook.clear();
  in.bake = Millis(0);
  std::vector<Step> all;
  if (h.swapBack) {
    const int v = in.version;
    if (in.previewInstances < in.replicas)
      all.push_back(MakeStep(Step::Op::kStopOld, v, 0, Millis(0), kPreviewSlot));
    all.push_back(MakeStep(Step::Op::kStart, v, in.replicas, Millis(0), kPreviewSlot));
    all.push_back(MakeStep(Step::Op::kSwitch, v, 0, Millis(0), kPreviewSlot));
  } else {
    all = PlanDeployment(in);
  }
  HostSteps out{h.host, {{}}, {}, {}};
  // PlanDeployment's prepare is done before the first wave and its finish is the whole
  // deployment's; a warm return puts its switch before the prepare.
  for (Step s : all) {
    if (s.op == Step::Op::kPrepare || s.op == Step::Op::kFinish) continue;
    if (WholeWave(s)) {
      s.wave = wave;
      out.barriers.push_back(s);
      out.segments.emplace_back();
      continue;
    }
    s.host = h.host;
    s.wave = wave;
    if (s.op == Step::Op::kSwitch) {
      out.switches.push_back(s);
      continue;
    }
    out.segments.back().push_back(s);
  }
  return out;
}

// When the newest fleet deployment of the slot switched each host: its last step on the host
// that changed what runs there (prepare changes nothing), as (finishedAt, position in the
// plan), so that hosts switched in the same millisecond keep their plan order; and the wave
// it did so in.
struct Switched {
  std::pair<int64_t, int> at{0, 0};
  int wave = 0;
};

std::map<std::string, Switched> SwitchTimes(const EngineDeps& deps, const std::string& app,
                                            const std::string& slot) {
  std::map<std::string, Switched> out;
  auto recent = deps.store->ListDeployments(app, kSwitchRecords);
  if (!recent.ok()) return out;
  for (const auto& brief : *recent) {
    if (brief.slot != slot) continue;
    auto d = deps.store->GetDeployment(app, brief.name);
    if (!d.ok() || !IsFleet(*d)) continue;
    for (const auto& op : d->operations) {
      if (op.host.empty() || op.finishedAt == 0) continue;
      if (op.state != OperationState::kSucceeded && op.state != OperationState::kFailed) continue;
      auto step = StepFromJson(op.spec);
      if (!step.ok() || step->op == Step::Op::kPrepare) continue;
      Switched& sw = out[op.host];
      sw.at = std::max(sw.at, std::make_pair(op.finishedAt, op.index));
      sw.wave = std::max(sw.wave, step->wave);
    }
    break;
  }
  return out;
}

// A host that returns to instances of the version it keeps warm needs no release prepared
// first: its takeWarm step asks the node whether each of them still runs, and only if one
// does not, prepares the release and starts the version there itself (steps/take_warm.cc).
// Preparing it up front would only ask every node for what it has, before the first switch.
bool ReturnsWarm(const FleetHostPlan& h) {
  return !h.swapBack && h.in.warmInstances >= h.in.replicas;
}

}  // namespace

std::vector<Step> PlanFleet(const FleetPlanInput& in) {
  std::vector<Step> steps;
  const int v = in.version;
  for (const auto& wave : in.waves) {
    for (const auto& h : wave) {
      if (ReturnsWarm(h)) continue;
      Step prepare = MakeStep(Step::Op::kPrepare, v);
      prepare.host = h.host;
      steps.push_back(prepare);
    }
  }
  if (!in.preHook.empty())
    steps.push_back(MakeStep(Step::Op::kHook, v, 0, Millis(0), "", in.preHook));
  // A first deployment (no host runs another version) has nothing to be judged against, as a
  // first canary is planned as rolling: no wave analysis.
  bool previous_anywhere = false;
  for (const auto& wave : in.waves) {
    for (const auto& h : wave) previous_anywhere |= h.in.oldInstances > 0;
  }
  // A bluegreen deployment switches the slots of every host's instances in the store at once:
  // each wave brings the version up in the preview slot (and judges it there), and only then
  // the hosts switch, one at a time in wave order, each in a wave of its own.
  std::vector<Step> switches;
  for (size_t w = 0; w < in.waves.size(); ++w) {
    const int wave = static_cast<int>(w) + 1;
    std::vector<HostSteps> hosts;
    for (const auto& h : in.waves[w]) hosts.push_back(Split(h, wave));
    for (const auto& h : hosts)
      switches.insert(switches.end(), h.switches.begin(), h.switches.end());
    // The wave's pauses and analyses are those of its hosts with the most of them (a host
    // that runs nothing yet is planned as rolling, with none); a host whose steps are cut
    // otherwise does all of them in the first segment.
    std::vector<Step> barriers;
    for (const auto& h : hosts) {
      if (h.barriers.size() > barriers.size()) barriers = h.barriers;
    }
    for (auto& h : hosts) {
      if (h.barriers == barriers) continue;
      std::vector<Step> flat;
      for (auto& seg : h.segments) flat.insert(flat.end(), seg.begin(), seg.end());
      h.segments.assign(barriers.size() + 1, {});
      h.segments[0] = flat;
    }
    for (size_t seg = 0; seg <= barriers.size(); ++seg) {
      for (const auto& h : hosts) {
        steps.insert(steps.end(), h.segments[seg].begin(), h.segments[seg].end());
      }
      if (seg < barriers.size()) steps.push_back(barriers[seg]);
    }
    if (in.waveAnalysis && previous_anywhere) {
      bool previous_serves = false;  // on a host of a later wave
      for (size_t later = w + 1; later < in.waves.size(); ++later) {
        for (const auto& h : in.waves[later]) previous_serves |= h.in.oldInstances > 0;
      }
      Step analyse =
          MakeStep(Step::Op::kAnalyze, v, previous_serves ? kWaveAnalysis : kWaveAnalysisAlone);
      analyse.wave = wave;
      steps.push_back(analyse);
    }
    // A bluegreen wave ends with its preview up: its bake comes after the switches.
    if (in.bake.count() > 0 && switches.empty()) {
      Step bake = MakeStep(Step::Op::kBake, v, 0, in.bake);
      bake.wave = wave;
      steps.push_back(bake);
    }
  }
  int switch_wave = static_cast<int>(in.waves.size());
  for (Step s : switches) {
    s.wave = ++switch_wave;
    steps.push_back(s);
  }
  if (in.bake.count() > 0 && !switches.empty())
    steps.push_back(MakeStep(Step::Op::kBake, v, kBakeSwitchedHosts, in.bake));
  for (const auto& host : in.leaving) {
    Step stop = MakeStep(Step::Op::kStopOld, v, 0);
    stop.host = host;
    stop.wave = switch_wave + 1;
    steps.push_back(stop);
  }
  if (!in.postHook.empty())
    steps.push_back(MakeStep(Step::Op::kHook, v, 0, Millis(0), "", in.postHook));
  steps.push_back(MakeStep(Step::Op::kFinish, v));
  return steps;
}

Result<std::vector<std::string>> HostsRunning(const EngineDeps& deps, const std::string& app) {
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok()) return instances.error();
  std::set<std::string> hosts;
  for (const auto& i : *instances) {
    if (!i.host.empty()) hosts.insert(i.host);
  }
  return std::vector<std::string>(hosts.begin(), hosts.end());
}

Status RefuseUnbuiltOnFleet(const Manifest& m) {
  const auto& smoke = m.strategy.blueGreen.smokeTest;
  if (m.strategy.type == Strategy::Type::kBlueGreen && smoke &&
      smoke->timeout > kMaxHostSmokeTimeout) {
    return Error::InvalidInput("a smoke test runs on each fleet host through its node, for " +
                                   FormatDuration(kMaxHostSmokeTimeout) +
                                   " at most; nothing was changed",
                               "strategy.bluegreen.smokeTest.timeout");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SelectedHosts(const EngineDeps& deps, const Manifest& m) {
  auto records = deps.store->ListHosts();
  if (!records.ok()) return records.error();
  std::vector<SelectableHost> registered;
  for (const auto& r : *records) registered.push_back({r.name, r.labels});
  return SelectHosts(m.fleet, registered);
}

Result<PlannedOperations> PlanFleetFor(const EngineDeps& deps, const std::string& app,
                                       const std::string& slot, int version, const Manifest& m,
                                       DeploymentKind kind, const std::string& only_host) {
  auto selected = SelectedHosts(deps, m);
  if (!selected.ok()) return selected.error();
  if (!only_host.empty()) {
    const bool chosen = std::count(selected->begin(), selected->end(), only_host) > 0;
    *selected = chosen ? std::vector<std::string>{only_host} : std::vector<std::string>{};
  }
  auto instances = deps.store->ListInstances(app);
  if (!instances.ok() && instances.error().code != ErrorCode::kNotFound) return instances.error();
  std::vector<InstanceRecord> all = instances.ok() ? *instances : std::vector<InstanceRecord>{};

  // Progressive strategies move production's traffic step by step; another slot is simply
  // rolled, and a rollback goes straight back (its version was good already) — as PlanFor.
  const bool straight = slot != kProductionSlot || kind == DeploymentKind::kRollback ||
                        kind == DeploymentKind::kReconcile;
  // A rollback after a bluegreen switch that left `version` warm in the preview slot (of any
  // host: the slots of every host are exchanged at once) is a swap back on every host.
  bool swap_back = false;
  if (kind == DeploymentKind::kRollback && slot == kProductionSlot) {
    std::map<std::string, int> waiting;
    for (const auto& i : all) {
      if (!i.host.empty() && i.slot == kPreviewSlot && i.version == version &&
          i.state == InstanceState::kReady && i.warmUntil > 0)
        swap_back |= ++waiting[i.host] >= m.replicas;
    }
  }
  auto input_of = [&](const std::string& host) -> Result<FleetHostPlan> {
    EngineDeps scoped = deps;
    scoped.host = host;
    auto in = PlanInputFor(scoped, app, slot, version, m, kind);
    if (!in.ok()) return in.error();
    if (straight && (in->strategy.type == Strategy::Type::kCanary ||
                     in->strategy.type == Strategy::Type::kBlueGreen))
      in->strategy.type = Strategy::Type::kRolling;
    // Otherwise a fleet host returns by table change from warm instances in its slot.
    if (!swap_back) in->previewInstances = 0;
    return FleetHostPlan{host, *in, swap_back};
  };

  FleetPlanInput fleet;
  auto add_wave = [&](const std::vector<std::string>& names) -> Status {
    std::vector<FleetHostPlan> wave;
    for (const auto& h : names) {
      auto plan = input_of(h);
      if (!plan.ok()) return plan.error();
      wave.push_back(std::move(*plan));
    }
    fleet.waves.push_back(std::move(wave));
    return Status::Ok();
  };
  fleet.version = version;
  fleet.bake = m.bake;
  fleet.waveAnalysis = !straight && m.strategy.type == Strategy::Type::kRolling &&
                       m.strategy.rolling.analysis.has_value();
  auto hooks = PlanInputFor(deps, app, slot, version, m, kind);
  if (!hooks.ok()) return hooks.error();
  if (only_host.empty()) {  // one host catching up runs no hook of the whole deployment
    fleet.preHook = hooks->preHook;
    fleet.postHook = hooks->postHook;
  }

  std::set<std::string> chosen(selected->begin(), selected->end());
  if (straight && slot == kProductionSlot) {
    // Newest switch first: the reverse order of the switching it undoes (as the newest fleet
    // record says; a host it does not name, by its newest instance). Hosts switched in one
    // wave return in one wave, the last wave's first; hosts that lack the version come last.
    std::map<std::string, std::pair<int64_t, int>> switched_at;
    std::map<std::string, int> wave_of;  // the recorded wave of the switch; 0: not recorded
    std::map<std::string, int> have;     // live or warm instances of `version`
    const auto recorded = SwitchTimes(deps, app, slot);
    for (const auto& i : all) {
      if (i.slot != slot || i.host.empty()) continue;
      if (i.version != version && IsLive(i)) {
        auto it = recorded.find(i.host);
        auto at = it != recorded.end() ? it->second.at : std::make_pair(i.createdAt, 0);
        switched_at[i.host] = std::max(switched_at[i.host], at);
        wave_of[i.host] = it != recorded.end() ? it->second.wave : 0;
      }
      if (i.version == version && i.state != InstanceState::kDraining) ++have[i.host];
    }
    std::vector<std::string> order;
    for (const auto& h : *selected) {
      if (switched_at.count(h)) order.push_back(h);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto& a, const auto& b) { return switched_at[a] > switched_at[b]; });
    std::vector<std::vector<std::string>> groups;
    for (size_t k = 0; k < order.size(); ++k) {
      if (k == 0 || wave_of[order[k]] != wave_of[order[k - 1]]) groups.emplace_back();
      groups.back().push_back(order[k]);
    }
    std::vector<std::string> lacking;
    for (const auto& h : *selected) {
      if (!switched_at.count(h) && have[h] < m.replicas) lacking.push_back(h);
    }
    if (!lacking.empty()) groups.push_back(lacking);
    if (swap_back) {
      // One wave brings every host's preview instances up together; the switches that
      // follow go one host at a time in this order, the last switched first.
      std::vector<std::string> every;
      for (const auto& g : groups) every.insert(every.end(), g.begin(), g.end());
      groups.assign(1, every);
    }
    for (const auto& names : groups) LG_RETURN_IF_ERROR(add_wave(names));
  } else {
    auto waves = PlanWaves(*selected, m.fleet.waves);
    if (!waves.ok()) return waves.error();
    for (const auto& names : *waves) LG_RETURN_IF_ERROR(add_wave(names));
  }
  std::set<std::string> leaving;
  if (!only_host.empty()) all.clear();  // the other hosts are not this plan's
  for (const auto& i : all) {
    if (i.slot == slot && !i.host.empty() && !chosen.count(i.host) && IsLive(i))
      leaving.insert(i.host);
  }
  fleet.leaving.assign(leaving.begin(), leaving.end());
  Strategy::Type type = m.strategy.type;
  if (straight && (type == Strategy::Type::kCanary || type == Strategy::Type::kBlueGreen))
    type = Strategy::Type::kRolling;
  return ToOperations(swap_back ? "swap" : StrategyName(type), PlanFleet(fleet));
}

}  // namespace lastgood
