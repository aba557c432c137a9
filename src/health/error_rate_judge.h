// The sequential judge's error-rate test: is the canary's error rate worse than the stable
// version's by more than a tolerance, or within it? Not thread-safe (one test per analysis).
//
// Fed the requests counted since the last look (both versions over the same moments; hosts
// merge by adding counts), it may be asked after every look without inflating its error
// rates. Two test martingales ("e-processes", Ville's inequality), one against each answer:
//   - a look brings (kc of nc) canary and (ks of ns) stable failures; the rates estimated
//     before it, a = (Kc + 1/2)/(Nc + 1) and b = (Ks + 1/2)/(Ns + 1), are the bet;
//   - the null point is the pair (p0 + tolerance, p0) that the bet's expected counts fit best,
//     p0 = argmax_p [a nc ln(p+t) + (1-a) nc ln(1-p-t) + b ns ln p + (1-b) ns ln(1-p)];
//   - the look multiplies the evidence by the likelihood ratio of its counts, bet over null:
//     (a/(p0+t))^kc ((1-a)/(1-p0-t))^(nc-kc) (b/p0)^ks ((1-b)/(1-p0))^(ns-ks),
//     into the evidence that the canary is worse when a - b > t, that it is within when a - b < t.
// For any rates whose difference is within the tolerance, the "worse" evidence has an
// expectation of at most 1 after every look (p0 is the reverse information projection of the
// bet on the tolerance's edge; Turner, Ly and Grünwald's 2x2 e-variables with a margin), so it
// ever reaches 1/alpha with a probability of at most alpha; the same holds for "within" when
// the canary is worse by the tolerance or more. docs/behaviour.md works an example by hand.
#pragma once

#include <cstdint>

namespace lastgood {

struct RequestCounts {
  uint64_t requests = 0;
  uint64_t errors = 0;  // <= requests
  double Rate() const { return requests ? double(errors) / double(requests) : 0.0; }
};

enum class JudgeVerdict { kUndecided, kWithin, kWorse };

class ErrorRateTest {
 public:
  // REQUIRES: 0 <= tolerance < 1, 0 < alpha < 1.
  ErrorRateTest(double tolerance, double alpha);

  // Adds the requests counted since the last look. Once decided, the verdict stays.
  void Add(const RequestCounts& canary, const RequestCounts& stable);
  // The same with expected (fractional) counts, for forecasts.
  void AddExpected(double canary_errors, double canary_requests, double stable_errors,
                   double stable_requests);

  JudgeVerdict verdict() const { return verdict_; }
  // Totals since the start, and the difference of their rates (canary's - stable's).
  const RequestCounts& canary() const { return canary_; }
  const RequestCounts& stable() const { return stable_; }
  double difference() const { return canary_.Rate() - stable_.Rate(); }
  // The evidence so far against "within" and against "worse", as likelihood ratios; a verdict
  // comes when one of them reaches 1/alpha.
  double evidenceWorse() const;
  double evidenceWithin() const;

 private:
  const double tolerance_, log_threshold_;
  double kc_ = 0, nc_ = 0, ks_ = 0, ns_ = 0;  // totals as reals (expected counts too)
  double log_worse_ = 0, log_within_ = 0;
  RequestCounts canary_, stable_;
  JudgeVerdict verdict_ = JudgeVerdict::kUndecided;
};

// About how many canary requests a canary exactly as good as stable needs to be passed, when
// both fail `error_rate` of their requests, the canary takes `canary_share` (0..1) of them and
// each look brings `canary_per_look` canary requests: the expected counts, fed look by look.
// 0 when it would not pass within 10^8 requests. REQUIRES: 0 < canary_share < 1.
uint64_t ExpectedRequestsToPass(double error_rate, double canary_share, double tolerance,
                                double alpha, double canary_per_look = 20);

}  // namespace lastgood
