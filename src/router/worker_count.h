// How many worker threads the router runs: one per CPU it may actually use. That is the
// CPUs of its affinity mask (taskset, systemd's CPUAffinity=), further capped by a cgroup
// CPU quota (docker --cpus, systemd's CPUQuota=) rounded up — as HAProxy sizes nbthread and
// Go sizes GOMAXPROCS. More workers than that only time-share one CPU: issue 12 measured p99
// 3–4x HAProxy's with two workers on one core, against 1.3 ms with one.
// Pure functions plus readers of the process's own limits; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace lastgood {

struct CpuLimits {
  int affinity = 0;             // CPUs in the affinity mask; 0: unknown
  std::optional<double> quota;  // cgroup quota in CPUs (1.5 for "150000 100000"); none: no limit
};

// `requested` > 0 wins; else one worker per usable CPU, at least 1.
int WorkerCount(int requested, const CpuLimits& limits);

// This process's limits: sched_getaffinity, then the cgroup v2 cpu.max of its own cgroup
// (/proc/self/cgroup) or, on cgroup v1, cpu.cfs_quota_us / cpu.cfs_period_us.
CpuLimits ReadCpuLimits();

// The quota in a cgroup v2 cpu.max text ("max 100000", "150000 100000"); none for "max".
std::optional<double> ParseCpuMax(const std::string& text);

}  // namespace lastgood
