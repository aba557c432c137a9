// Durations as written in manifests and flags: "250ms", "10s", "5m", "1h", "1m30s".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lastgood {

using Millis = std::chrono::milliseconds;

// Parses a duration. Units: ms, s, m, h; several may follow each other, largest first
// ("1m30s"). A bare "0" is zero. Negative or empty values are refused.
Result<Millis> ParseDuration(std::string_view text);

// A long span as flags give one: whole days ("90d") or a duration as above ("12h").
// InvalidInput otherwise; the caller checks the range it allows.
Result<Millis> ParseDaysOrDuration(std::string_view text);

// The shortest exact form: 1500ms → "1500ms", 90000ms → "1m30s", 0 → "0s".
std::string FormatDuration(Millis d);

// A measured time for people, in milliseconds with the precision that matters:
// 0.4321 ms → "0.43 ms", 12.34 ms → "12.3 ms", 1234.6 ms → "1235 ms".
std::string FormatMillis(std::chrono::nanoseconds elapsed);

}  // namespace lastgood
