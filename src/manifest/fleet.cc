#include "manifest/fleet.h"

#include <set>

#include "base/names.h"

namespace lastgood {

Result<std::vector<std::string>> SelectHosts(const FleetSpec& fleet,
                                             const std::vector<SelectableHost>& registered) {
  std::vector<std::string> out;
  if (!fleet.hosts.empty()) {
    for (size_t i = 0; i < fleet.hosts.size(); ++i) {
      bool known = false;
      for (const auto& h : registered) known = known || h.name == fleet.hosts[i];
      if (!known) {
        Error e = Error::NotFound("no host named " + fleet.hosts[i] +
                                  " is registered; add it with `lastgood host add`");
        e.field = "hosts[" + std::to_string(i) + "]";
        return e;
      }
      out.push_back(fleet.hosts[i]);
    }
    return out;
  }
  for (const auto& h : registered) {
    bool match = true;
    for (const auto& [k, v] : fleet.selector) {
      auto it = h.labels.find(k);
      match = match && it != h.labels.end() && it->second == v;
    }
    if (match) out.push_back(h.name);
  }
  if (out.empty()) {
    std::string want;
    for (const auto& [k, v] : fleet.selector) want += (want.empty() ? "" : ", ") + k + "=" + v;
    Error e = Error::NotFound("no registered host has the labels " + want);
    e.field = "hosts.selector";
    return e;
  }
  return out;
}

Result<std::vector<std::vector<std::string>>> PlanWaves(const std::vector<std::string>& hosts,
                                                        const std::vector<HostCount>& waves) {
  const int n = static_cast<int>(hosts.size());
  std::vector<std::vector<std::string>> out;
  int done = 0;
  for (size_t i = 0; i < waves.size() && done < n; ++i) {
    const HostCount& w = waves[i];
    int upto = w.percent ? (w.value * n + 99) / 100 : w.value;
    upto = std::min(upto, n);
    if (upto <= done) {
      return Error::InvalidInput("wave " + std::to_string(i + 1) + " (" + HostCountText(w) +
                                     " of " + std::to_string(n) + " hosts) adds no host to wave " +
                                     std::to_string(i),
                                 "waves[" + std::to_string(i) + "]");
    }
    out.emplace_back(hosts.begin() + done, hosts.begin() + upto);
    done = upto;
  }
  if (done < n) out.emplace_back(hosts.begin() + done, hosts.end());
  return out;
}

int MaxFailedHosts(const HostCount& limit, int hosts) {
  return limit.percent ? limit.value * hosts / 100 : limit.value;
}

std::string HostCountText(const HostCount& c) {
  return std::to_string(c.value) + (c.percent ? "%" : "");
}

}  // namespace lastgood

namespace lastgood::manifest_internal {
namespace {

// "3" (1..kMaxFleetHosts, or from 0 when `allow_zero`) or "25%" (1..100, or 0%).
Result<HostCount> ReadHostCount(const FieldReader& r, const Field& f, bool allow_zero) {
  std::string text;
  LG_MANIFEST_ASSIGN(text, r.NonEmptyString(f));
  HostCount c;
  c.percent = !text.empty() && text.back() == '%';
  std::string digits = c.percent ? text.substr(0, text.size() - 1) : text;
  bool ok = !digits.empty() && digits.size() <= 6;
  for (char ch : digits) ok = ok && ch >= '0' && ch <= '9';
  if (ok) c.value = std::stoi(digits);
  const int min = allow_zero ? 0 : 1, max = c.percent ? 100 : kMaxFleetHosts;
  if (!ok || c.value < min || c.value > max) {
    return Error::InvalidInput("'" + text + "' is not a host count: write a number of hosts (" +
                                   std::to_string(min) + " to " + std::to_string(kMaxFleetHosts) +
                                   ") or a percent (" + std::to_string(min) + "% to 100%)",
                               f.path, f.line);
  }
  return c;
}

}  // namespace

Result<FleetSpec> ReadFleet(const FieldReader& r, const MapFields& top) {
  FleetSpec fleet;
  if (auto v = top.Get("hosts")) {
    if (v->node.IsSequence()) {
      if (v->node.size() == 0 || v->node.size() > static_cast<size_t>(kMaxFleetHosts))
        return Error::InvalidInput("hosts wants at least one host name", v->path, v->line);
      std::set<std::string> seen;
      for (size_t i = 0; i < v->node.size(); ++i) {
        Field item = v->Item(i, v->node[i]);
        std::string name;
        LG_MANIFEST_ASSIGN(name, r.NonEmptyString(item));
        if (auto s = ValidateName(name, "host name", item.path); !s.ok()) {
          Error e = s.error();
          e.line = item.line;
          return e;
        }
        if (!seen.insert(name).second)
          return Error::InvalidInput("host " + name + " is listed twice", item.path, item.line);
        fleet.hosts.push_back(name);
      }
    } else {
      MapFields hosts;
      LG_MANIFEST_ASSIGN(hosts, MapFields::Open(*v, {"selector"}));
      auto sel = hosts.Get("selector");
      if (!sel)
        return Error::InvalidInput("hosts wants a list of host names or { selector: { … } }",
                                   v->path, v->line);
      MapFields labels;
      LG_MANIFEST_ASSIGN(labels, MapFields::OpenFree(*sel));
      if (labels.entries().empty())
        return Error::InvalidInput("a selector wants at least one label", sel->path, sel->line);
      for (const auto& e : labels.entries()) {
        if (auto s = ValidateName(e.key, "label name", e.value.path); !s.ok()) {
          Error err = s.error();
          err.line = e.value.key_line;
          return err;
        }
        LG_MANIFEST_ASSIGN(fleet.selector[e.key], r.NonEmptyString(e.value));
      }
    }
  }
  auto need_hosts = [&](const Field& f) {
    return Error::InvalidInput(f.path + " applies to a fleet: add hosts: (a list or a selector)",
                               f.path, f.key_line);
  };
  if (auto v = top.Get("waves")) {
    if (!fleet.enabled()) return need_hosts(*v);
    if (!v->node.IsSequence() || v->node.size() == 0 ||
        v->node.size() > static_cast<size_t>(kMaxWaves))
      return Error::InvalidInput("waves wants a list such as [1, 25%, 100%]", v->path, v->line);
    for (size_t i = 0; i < v->node.size(); ++i) {
      Field item = v->Item(i, v->node[i]);
      HostCount c;
      LG_MANIFEST_ASSIGN(c, ReadHostCount(r, item, false));
      // Waves are cumulative: of one kind, each must be larger than the one before it.
      if (!fleet.waves.empty() && fleet.waves.back().percent == c.percent &&
          c.value <= fleet.waves.back().value) {
        return Error::InvalidInput("waves are cumulative: " + HostCountText(c) +
                                       " is not more than the wave before it (" +
                                       HostCountText(fleet.waves.back()) + ")",
                                   item.path, item.line);
      }
      fleet.waves.push_back(c);
    }
  }
  if (auto v = top.Get("maxFailedHosts")) {
    if (!fleet.enabled()) return need_hosts(*v);
    LG_MANIFEST_ASSIGN(fleet.maxFailedHosts, ReadHostCount(r, *v, true));
  }
  if (auto v = top.Get("maxParallel")) {
    if (!fleet.enabled()) return need_hosts(*v);
    LG_MANIFEST_ASSIGN(fleet.maxParallel, r.Int(*v, 1, kMaxFleetHosts));
  }
  return fleet;
}

void WriteFleet(YAML::Emitter& out, const FleetSpec& fleet) {
  if (!fleet.enabled()) return;
  out << YAML::Key << "hosts" << YAML::Value;
  if (!fleet.hosts.empty()) {
    out << YAML::Flow << fleet.hosts;
  } else {
    out << YAML::BeginMap << YAML::Key << "selector" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : fleet.selector) out << YAML::Key << k << YAML::Value << v;
    out << YAML::EndMap << YAML::EndMap;
  }
  if (!fleet.waves.empty()) {
    out << YAML::Key << "waves" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& w : fleet.waves) out << HostCountText(w);
    out << YAML::EndSeq;
  }
  out << YAML::Key << "maxFailedHosts" << YAML::Value << HostCountText(fleet.maxFailedHosts);
  out << YAML::Key << "maxParallel" << YAML::Value << fleet.maxParallel;
}

}  // namespace lastgood::manifest_internal
