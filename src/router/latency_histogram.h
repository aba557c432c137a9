// A fixed log-scale latency histogram (HdrHistogram-like): exact below 64 µs, then 32
// sub-buckets per power of two, so any value is reported within ~1.6% (half a bucket) from
// 1 µs to 67 s. Values above the top are clamped to it. Pure functions; thread-safe.
#pragma once

#include <cstdint>

namespace lastgood {

inline constexpr int kLatencyBuckets = 64 + 20 * 32;  // up to 2^26 µs ≈ 67 s
inline constexpr uint64_t kLatencyMaxMicros = (uint64_t{1} << 26) - 1;

// The bucket that holds `micros`.
inline int LatencyBucket(uint64_t micros) {
  if (micros < 64) return static_cast<int>(micros);
  if (micros > kLatencyMaxMicros) micros = kLatencyMaxMicros;
  int octave = 63 - __builtin_clzll(micros);  // 6..25
  int shift = octave - 5;
  int sub = static_cast<int>(micros >> shift) - 32;  // 0..31
  return 64 + (octave - 6) * 32 + sub;
}

// The range of a bucket: [LatencyBucketLowMicros(b), + LatencyBucketWidthMicros(b)).
inline uint64_t LatencyBucketLowMicros(int bucket) {
  if (bucket < 64) return static_cast<uint64_t>(bucket);
  int octave = (bucket - 64) / 32 + 6;
  return static_cast<uint64_t>((bucket - 64) % 32 + 32) << (octave - 5);
}
inline uint64_t LatencyBucketWidthMicros(int bucket) {
  return bucket < 64 ? 1 : uint64_t{1} << ((bucket - 64) / 32 + 1);
}

// The value a bucket stands for: the middle of its range.
inline double LatencyBucketMicros(int bucket) {
  if (bucket < 64) return bucket;
  int octave = (bucket - 64) / 32 + 6;
  int sub = (bucket - 64) % 32 + 32;
  int shift = octave - 5;
  double low = static_cast<double>(uint64_t(sub) << shift);
  return low + static_cast<double>(uint64_t{1} << shift) / 2;
}

// The q-quantile (0 < q <= 1) of a histogram with `total` samples, in µs; 0 when empty.
inline double LatencyQuantileMicros(const uint64_t* counts, uint64_t total, double q) {
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
  if (rank < 1) rank = 1;
  if (rank > total) rank = total;
  uint64_t seen = 0;
  for (int b = 0; b < kLatencyBuckets; ++b) {
    seen += counts[b];
    if (seen >= rank) return LatencyBucketMicros(b);
  }
  return LatencyBucketMicros(kLatencyBuckets - 1);
}

}  // namespace lastgood
