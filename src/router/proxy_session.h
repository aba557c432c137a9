// One client connection of the reverse proxy: reads requests, routes each by the worker's
// current table, relays it to a backend over a pooled keep-alive connection, and relays the
// response back, streaming bodies of any size in bounded pieces. docs/router.md describes
// the rules it applies (pinning, split, retries, timeouts, hostile input).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>

namespace lastgood {

class Worker;

// Runs on `worker`'s thread until the connection closes. `listener` is the stable id of the
// listener that accepted it. Accounts for itself in RouterShared::connections, and in
// RouterShared::clients when `counted_client` is set (the listener limits its clients).
boost::asio::awaitable<void> RunSession(
    Worker& worker, boost::asio::ip::tcp::socket client, uint32_t listener,
    std::optional<boost::asio::ip::address> counted_client = std::nullopt);

}  // namespace lastgood
