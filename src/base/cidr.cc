#include "base/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace lastgood {

namespace {

bool PrefixMatches(const uint8_t* a, const uint8_t* b, int prefix) {
  int whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

bool Cidr::Contains(bool address_v6, const uint8_t* address) const {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (address_v6 && !v6 && std::memcmp(address, kMapped, sizeof kMapped) == 0) {
    return PrefixMatches(address + 12, bytes.data(), prefix);
  }
  if (address_v6 != v6) return false;
  return PrefixMatches(address, bytes.data(), prefix);
}

std::string Cidr::ToString() const {
  char text[INET6_ADDRSTRLEN] = {0};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

Result<Cidr> ParseCidr(std::string_view text, std::string_view field) {
  constexpr const char* kHelp =
      "; write an address or a network, like 10.0.0.0/8, 192.168.1.7 or fd00::/8";
  Cidr out;
  std::string address(text.substr(0, text.find('/')));
  out.v6 = address.find(':') != std::string::npos;
  if (inet_pton(out.v6 ? AF_INET6 : AF_INET, address.c_str(), out.bytes.data()) != 1) {
    return Error::InvalidInput("'" + std::string(text) + "' is not an IP network" + kHelp,
                               std::string(field));
  }
  const int max = out.v6 ? 128 : 32;
  out.prefix = max;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int prefix = 0;
    bool ok = !digits.empty() && digits.size() <= 3;
    for (char c : digits) {
      ok = ok && c >= '0' && c <= '9';
      prefix = prefix * 10 + (c - '0');
    }
    if (!ok || prefix > max) {
      return Error::InvalidInput(
          "'" + std::string(text) + "' has a bad prefix length (0–" + std::to_string(max) + ")",
          std::string(field));
    }
    out.prefix = prefix;
  }
  Cidr network = out;
  const int bytes = out.v6 ? 16 : 4;
  for (int bit = out.prefix; bit < bytes * 8; ++bit) {
    network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (network.bytes != out.bytes) {
    return Error::InvalidInput(
        "'" + std::string(text) + "' has host bits set; did you mean " + network.ToString() + "?",
        std::string(field));
  }
  return out;
}

}  // namespace lastgood
