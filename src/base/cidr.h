// Cidr: an IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or a bare address meaning one
// host), and whether an address lies in it. The router uses it per request for a route's
// trustedProxies, so Contains works on raw address bytes and allocates nothing; the
// manifest validates with ParseCidr. A plain value; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lastgood {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network address (v4: first 4 bytes), host bits zero
  int prefix = 0;                   // 0–32 (v4) or 0–128 (v6)

  // `address` is 4 bytes (v6 false) or 16 bytes (v6 true) in network order. An IPv4
  // address written as IPv4-mapped IPv6 (::ffff:a.b.c.d) matches an IPv4 network.
  bool Contains(bool address_v6, const uint8_t* address) const;
  std::string ToString() const;
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "192.168.1.7" (/32), "fd00::/8", "::1" (/128). Host bits set below the
// prefix are refused ("10.0.0.1/8"): they usually mean a typo. `field` names the input.
Result<Cidr> ParseCidr(std::string_view text, std::string_view field = "");

}  // namespace lastgood
