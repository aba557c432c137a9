#include "engine/instance_spec.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace lastgood {

std::vector<EnvVar> EnvFor(const Manifest& m, const std::string& settings,
                           const std::vector<SlotRecord>& slots) {
  const SlotRecord* slot = nullptr;
  for (const auto& s : slots) {
    if (s.slot == settings && !s.stickyEnv.empty()) slot = &s;
  }
  if (settings.empty() || slot == nullptr) return m.run.env;
  std::vector<EnvVar> env;
  for (const auto& e : m.run.env) {
    if (!e.sticky) env.push_back(e);
  }
  auto sticky = nlohmann::json::parse(slot->stickyEnv, nullptr, false);
  if (sticky.is_array()) {
    for (const auto& e : sticky) {
      // A sticky secret stays with its slot by name; its value is read when an instance starts.
      if (e.is_object())
        env.push_back({e.value("name", ""), e.value("value", ""), true, e.value("secret", "")});
    }
  }
  return env;
}

std::string StickyJson(const Manifest& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : m.run.env) {
    if (!e.sticky) continue;
    if (e.secret.empty()) {
      out.push_back({{"name", e.name}, {"value", e.value}});
    } else {
      out.push_back({{"name", e.name}, {"secret", e.secret}});  // never the secret's value
    }
  }
  return out.dump();
}

InstanceSpec SpecFor(const Manifest& m, const std::string& id, const std::string& release_dir,
                     const std::string& log_dir, int port, const ResolvedEnv& env) {
  InstanceSpec spec;
  spec.id = id;
  spec.argv = m.run.command;
  spec.env = env.vars;
  spec.verbatimEnv = env.secretNames;
  spec.cwd = release_dir;
  spec.logDir = log_dir;
  spec.port = port;
  spec.stopGrace = m.run.stopGrace;
  spec.app = m.app;
  spec.runUser = m.run.user;
  return spec;
}

std::string LastErrorLine(const std::string& log_dir, const std::string& id) {
  std::ifstream in(log_dir + "/" + id + ".err.log");
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  if (last.size() > 300) last = last.substr(0, 300) + "…";
  return last;
}

}  // namespace lastgood
