// Listening sockets for a table listener: one per worker, all bound to the same address
// with SO_REUSEPORT so that the kernel spreads new connections over the workers without a
// shared accept lock. Port 0 binds the first socket to a free port and the rest to it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include "base/result.h"

namespace lastgood {

struct ListenSockets {
  boost::asio::ip::tcp::endpoint bound;  // the address actually bound
  std::vector<int> fds;                  // one per worker; the caller owns them
};

Result<ListenSockets> OpenListenSockets(const boost::asio::ip::tcp::endpoint& endpoint, int count);
void CloseListenSockets(ListenSockets& sockets);

}  // namespace lastgood
