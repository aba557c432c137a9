// The one PATH resolver: how argv[0] of an instance, a hook or an exec probe becomes the
// path execve receives. Pure apart from stat/access; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lastgood {

// The PATH every child of lastgood starts from unless its environment names another: the one
// systemd gives services, so that a manifest running a daemon from /usr/sbin (nginx, sshd)
// finds it as it would under a unit.
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// argv[0] as execve needs it. With a '/' it is returned as written (relative to cwd: the
// child changes directory before execve). A bare name is looked up on `path_var` (as the
// child's environment has it), an empty or relative entry taken from cwd; the first regular,
// executable file wins and is returned as found on PATH ("./bin/x" stays relative).
// nullopt when no entry has it.
std::optional<std::string> ResolveCommand(const std::string& arg0, const std::string& path_var,
                                          const std::string& cwd);

// The value of NAME in an environment of "NAME=value" strings, or "" when absent.
std::string EnvValue(const std::vector<std::string>& env, const std::string& name);

// Builds an environment in order of first appearance; a later Set of the same name replaces
// the value in place.
class EnvBuilder {
 public:
  EnvBuilder& Set(const std::string& name, const std::string& value);
  std::vector<std::string> Build() const;  // "NAME=value"

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

}  // namespace lastgood
