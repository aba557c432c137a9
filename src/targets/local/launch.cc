#include "targets/local/launch.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "process/path.h"

namespace lastgood {
namespace {

std::string Expand(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace

Result<LaunchPlan> PlanLaunch(const InstanceSpec& spec, int port) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Error::InvalidInput("run.command is empty", "run.command");
  }
  std::map<std::string, std::string> vars{{"PORT", std::to_string(port)}};
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      return Error::InvalidInput("environment variable name '" + name + "' is not valid",
                                 "run.env");
    }
    vars[name] = value;
  }

  EnvBuilder env;
  const char* home = std::getenv("HOME");
  const std::string& state = spec.sandbox.state_dir;
  env.Set("PATH", kDefaultPath);
  env.Set("HOME", !state.empty() ? state : home != nullptr && *home != '\0' ? home : "/");
  env.Set("LANG", "C.UTF-8");
  env.Set("PORT", std::to_string(port));
  if (!state.empty()) env.Set("LASTGOOD_STATE_DIR", state);
  for (const auto& [name, value] : spec.env) {
    bool verbatim =
        std::find(spec.verbatimEnv.begin(), spec.verbatimEnv.end(), name) != spec.verbatimEnv.end();
    env.Set(name, verbatim ? value : Expand(value, vars));
  }
  env.Set("LASTGOOD_INSTANCE", spec.id);

  LaunchPlan plan;
  SpawnSpec& s = plan.spawn;
  plan.argv0 = spec.argv[0];
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    if (spec.argv[i].find('\0') != std::string::npos) {
      return Error::InvalidInput("run.command[" + std::to_string(i) + "] contains a NUL byte",
                                 "run.command");
    }
    s.argv.push_back(Expand(spec.argv[i], vars));
  }
  s.env = env.Build();
  s.cwd = spec.cwd;
  std::string log_dir = spec.logDir.empty() ? "." : spec.logDir;
  s.in = Stdio::Null();
  s.out = Stdio::AppendTo(JoinPath(log_dir, spec.id + ".out.log"));
  s.err = Stdio::AppendTo(JoinPath(log_dir, spec.id + ".err.log"));
  s.detach = SpawnSpec::Detach::kSession;
  s.sandbox = spec.sandbox;
  if (s.sandbox.label.empty()) s.sandbox.label = spec.id;

  std::string path_var = EnvValue(s.env, "PATH");
  std::optional<std::string> exec_path = ResolveCommand(s.argv[0], path_var, s.cwd);
  if (!exec_path) {
    return Error::Failed("run.command[0] '" + plan.argv0 + "': " + strerror(ENOENT) +
                         " (searched PATH=" + path_var + ")");
  }
  s.exec_path = *exec_path;
  return plan;
}

Result<int> SpawnInstance(const LaunchPlan& plan) {
  SpawnFailure failure;
  Result<int> pid = Spawn(plan.spawn, &failure);
  if (pid.ok() || failure.stage != SpawnStage::kExec) return pid;
  return Error::Failed("run.command[0] '" + plan.argv0 + "': " + strerror(failure.err));
}

}  // namespace lastgood
