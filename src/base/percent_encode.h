// PercentEncode: a path segment or query value made safe for a URL (RFC 3986: the unreserved
// characters stay as they are, every other byte becomes %XX). One definition for the CLI's
// API paths, the Prometheus client's queries, and the tests and fuzz targets that build URLs.
#pragma once

#include <string>
#include <string_view>

namespace lastgood {

inline std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace lastgood
