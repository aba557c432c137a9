#include "health/error_rate_judge.h"

#include <algorithm>
#include <cmath>

namespace lastgood {
namespace {

constexpr double kMaxRequestsToPass = 1e8;
// The bet's estimates start from half an error in one request (Krichevsky-Trofimov): never
// 0 or 1, and quickly forgotten.
constexpr double kPriorErrors = 0.5;

// k ln x, with 0 ln 0 = 0.
double KLog(double k, double x) { return k > 0 ? k * std::log(x) : 0.0; }

// argmax over p of  A ln(p+t) + (na-A) ln(1-p-t) + B ln p + (nb-B) ln(1-p),  p in (0, 1-t).
// The function is concave, so its slope has one zero: Newton's method kept inside a shrinking
// bracket (bisection whenever a step would leave it).
double NullPoint(double A, double na, double B, double nb, double t) {
  double lo = 0, hi = 1 - t;
  double p = std::clamp((A + B) / (na + nb) - t * na / (na + nb), lo, hi);
  if (!(p > lo && p < hi)) p = (lo + hi) / 2;
  for (int i = 0; i < 200; ++i) {
    double q = p + t;
    double a = A / q, b = (na - A) / (1 - q), c = B / p, d = (nb - B) / (1 - p);
    double slope = a - b + c - d;
    double curvature = -(a / q + b / (1 - q) + c / p + d / (1 - p));
    if (slope > 0)
      lo = p;
    else
      hi = p;
    double next = p - slope / curvature;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    bool done = std::fabs(next - p) < 1e-14 || hi - lo < 1e-15;
    p = next;
    if (done) break;
  }
  return p;
}

}  // namespace

ErrorRateTest::ErrorRateTest(double tolerance, double alpha)
    : tolerance_(tolerance), log_threshold_(std::log(1 / alpha)) {}

double ErrorRateTest::evidenceWorse() const { return std::exp(log_worse_); }
double ErrorRateTest::evidenceWithin() const { return std::exp(log_within_); }

void ErrorRateTest::Add(const RequestCounts& canary, const RequestCounts& stable) {
  uint64_t kc = std::min(canary.errors, canary.requests);
  uint64_t ks = std::min(stable.errors, stable.requests);
  AddExpected(double(kc), double(canary.requests), double(ks), double(stable.requests));
  canary_.requests += canary.requests;
  canary_.errors += kc;
  stable_.requests += stable.requests;
  stable_.errors += ks;
}

void ErrorRateTest::AddExpected(double kc, double nc, double ks, double ns) {
  if (verdict_ == JudgeVerdict::kUndecided && nc + ns > 0) {
    const double t = tolerance_;
    double a = (kc_ + kPriorErrors) / (nc_ + 2 * kPriorErrors);
    double b = (ks_ + kPriorErrors) / (ns_ + 2 * kPriorErrors);
    if (a - b != t) {
      double p0 = NullPoint(a * nc, nc, b * ns, ns, t);
      double q0 = p0 + t;
      double log_ratio = KLog(kc, a / q0) + KLog(nc - kc, (1 - a) / (1 - q0)) + KLog(ks, b / p0) +
                         KLog(ns - ks, (1 - b) / (1 - p0));
      (a - b > t ? log_worse_ : log_within_) += log_ratio;
    }
    if (log_worse_ >= log_threshold_) {
      verdict_ = JudgeVerdict::kWorse;
    } else if (log_within_ >= log_threshold_) {
      verdict_ = JudgeVerdict::kWithin;
    }
  }
  kc_ += kc;
  nc_ += nc;
  ks_ += ks;
  ns_ += ns;
}

uint64_t ExpectedRequestsToPass(double error_rate, double canary_share, double tolerance,
                                double alpha, double canary_per_look) {
  ErrorRateTest test(tolerance, alpha);
  double seen = 0;
  while (test.verdict() == JudgeVerdict::kUndecided && seen < kMaxRequestsToPass) {
    // Looks grow with the requests seen (2% of them) once that is more than a look brings:
    // the forecast of a long analysis then takes a few hundred looks, not millions.
    const double nc = std::max({1.0, canary_per_look, seen / 50});
    const double ns = nc * (1 - canary_share) / canary_share;
    test.AddExpected(error_rate * nc, nc, error_rate * ns, ns);
    seen += nc;
  }
  return test.verdict() == JudgeVerdict::kWithin ? uint64_t(std::ceil(seen)) : 0;
}

}  // namespace lastgood
