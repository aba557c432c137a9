// Fuzz target: the statistics a router worker is handed by its predecessor
// (src/router/stats_carry.cc), read as the successor reads them: decoded, then added to its
// registry and read back as GET /v1/stats does. The bytes come from another process, maybe
// another build: hostile input. Findings, besides crashes and undefined behaviour: bytes
// accepted that the encoder would not have written the same way (the layout has exactly one
// spelling of each content, so anything else accepted is a check missing), and a window read
// back with more requests than the bytes carried.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "router/stats_carry.h"

namespace {

using namespace lastgood;

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "carried statistics: %s\n", what);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeCarriedStats(bytes);
  if (!decoded.ok()) return 0;
  Check(EncodeCarriedStats(*decoded) == bytes, "accepted bytes the encoder spells otherwise");
  uint64_t carried = 0;
  int64_t now = 0;
  for (const auto& series : decoded->series) {
    for (const auto& second : series.seconds) {
      carried += second.counters.requests;
      if (second.second > now) now = second.second;
    }
  }
  StatsRegistry registry(2);
  registry.Carry(*decoded, now);
  uint64_t read = 0;
  for (const auto& row : registry.Read(std::chrono::milliseconds(120'000)).rows) {
    if (!row.backend.empty()) read += row.requests;
  }
  Check(read <= carried, "a window with more requests than were carried");
  return 0;
}
