#include "router/table.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/cidr.h"
#include "base/names.h"
#include "router/address.h"

namespace lastgood {
namespace {

using nlohmann::json;

constexpr int kMaxWeight = 100;
constexpr size_t kMaxBackendIdLength = 128;
constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxTrustedProxies = 64;
constexpr int64_t kMaxConnectionsPerClient = 1'000'000;

// Checks that a JSON value is of the expected kind; the error names the field path.
Status Want(const json& j, json::value_t kind, const std::string& field, const char* kind_name) {
  bool ok = j.type() == kind || (kind == json::value_t::number_integer && j.is_number_unsigned());
  if (!ok) return Error::InvalidInput(std::string("must be ") + kind_name, field);
  return Status::Ok();
}

Status WantString(const json& j, const std::string& field) {
  return Want(j, json::value_t::string, field, "a string");
}
Status WantInt(const json& j, const std::string& field) {
  return Want(j, json::value_t::number_integer, field, "an integer");
}
Status WantArray(const json& j, const std::string& field) {
  return Want(j, json::value_t::array, field, "an array");
}
Status WantObject(const json& j, const std::string& field) {
  return Want(j, json::value_t::object, field, "an object");
}

// Optional member access: a missing member reads as null.
const json& Member(const json& j, const char* name) {
  static const json kNull;
  auto it = j.find(name);
  return it == j.end() ? kNull : *it;
}

Status ValidateBackendId(const std::string& id, const std::string& field) {
  if (id.empty() || id.size() > kMaxBackendIdLength) {
    return Error::InvalidInput("backend id must have 1-128 characters", field);
  }
  for (char c : id) {
    bool ok =
        isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok)
      return Error::InvalidInput("backend id '" + id + "' may use only [A-Za-z0-9._:-]", field);
  }
  return Status::Ok();
}

Status ValidateHost(const std::string& host, const std::string& field) {
  if (host.size() > kMaxHostLength) return Error::InvalidInput("host is too long", field);
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return Error::InvalidInput(
          "host '" + host + "' must be a lowercase DNS name without port (e.g. web.example.com)",
          field);
    }
  }
  return Status::Ok();
}

Result<RouteVersion> ParseVersion(const json& j, const std::string& at) {
  LG_RETURN_IF_ERROR(WantObject(j, at));
  RouteVersion v;
  LG_RETURN_IF_ERROR(WantInt(Member(j, "version"), at + ".version"));
  int64_t number = Member(j, "version").get<int64_t>();
  if (number < 1 || number > INT32_MAX) {
    return Error::InvalidInput("version must be a positive integer", at + ".version");
  }
  v.version = static_cast<int>(number);
  LG_RETURN_IF_ERROR(WantInt(Member(j, "weight"), at + ".weight"));
  int64_t weight = Member(j, "weight").get<int64_t>();
  if (weight < 0 || weight > kMaxWeight) {
    return Error::InvalidInput("weight must be 0..100", at + ".weight");
  }
  v.weight = static_cast<int>(weight);
  const json& backends = Member(j, "backends");
  if (!backends.is_null()) {
    LG_RETURN_IF_ERROR(WantArray(backends, at + ".backends"));
    std::set<std::string> ids;
    for (size_t i = 0; i < backends.size(); ++i) {
      std::string bat = at + ".backends[" + std::to_string(i) + "]";
      LG_RETURN_IF_ERROR(WantObject(backends[i], bat));
      LG_RETURN_IF_ERROR(WantString(Member(backends[i], "id"), bat + ".id"));
      LG_RETURN_IF_ERROR(WantString(Member(backends[i], "address"), bat + ".address"));
      RouteBackend b{Member(backends[i], "id").get<std::string>(),
                     Member(backends[i], "address").get<std::string>()};
      LG_RETURN_IF_ERROR(ValidateBackendId(b.id, bat + ".id"));
      auto ep = ParseAddress(b.address, false, bat + ".address");
      if (!ep.ok()) return ep.error();
      if (!ids.insert(b.id).second) {
        return Error::InvalidInput("duplicate backend id '" + b.id + "'", bat + ".id");
      }
      v.backends.push_back(std::move(b));
    }
  }
  return v;
}

Result<RouteApp> ParseApp(const json& j, const std::string& at) {
  LG_RETURN_IF_ERROR(WantObject(j, at));
  RouteApp app;
  LG_RETURN_IF_ERROR(WantString(Member(j, "name"), at + ".name"));
  app.name = Member(j, "name").get<std::string>();
  LG_RETURN_IF_ERROR(ValidateName(app.name, "app name", at + ".name"));
  LG_RETURN_IF_ERROR(WantArray(Member(j, "slots"), at + ".slots"));
  std::set<std::string> slot_names;
  const json& slots = Member(j, "slots");
  for (size_t s = 0; s < slots.size(); ++s) {
    std::string sat = at + ".slots[" + std::to_string(s) + "]";
    LG_RETURN_IF_ERROR(WantObject(slots[s], sat));
    RouteSlot slot;
    LG_RETURN_IF_ERROR(WantString(Member(slots[s], "name"), sat + ".name"));
    slot.name = Member(slots[s], "name").get<std::string>();
    LG_RETURN_IF_ERROR(ValidateName(slot.name, "slot name", sat + ".name"));
    if (!slot_names.insert(slot.name).second) {
      return Error::InvalidInput("duplicate slot '" + slot.name + "'", sat + ".name");
    }
    const json& versions = Member(slots[s], "versions");
    if (!versions.is_null()) {
      LG_RETURN_IF_ERROR(WantArray(versions, sat + ".versions"));
      std::set<int> numbers;
      for (size_t v = 0; v < versions.size(); ++v) {
        std::string vat = sat + ".versions[" + std::to_string(v) + "]";
        auto version = ParseVersion(versions[v], vat);
        if (!version.ok()) return version.error();
        if (!numbers.insert(version->version).second) {
          return Error::InvalidInput("duplicate version " + std::to_string(version->version),
                                     vat + ".version");
        }
        slot.versions.push_back(std::move(*version));
      }
    }
    app.slots.push_back(std::move(slot));
  }
  const json& split = Member(j, "split");
  if (!split.is_null()) {
    LG_RETURN_IF_ERROR(WantObject(split, at + ".split"));
    int total = 0;
    for (auto it = split.begin(); it != split.end(); ++it) {
      std::string fat = at + ".split." + it.key();
      if (!slot_names.count(it.key())) {
        return Error::InvalidInput("split names slot '" + it.key() + "' that the app lacks", fat);
      }
      LG_RETURN_IF_ERROR(WantInt(it.value(), fat));
      int64_t share = it.value().get<int64_t>();
      if (share < 0 || share > 100) return Error::InvalidInput("share must be 0..100", fat);
      total += static_cast<int>(share);
      app.split[it.key()] = static_cast<int>(share);
    }
    if (total > 100) {
      return Error::InvalidInput("split shares add up to more than 100", at + ".split");
    }
  }
  const json& pinning = Member(j, "slotPinning");
  if (!pinning.is_null()) {
    LG_RETURN_IF_ERROR(Want(pinning, json::value_t::boolean, at + ".slotPinning", "true or false"));
    app.slotPinning = pinning.get<bool>();
  }
  const json& trusted = Member(j, "trustedProxies");
  if (!trusted.is_null()) {
    LG_RETURN_IF_ERROR(WantArray(trusted, at + ".trustedProxies"));
    if (trusted.size() > kMaxTrustedProxies) {
      return Error::InvalidInput("at most 64 networks", at + ".trustedProxies");
    }
    for (size_t i = 0; i < trusted.size(); ++i) {
      std::string tat = at + ".trustedProxies[" + std::to_string(i) + "]";
      LG_RETURN_IF_ERROR(WantString(trusted[i], tat));
      auto cidr = ParseCidr(trusted[i].get<std::string>(), tat);
      if (!cidr.ok()) return cidr.error();
      app.trustedProxies.push_back(trusted[i].get<std::string>());
    }
  }
  return app;
}

}  // namespace

std::string TableToJson(const RoutingTable& table) {
  json j;
  j["generation"] = table.generation;
  j["listeners"] = json::array();
  for (const auto& l : table.listeners) {
    json jl{{"address", l.address}, {"host", l.host}, {"app", l.app}, {"slot", l.slot}};
    if (l.maxConnectionsPerClient > 0) jl["maxConnectionsPerClient"] = l.maxConnectionsPerClient;
    j["listeners"].push_back(std::move(jl));
  }
  j["apps"] = json::array();
  for (const auto& app : table.apps) {
    json ja{{"name", app.name}, {"slots", json::array()}, {"split", json::object()}};
    for (const auto& slot : app.slots) {
      json js{{"name", slot.name}, {"versions", json::array()}};
      for (const auto& v : slot.versions) {
        json jv{{"version", v.version}, {"weight", v.weight}, {"backends", json::array()}};
        for (const auto& b : v.backends) {
          jv["backends"].push_back({{"id", b.id}, {"address", b.address}});
        }
        js["versions"].push_back(std::move(jv));
      }
      ja["slots"].push_back(std::move(js));
    }
    for (const auto& [slot, share] : app.split) ja["split"][slot] = share;
    ja["slotPinning"] = app.slotPinning;
    if (!app.trustedProxies.empty()) ja["trustedProxies"] = app.trustedProxies;
    j["apps"].push_back(std::move(ja));
  }
  return j.dump();
}

Result<RoutingTable> TableFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error::InvalidInput("the table is not valid JSON");
  LG_RETURN_IF_ERROR(WantObject(j, ""));
  RoutingTable table;
  const json& generation = Member(j, "generation");
  if (!generation.is_null()) {
    if (!generation.is_number_unsigned() &&
        !(generation.is_number_integer() && generation.get<int64_t>() >= 0)) {
      return Error::InvalidInput("must be a non-negative integer", "generation");
    }
    table.generation = generation.get<uint64_t>();
  }
  const json& apps = Member(j, "apps");
  if (!apps.is_null()) {
    LG_RETURN_IF_ERROR(WantArray(apps, "apps"));
    std::set<std::string> names;
    for (size_t a = 0; a < apps.size(); ++a) {
      std::string at = "apps[" + std::to_string(a) + "]";
      auto app = ParseApp(apps[a], at);
      if (!app.ok()) return app.error();
      if (!names.insert(app->name).second) {
        return Error::InvalidInput("duplicate app '" + app->name + "'", at + ".name");
      }
      table.apps.push_back(std::move(*app));
    }
  }
  const json& listeners = Member(j, "listeners");
  if (!listeners.is_null()) {
    LG_RETURN_IF_ERROR(WantArray(listeners, "listeners"));
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < listeners.size(); ++i) {
      std::string at = "listeners[" + std::to_string(i) + "]";
      const json& jl = listeners[i];
      LG_RETURN_IF_ERROR(WantObject(jl, at));
      RouteListener l;
      for (auto [name, out] : {std::pair{"address", &l.address}, std::pair{"app", &l.app},
                               std::pair{"slot", &l.slot}}) {
        LG_RETURN_IF_ERROR(WantString(Member(jl, name), at + "." + name));
        *out = Member(jl, name).get<std::string>();
      }
      if (!Member(jl, "host").is_null()) {
        LG_RETURN_IF_ERROR(WantString(Member(jl, "host"), at + ".host"));
        l.host = Member(jl, "host").get<std::string>();
        LG_RETURN_IF_ERROR(ValidateHost(l.host, at + ".host"));
      }
      if (const json& limit = Member(jl, "maxConnectionsPerClient"); !limit.is_null()) {
        std::string lat = at + ".maxConnectionsPerClient";
        LG_RETURN_IF_ERROR(WantInt(limit, lat));
        int64_t n = limit.is_number_unsigned() && limit.get<uint64_t>() > INT64_MAX
                        ? -1
                        : limit.get<int64_t>();
        if (n < 0 || n > kMaxConnectionsPerClient) {
          return Error::InvalidInput("must be 0 (no limit) to 1000000", lat);
        }
        l.maxConnectionsPerClient = static_cast<int>(n);
      }
      auto ep = ParseAddress(l.address, true, at + ".address");
      if (!ep.ok()) return ep.error();
      const RouteApp* app = nullptr;
      for (const auto& candidate : table.apps) {
        if (candidate.name == l.app) app = &candidate;
      }
      if (!app) return Error::InvalidInput("no app '" + l.app + "' in the table", at + ".app");
      bool has_slot = false;
      for (const auto& s : app->slots) has_slot |= s.name == l.slot;
      if (!has_slot) {
        return Error::InvalidInput("app '" + l.app + "' has no slot '" + l.slot + "'",
                                   at + ".slot");
      }
      if (!seen.insert({l.address, l.host}).second) {
        return Error::InvalidInput("another listener already serves " + l.address +
                                       (l.host.empty() ? " for any host" : " for host " + l.host),
                                   at + ".host");
      }
      table.listeners.push_back(std::move(l));
    }
  }
  return table;
}

}  // namespace lastgood
