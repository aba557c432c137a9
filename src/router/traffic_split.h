// The router's choices per request, as pure functions over plain values: which slot a
// client is pinned to, which slot a new client is split to, and which version (by weight)
// serves a request. Thread-compatible: callers own the mutable state they pass in.
#pragma once

#include <cstdint>
#include <string_view>

namespace lastgood {

inline constexpr std::string_view kSlotCookie = "lastgood-slot";
inline constexpr std::string_view kSlotQueryParameter = "lastgood-slot";
inline constexpr std::string_view kSlotHeader = "X-Lastgood-Slot";

// Smooth weighted round-robin (nginx's): every pick adds each weight to its running value,
// takes the largest, and subtracts the total from it. Over any run of sum(weights) picks each
// index gets exactly its weight, spread out (5/1/1 → a a b a c a a). `current` holds the
// running values (n entries, start at 0). Returns -1 when every weight is 0.
int PickSmoothWeighted(const int* weights, int64_t* current, int n);

// The value of cookie `name` in a Cookie header ("a=1; lastgood-slot=staging"); empty if none.
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

// The value of query parameter `name` in a request target ("/x?lastgood-slot=staging");
// empty if none. Values are used as-is (slot names need no decoding).
std::string_view QueryValue(std::string_view target, std::string_view name);

}  // namespace lastgood
