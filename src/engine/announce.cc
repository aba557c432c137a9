// A deployment's start and end, sent to the webhooks of its version's manifest.
#include "engine/executor.h"
#include "engine/release.h"
#include "notify/notifier.h"

namespace lastgood {

void Executor::Announce(const Deployment& d) {
  if (!deps_.notifier) return;
  auto m = LoadManifest(deps_, d.app, d.version);
  if (!m.ok() || m->notifications.webhooks.empty()) return;
  DeploymentEvent e;
  e.event = d.state == DeploymentState::kRunning      ? "started"
            : d.state == DeploymentState::kSucceeded  ? "succeeded"
            : d.state == DeploymentState::kRolledBack ? "rolledBack"
            : d.state == DeploymentState::kCanceled   ? "canceled"
                                                      : "failed";
  e.app = d.app;
  e.deployment = d.name;
  e.slot = d.slot;
  e.kind = KindName(d.kind);
  e.strategy = d.strategy;
  e.trigger = d.trigger == Trigger::kAuto ? "auto" : "user";
  e.actor = d.actor;
  e.state = StateName(d.state);
  e.reason = d.reason;
  e.version = d.version;
  e.fromVersion = d.fromVersion;
  e.at = d.finishedAt ? d.finishedAt : d.startedAt;
  deps_.notifier->Send(m->notifications.webhooks, e);
}

}  // namespace lastgood
