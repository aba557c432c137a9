// ln B(a, b), the logarithm of the beta function, for the judges' mixture likelihoods.
// Boost.Math's lgamma (thread-safe, unlike glibc's lgamma, which writes signgam) with a
// policy that returns NaN/inf instead of throwing. Pure; thread-safe.
#pragma once

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace lastgood {

using NoThrowMath = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_double<false>>;

// REQUIRES: a > 0, b > 0.
inline double LogBeta(double a, double b) {
  return boost::math::lgamma(a, NoThrowMath()) + boost::math::lgamma(b, NoThrowMath()) -
         boost::math::lgamma(a + b, NoThrowMath());
}

}  // namespace lastgood
