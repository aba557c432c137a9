// PickFreePort: a port for an instance, chosen at random below the kernel's ephemeral range
// and checked free by binding it; we remember what we handed out so that two instances
// started moments apart (before either has bound) never get the same.
//
// Why not the kernel's choice (port 0): that comes from the ephemeral range, which is also
// where every outgoing connection on the host takes its source port — the router's own
// upstream connections among them. Between our check and the instance's bind, one of them
// could take the port and the instance would fail to start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "targets/target.h"

namespace lastgood {
namespace {

constexpr auto kPortQuarantine = std::chrono::minutes(5);
constexpr int kPortAttempts = 256;
constexpr int kFirstPort = 10000;

// The lowest ephemeral port (net.ipv4.ip_local_port_range), 32768 when unreadable.
int EphemeralLow() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  return low;
}

// Whether `port` on 127.0.0.1 can be bound now; 0 asks the kernel for one (returned).
Result<int> TryBind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::Internal(std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
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

// A candidate: random below the ephemeral range, or the kernel's choice when the range
// leaves no room below it.
Result<int> Candidate(std::mt19937& rng) {
  const int last = EphemeralLow() - 1;
  if (last - kFirstPort < 1000) return TryBind(0);
  return TryBind(std::uniform_int_distribution<int>(kFirstPort, last)(rng));
}

}  // namespace

Result<int> PickFreePort() {
  static std::mutex mu;
  static std::map<int, std::chrono::steady_clock::time_point> handed_out;
  static std::mt19937 rng{std::random_device{}()};
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    Result<int> port = Error::Internal("");
    {
      std::lock_guard<std::mutex> lock(mu);
      port = Candidate(rng);
    }
    if (!port.ok()) {
      if (port.error().code == ErrorCode::kUnavailable) continue;  // taken: another one
      return port;
    }
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu);
    std::erase_if(handed_out, [now](const auto& e) { return now - e.second > kPortQuarantine; });
    if (handed_out.emplace(*port, now).second) return port;
  }
  return Error::Unavailable("no free port on 127.0.0.1 that was not handed out recently");
}

}  // namespace lastgood
