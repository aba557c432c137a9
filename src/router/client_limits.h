// ClientLimits: open client connections per (listener, client address), for a route's
// maxConnectionsPerClient (docs/router.md, "Timeouts and limits"). Consulted only on
// listeners that have a limit, once when a connection is accepted and once when it closes,
// never per request. Thread-safe (one mutex; the accept path of limited listeners only).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lastgood {

class ClientLimits {
 public:
  // Counts a new connection from `client` on `listener`, unless it already has `limit`
  // open there: then nothing is counted and the answer is false.
  bool TryAdd(uint32_t listener, const boost::asio::ip::address& client, int limit);
  // A connection counted by TryAdd has closed.
  void Remove(uint32_t listener, const boost::asio::ip::address& client);
  size_t clients() const;

 private:
  static std::string Key(uint32_t listener, const boost::asio::ip::address& client);

  mutable std::mutex mu_;
  std::unordered_map<std::string, int> open_;  // guarded by mu_
};

}  // namespace lastgood
