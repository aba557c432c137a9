#include "process/path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

namespace lastgood {
namespace {

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::string> ResolveCommand(const std::string& arg0, const std::string& path_var,
                                          const std::string& cwd) {
  if (arg0.empty()) return std::nullopt;
  if (arg0.find('/') != std::string::npos) return arg0;
  std::stringstream dirs(path_var);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = Join(dir.empty() ? "." : dir, arg0);
    std::string from_here = candidate[0] == '/' || cwd.empty() ? candidate : Join(cwd, candidate);
    if (IsExecutableFile(from_here)) return candidate;
  }
  return std::nullopt;
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' &&
        entry.compare(0, name.size(), name) == 0) {
      return entry.substr(name.size() + 1);
    }
  }
  return "";
}

EnvBuilder& EnvBuilder::Set(const std::string& name, const std::string& value) {
  for (auto& [n, v] : vars_) {
    if (n == name) {
      v = value;
      return *this;
    }
  }
  vars_.emplace_back(name, value);
  return *this;
}

std::vector<std::string> EnvBuilder::Build() const {
  std::vector<std::string> out;
  out.reserve(vars_.size());
  for (const auto& [name, value] : vars_) out.push_back(name + "=" + value);
  return out;
}

}  // namespace lastgood
