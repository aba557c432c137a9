#include "router/address.h"

#include <charconv>
#include <string>

namespace lastgood {

Result<boost::asio::ip::tcp::endpoint> ParseAddress(std::string_view text, bool allow_port_zero,
                                                    std::string_view field) {
  auto bad = [&](const std::string& why) {
    return Error::InvalidInput("address '" + std::string(text) + "' " + why +
                                   "; write an IP literal and a port, e.g. 127.0.0.1:8080",
                               std::string(field));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("has no port");
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("needs brackets around an IPv6 address");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty() ||
      port > 65535) {
    return bad("has an invalid port");
  }
  if (port == 0 && !allow_port_zero) return bad("has port 0");
  boost::system::error_code parse_error;
  auto ip = boost::asio::ip::make_address(std::string(host), parse_error);
  if (parse_error) return bad("is not an IP literal (the router does not resolve names)");
  return boost::asio::ip::tcp::endpoint(ip, static_cast<unsigned short>(port));
}

std::string FormatAddress(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto ip = endpoint.address();
  std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace lastgood
