#include "router/worker_count.h"

#include <sched.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace lastgood {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The cgroup v2 path of this process ("0::/system.slice/x.service" → that path), or "".
std::string OwnCgroupV2() {
  std::istringstream lines(ReadAll("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "";
}

std::optional<double> CgroupQuota() {
  // cgroup v2: the tightest cpu.max from this cgroup up to the root.
  std::optional<double> tightest;
  std::string path = OwnCgroupV2();
  if (!path.empty() || std::ifstream("/sys/fs/cgroup/cpu.max")) {
    for (;;) {
      auto quota = ParseCpuMax(ReadAll("/sys/fs/cgroup" + path + "/cpu.max"));
      if (quota && (!tightest || *quota < *tightest)) tightest = quota;
      if (path.empty() || path == "/") break;
      path = path.substr(0, path.rfind('/'));
    }
    return tightest;
  }
  // cgroup v1.
  long quota = 0, period = 0;
  std::istringstream(ReadAll("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) >> quota;
  std::istringstream(ReadAll("/sys/fs/cgroup/cpu/cpu.cfs_period_us")) >> period;
  if (quota > 0 && period > 0) return static_cast<double>(quota) / static_cast<double>(period);
  return std::nullopt;
}

}  // namespace

std::optional<double> ParseCpuMax(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  char* end = nullptr;
  long q = std::strtol(quota.c_str(), &end, 10);
  if (*end != '\0' || q <= 0) return std::nullopt;
  return static_cast<double>(q) / static_cast<double>(period);
}

int WorkerCount(int requested, const CpuLimits& limits) {
  if (requested > 0) return requested;
  int cpus = limits.affinity;
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (limits.quota) cpus = std::min(cpus, static_cast<int>(std::ceil(*limits.quota - 1e-9)));
  return std::max(cpus, 1);
}

CpuLimits ReadCpuLimits() {
  CpuLimits limits;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) limits.affinity = CPU_COUNT(&set);
  limits.quota = CgroupQuota();
  return limits;
}

}  // namespace lastgood
