#include "process/peer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "process/process_state.h"

namespace lastgood {
namespace {

constexpr int kMaxAncestors = 64;

std::string Namespace(const std::string& pid, const char* kind) {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/" + pid + "/ns/" + kind, ec).string();
}

// The value of the first marker found in the process's environment, as "NAME=value".
std::string Marker(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* name : {"LASTGOOD_INSTANCE=", "LASTGOOD_DEPLOYMENT="}) {
    std::string key = name;
    for (size_t at = 0; at < env.size();) {
      size_t end = env.find('\0', at);
      if (end == std::string::npos) end = env.size();
      if (env.compare(at, key.size(), key) == 0) return env.substr(at, end - at);
      at = end + 1;
    }
  }
  return "";
}

}  // namespace

PeerVerdict ClassifyPeer(int pid) {
  if (pid <= 0) return {true, "no pid the kernel would name"};
  std::string self = std::to_string(getpid()), peer = std::to_string(pid);
  for (const char* kind : {"pid", "user"}) {
    std::string ours = Namespace(self, kind), theirs = Namespace(peer, kind);
    if (theirs.empty()) return {true, "its " + std::string(kind) + " namespace cannot be read"};
    if (theirs != ours) return {true, "in a " + std::string(kind) + " namespace of its own"};
  }
  int at = pid;
  for (int depth = 0; at > 1 && depth < kMaxAncestors; ++depth) {
    if (at == getpid()) break;  // our own child: a hook or instance would carry its marker
    if (std::string marker = Marker(at); !marker.empty()) {
      return {true, (at == pid ? "it carries " : "a descendant of a process with ") + marker};
    }
    at = ReadProcessState(at).ppid;
  }
  return {false, ""};
}

}  // namespace lastgood
