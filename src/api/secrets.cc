// The secret routes (issue 11 C; docs/secrets.md), in the table as:
//
//   GET    /v1/apps/{app}/secrets           deployer: names, when and by whom each was set
//   PUT    /v1/apps/{app}/secrets/{secret}  admin: the body is the value, as is (not JSON)
//   DELETE /v1/apps/{app}/secrets/{secret}  admin
//
// A value is in one request body and nowhere else: no response, audit line or log holds it.
// Listing shows only names, but which credentials an app has is the business of those who
// deploy it, not of a viewer.
#include <nlohmann/json.hpp>

#include "api/handlers.h"
#include "api/json.h"
#include "api/verbs.h"
#include "base/clock.h"
#include "manifest/parser.h"
#include "secrets/secret_box.h"
#include "store/store.h"

namespace lastgood {
namespace {

using nlohmann::json;

// "production (v3), staging (v2)": the slots whose version refers to secret `name`.
std::string SlotsUsing(Store& store, const std::string& app, const std::string& name) {
  std::string out;
  auto slots = store.ListSlots(app);
  if (!slots.ok()) return out;
  for (const auto& s : *slots) {
    if (s.version <= 0) continue;
    auto v = store.GetVersion(app, s.version);
    if (!v.ok()) continue;
    auto m = ParseManifest(v->manifest, {});
    if (!m.ok()) continue;
    for (const auto& e : m->manifest.run.env) {
      if (e.secret != name) continue;
      out += (out.empty() ? "" : ", ") + s.slot + " (v" + std::to_string(s.version) + ")";
      break;
    }
  }
  return out;
}

ApiResponse NoSecrets() {
  return ErrorResponse(Error::Unavailable("this controller keeps no secrets"));
}

}  // namespace

ApiResponse ListSecrets(const RouteCall& call) {
  if (call.options.secrets == nullptr) return NoSecrets();
  auto list = call.options.secrets->List(call.app());
  if (!list.ok()) return ErrorResponse(list.error());
  json out = json::array();
  for (const auto& s : *list) {
    out.push_back({{"name", s.name}, {"setAt", FormatTimestamp(s.setAt)}, {"setBy", s.setBy}});
  }
  return {200, DumpJson(out)};
}

ApiResponse SetSecret(const RouteCall& call) {
  if (call.options.secrets == nullptr) return NoSecrets();
  const std::string& app = call.app();
  const std::string& name = call.path.at("secret");
  auto before = call.options.secrets->Set(app, name, call.request.body, call.request.actor);
  if (!before.ok()) return ErrorResponse(before.error());
  std::string message =
      (*before ? "replaced" : "set") + std::string(" secret ") + name + " of " + app;
  if (*before) {
    std::string using_it = SlotsUsing(call.store, app, name);
    if (!using_it.empty()) {
      message += "; " + using_it +
                 " keeps the old value until its instances restart: `lastgood apply` of the "
                 "same manifest restarts them with the new one";
    }
  }
  json out = {{"app", app},
              {"name", name},
              {"setAt", FormatTimestamp(Clock::Real()->NowMillis())},
              {"replaced", before->has_value()},
              {"message", message}};
  return {200, DumpJson(out)};
}

ApiResponse RemoveSecret(const RouteCall& call) {
  if (call.options.secrets == nullptr) return NoSecrets();
  const std::string& app = call.app();
  const std::string& name = call.path.at("secret");
  if (auto s = call.options.secrets->Remove(app, name); !s.ok()) return ErrorResponse(s.error());
  std::string message = "removed secret " + name + " of " + app;
  std::string using_it = SlotsUsing(call.store, app, name);
  if (!using_it.empty()) {
    message += "; " + using_it +
               " refers to it: its instances keep running, but a new one cannot start until "
               "the secret is set again";
  }
  return {200, DumpJson({{"app", app}, {"name", name}, {"message", message}})};
}

}  // namespace lastgood
