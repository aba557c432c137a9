#include "router/listen_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "router/address.h"

namespace lastgood {

namespace {
constexpr int kListenBacklog = 4096;
}  // namespace

Result<ListenSockets> OpenListenSockets(const boost::asio::ip::tcp::endpoint& endpoint, int count) {
  ListenSockets out;
  out.bound = endpoint;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    bool ok = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
              ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0 &&
              ::bind(fd, out.bound.data(), static_cast<socklen_t>(out.bound.size())) == 0 &&
              ::listen(fd, kListenBacklog) == 0;
    if (!ok) {
      std::string why = strerror(errno);
      if (fd >= 0) ::close(fd);
      CloseListenSockets(out);
      return Error::InvalidInput("cannot listen on " + FormatAddress(endpoint) + ": " + why);
    }
    if (i == 0) {
      socklen_t len = static_cast<socklen_t>(out.bound.capacity());
      ::getsockname(fd, out.bound.data(), &len);
    }
    out.fds.push_back(fd);
  }
  return out;
}

void CloseListenSockets(ListenSockets& sockets) {
  for (int fd : sockets.fds) ::close(fd);
  sockets.fds.clear();
}

}  // namespace lastgood
