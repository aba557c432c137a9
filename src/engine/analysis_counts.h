// What the sequential judge (health/sequential_judge.h) is fed, read off the router's answers:
// the requests each side counted since the previous look, from the cumulative counters of
// each backend, and the latency histograms of each side.
//
// The canary is `version` in `canary_slot`; stable is every other version in `stable_slot`
// (bluegreen: the preview slot against production). Counters are per backend, so that a
// backend that served nothing in a look, or one that appears during the analysis, counts
// right; a counter that went down means the router restarted (or let the series go) and
// counts again from 0, as does every counter of an answer whose statsSince moved later (a new
// router). An answer whose statsSince moved back (a successor that has just been handed its
// predecessor's counts, router/stats_carry.h) holds again what was counted already: it is
// where counting goes on from, and adds nothing. Hosts merge by adding their answers' counts;
// in a fleet's merged answer each backend row carries its own host's statsSince, so that one
// host's restart counts that host's backends again and no other's.
// Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "health/sequential_judge.h"
#include "router/stats.h"

namespace lastgood {

struct AnalysedPair {
  std::string app, canarySlot, stableSlot;
  int canaryVersion = 0;
  // Whether a row counts for the canary (+1), for stable (-1), or for neither (0).
  int SideOf(const StatsRow& row) const;
};

class LookCounter {
 public:
  explicit LookCounter(AnalysedPair pair) : pair_(std::move(pair)) {}

  // The first answer (ask the router for its whole window, so that every backend with counts
  // is in it) is where the analysis starts: nothing before it is counted.
  void Start(const RouterStats& stats);
  // The requests counted since the previous answer. A backend first seen now counts what its
  // row's window holds (it was idle before, or the window would have listed it).
  void Next(const RouterStats& stats, RequestCounts* canary, RequestCounts* stable);

 private:
  struct Seen {
    uint64_t requests = 0, errors = 0;
    int64_t since = 0;  // the statsSince of the router that counted these
  };
  AnalysedPair pair_;
  std::map<std::tuple<std::string, int, std::string>, Seen> seen_;  // slot, version, backend
};

// The latency histogram of one side, from the aggregate rows (summed over versions, hosts).
LatencyHistogram LatencyOf(const RouterStats& stats, const AnalysedPair& pair, int side);

// Stable's error rate and the canary's share of requests in an answer; -1 when a side has
// none. For forecasts.
struct TrafficSeen {
  double stableErrorRate = -1;
  double canaryShare = -1;
  double requestsPerSecond = 0;  // both sides
};
TrafficSeen TrafficOf(const RouterStats& stats, const AnalysedPair& pair);

}  // namespace lastgood
