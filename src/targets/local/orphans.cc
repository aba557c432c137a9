#include "targets/local/orphans.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace lastgood {

std::vector<InstanceProcess> FindInstanceProcesses(const std::string& releases_root) {
  namespace fs = std::filesystem;
  std::vector<InstanceProcess> found;
  std::error_code ec;
  std::string root = fs::weakly_canonical(releases_root, ec).string();
  if (ec || root.empty()) return found;
  root += "/";
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    int pid = std::stoi(name);
    if (pid == getpid() || getsid(pid) != pid) continue;
    std::error_code cwd_ec;
    std::string cwd = fs::read_symlink(entry.path() / "cwd", cwd_ec).string();
    if (cwd_ec || cwd.rfind(root, 0) != 0) continue;
    InstanceProcess p{pid, ""};
    std::ifstream env(entry.path() / "environ", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    const std::string key = "LASTGOOD_INSTANCE=";
    for (size_t at = 0; at < all.size();) {
      size_t end = all.find('\0', at);
      if (end == std::string::npos) end = all.size();
      if (all.compare(at, key.size(), key) == 0)
        p.instanceId = all.substr(at + key.size(), end - at - key.size());
      at = end + 1;
    }
    found.push_back(p);
  }
  return found;
}

void StopProcessGroup(int pid, int grace_ms) {
  if (kill(-pid, SIGTERM) != 0) kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (kill(pid, 0) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
}

}  // namespace lastgood
