// Parsing of the "ip:port" addresses that routing tables use for listeners and backends.
// IPv4 literals ("127.0.0.1:8080") and bracketed IPv6 literals ("[::1]:8080") only: the router
// never resolves names, so a table change can never block on DNS.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "base/result.h"

namespace lastgood {

// REQUIRES: nothing. Port 0 is allowed only when `allow_port_zero` (a listener that lets the
// kernel pick a port, used by tests).
Result<boost::asio::ip::tcp::endpoint> ParseAddress(std::string_view text, bool allow_port_zero,
                                                    std::string_view field = "");

// "127.0.0.1:8080" / "[::1]:8080".
std::string FormatAddress(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace lastgood
