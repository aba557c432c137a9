#include "engine/analysis.h"

#include <algorithm>
#include <cstdio>

namespace lastgood {
namespace {

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100.0);
  return buf;
}

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

std::string Describe(const char* who, const Measured& m) {
  return std::string(who) + " " + std::to_string(m.requests) + " requests, " +
         std::to_string(m.errors) + " errors (" + Percent(m.ErrorRate()) + "), p99 " + Ms(m.p99ms);
}

}  // namespace

Measured Measure(const RouterStats& stats, const std::string& app, const std::string& slot,
                 int version, bool others) {
  Measured m;
  for (const auto& row : stats.rows) {
    if (!row.backend.empty() || row.app != app || row.slot != slot) continue;
    if (row.pinned) continue;  // clients that named the slot themselves: not the sample judged
    if ((row.version == version) == others) continue;
    m.requests += row.requests;
    m.errors += row.responses5xx + row.connectErrors + row.timeouts;
    m.p99ms = std::max(m.p99ms, row.p99ms);
  }
  return m;
}

Judgement Judge(const Analysis& a, const Measured& canary, const Measured& stable,
                bool window_ended) {
  Judgement j;
  j.detail = Describe("canary:", canary) + "; " + Describe("stable:", stable);
  if (canary.requests < static_cast<uint64_t>(a.minRequests)) {
    j.detail += "; waiting for " + std::to_string(a.minRequests) + " canary requests";
    return j;  // too little data is never a pass, nor yet a failure
  }
  std::string broken;
  auto broke = [&](const std::string& what) { broken += (broken.empty() ? "" : ", ") + what; };
  const double max_rate = a.maxErrorRate.value_or(
      a.maxLatencyP99 || a.maxErrorRateIncrease ? 1.0 : kDefaultMaxErrorRate);
  if (canary.ErrorRate() > max_rate)
    broke("error rate " + Percent(canary.ErrorRate()) + " > maxErrorRate " + Percent(max_rate));
  if (a.maxLatencyP99 && canary.p99ms > static_cast<double>(a.maxLatencyP99->count()))
    broke("p99 " + Ms(canary.p99ms) + " > maxLatencyP99 " + FormatDuration(*a.maxLatencyP99));
  if (a.maxErrorRateIncrease && canary.ErrorRate() - stable.ErrorRate() > *a.maxErrorRateIncrease)
    broke("error rate " + Percent(canary.ErrorRate()) + " exceeds stable's " +
          Percent(stable.ErrorRate()) + " by more than maxErrorRateIncrease " +
          Percent(*a.maxErrorRateIncrease));
  if (!broken.empty()) {
    j.kind = Judgement::Kind::kFail;
    j.detail = broken + " — " + j.detail;
  } else if (window_ended) {
    j.kind = Judgement::Kind::kPass;
  }
  return j;
}

}  // namespace lastgood
