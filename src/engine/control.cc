// The engine's control intents: pause, resume and abort of the running deployment, committed
// to the store for its executor to read (engine/intents.cc).
#include "engine/engine.h"
#include "engine/plan.h"
#include "engine/slot_now.h"

namespace lastgood {

Result<Outcome> Engine::Control(const ControlRequest& req) {
  LG_RETURN_IF_ERROR(RequireApp(*deps_.store, req.app));
  auto now = ReadSlot(*deps_.store, req.app, kProductionSlot);
  if (!now.ok()) return now.error();
  if (!now->active) {
    return Error::Conflict("no deployment of " + req.app + " is running; nothing to " + req.action);
  }
  const Deployment& d = *now->active;
  Outcome o;
  o.app = req.app;
  o.deployment = d.name;
  o.version = d.version;
  o.slot = d.slot;
  o.kind = req.action;
  Intent intent{IntentKind::kPause, req.actor};
  if (req.action == "pause") {
    o.message = d.name + " pauses before its next step; `lastgood resume " + req.app + "` goes on";
  } else if (req.action == "resume") {
    // A resume answers a pause: the user's own, or a pause step under way. Accepted at any
    // other moment, it would wait in the store and end a later `pause: untilResumed` at once.
    auto held = deps_.store->GetIntent(req.app, d.name);
    if (!held.ok()) return held.error();
    bool in_pause_step = false;
    if (d.cursor >= 0 && d.cursor < static_cast<int>(d.operations.size())) {
      auto step = StepFromJson(d.operations[d.cursor].spec);
      in_pause_step = step.ok() && step->op == Step::Op::kPause;
    }
    if (!in_pause_step && !(*held && (*held)->kind == IntentKind::kPause)) {
      std::string at = d.cursor < static_cast<int>(d.operations.size())
                           ? " (it is at: " + d.operations[d.cursor].step + ")"
                           : "";
      return Error::Conflict(d.name + " is not paused" + at + "; nothing to resume");
    }
    intent.kind = IntentKind::kResume;
    o.message = d.name + " goes on";
  } else if (req.action == "abort") {
    if (d.kind == DeploymentKind::kRollback) {
      return Error::Conflict(d.name + " is a rollback; it is not aborted (roll forward after it)");
    }
    intent.kind = IntentKind::kAbort;
    o.message = d.name + " is aborted: traffic goes back to the last good version, and v" +
                std::to_string(d.version) + " is marked bad";
  } else {
    return Error::InvalidInput("unknown action '" + req.action + "'; use pause, resume or abort",
                               "action");
  }
  if (req.whatIf) {
    o.whatIf = true;
    o.message = "would: " + o.message;
    return o;
  }
  LG_RETURN_IF_ERROR(deps_.store->SetIntent(req.app, d.name, intent));
  Notify();
  return o;
}

}  // namespace lastgood
