#include "base/duration.h"

#include <cctype>
#include <cstdint>
#include <cstdio>

namespace lastgood {

Result<Millis> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Error::InvalidInput("'" + std::string(text) +
                               "' is not a duration; write it like 500ms, 10s, 5m, 1h or 1m30s");
  };
  if (text == "0") return Millis(0);
  if (text.empty()) return bad();
  int64_t total = 0;
  int last_rank = 100;  // units must go from larger to smaller
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000'000LL) return bad();
      ++i;
    }
    int64_t unit = 0;
    int rank = 0;
    if (text.substr(i, 2) == "ms") {
      unit = 1, rank = 0, i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit = 1000, rank = 1, ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit = 60'000, rank = 2, ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit = 3'600'000, rank = 3, ++i;
    } else {
      return bad();
    }
    if (rank >= last_rank) return bad();
    last_rank = rank;
    total += n * unit;
  }
  return Millis(total);
}

Result<Millis> ParseDaysOrDuration(std::string_view text) {
  constexpr int64_t kDay = 86'400'000;
  if (!text.empty() && text.back() == 'd') {
    std::string_view digits = text.substr(0, text.size() - 1);
    if (!digits.empty() && digits.size() <= 5 &&
        digits.find_first_not_of("0123456789") == std::string_view::npos) {
      return Millis(std::stoll(std::string(digits)) * kDay);
    }
    return Error::InvalidInput("'" + std::string(text) +
                               "' is not a number of days or a duration; write 90d, 12h or 30m");
  }
  return ParseDuration(text);
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) return std::to_string(ms) + "ms";
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec) out += std::to_string(sec) + "s";
  return out;
}

std::string FormatMillis(std::chrono::nanoseconds elapsed) {
  const double ms = static_cast<double>(elapsed.count()) / 1e6;
  char text[32];
  std::snprintf(text, sizeof text, ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
  return text;
}

}  // namespace lastgood
