#include "base/clock.h"

#include <ctime>
#include <thread>

namespace lastgood {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point Steady() override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

void Clock::SleepFor(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

std::string FormatTimestamp(int64_t epoch_millis) {
  if (epoch_millis <= 0) return "";
  time_t secs = epoch_millis / 1000;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(epoch_millis % 1000));
  return buf;
}

}  // namespace lastgood
