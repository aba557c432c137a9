// PickFreePort: the kernel chooses an ephemeral port; we remember what we handed out so
// that two instances started moments apart (before either has bound) never get the same.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "targets/target.h"

namespace lastgood {
namespace {

constexpr auto kPortQuarantine = std::chrono::minutes(5);
constexpr int kPortAttempts = 64;

Result<int> BindEphemeralPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::Internal(std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return Error::Unavailable(std::string("no free port on 127.0.0.1: ") + strerror(err));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

Result<int> PickFreePort() {
  static std::mutex mu;
  static std::map<int, std::chrono::steady_clock::time_point> handed_out;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<int> port = BindEphemeralPort();
    if (!port.ok()) return port;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu);
    std::erase_if(handed_out, [now](const auto& e) { return now - e.second > kPortQuarantine; });
    if (handed_out.emplace(*port, now).second) return port;
  }
  return Error::Unavailable("no free port on 127.0.0.1 that was not handed out recently");
}

}  // namespace lastgood
