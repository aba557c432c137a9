#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace lastgood::http {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

Response Text(const Request& req, std::string body) {
  Response res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

// A connected TCP socket to 127.0.0.1:port from the loopback address `from`, or -1.
int ConnectFrom(const std::string& from, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, const std::string& text) {
  (void)!::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

// What arrives on fd until the peer closes or `timeout` passes; *closed says which.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds timeout, bool* closed) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  *closed = false;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One request on a fresh connection from `from`; the whole answer (Connection: close).
std::string Exchange(const std::string& from, int port, const std::string& target) {
  int fd = ConnectFrom(from, port);
  if (fd < 0) return "";
  SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  bool closed = false;
  std::string out = ReadUntilClosed(fd, 3s, &closed);
  ::close(fd);
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  int Listen(Limits limits, Handler handler) {
    auto endpoint = ParseEndpoint("127.0.0.1:0", "listen");
    auto bound = server_.ListenTcp(*endpoint, limits, std::move(handler));
    EXPECT_TRUE(bound.ok());
    return bound.ok() ? std::stoi(bound->substr(bound->rfind(':') + 1)) : 0;
  }
  static Handler Echo() {
    return [](const Peer& peer, Request& req) {
      return Answer(Text(req, std::string(req.target()) + " from " + peer.host));
    };
  }
  Server server_;
};

TEST_F(ServerTest, AnswersWithTheHandlersResponse) {
  int port = Listen(Limits{}, Echo());
  server_.Start();
  std::string out = Exchange("127.0.0.1", port, "/hello");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("/hello from 127.0.0.1"), std::string::npos) << out;
}

TEST_F(ServerTest, APeerThatDripsItsFirstHeaderIsClosedAtTheDeadline) {
  Limits limits;
  limits.firstHeader = 300ms;
  int port = Listen(limits, Echo());
  server_.Start();
  int fd = ConnectFrom("127.0.0.1", port);
  ASSERT_GE(fd, 0);
  auto start = Clock::now();
  SendAll(fd, "GET /slow HTTP/1.1\r\n");
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {  // a byte every 100 ms: never a whole header
    SendAll(fd, "X");
    ReadUntilClosed(fd, 100ms, &closed);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 1500ms);
  ::close(fd);
}

TEST_F(ServerTest, OneAddressGetsNoMoreThanItsShareAndOthersStillGetIn) {
  Limits limits;
  limits.maxPerAddress = 2;
  int port = Listen(limits, Echo());
  server_.Start();
  int a = ConnectFrom("127.0.0.1", port), b = ConnectFrom("127.0.0.1", port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::this_thread::sleep_for(100ms);  // both admitted before the third arrives
  std::string third = Exchange("127.0.0.1", port, "/third");
  EXPECT_EQ(third.rfind("HTTP/1.1 503", 0), 0u) << third;
  std::string other = Exchange("127.0.0.2", port, "/other");
  EXPECT_EQ(other.rfind("HTTP/1.1 200", 0), 0u) << other;
  ::close(a);
  ::close(b);
}

TEST_F(ServerTest, AFullListenerLeavesAnotherListenersCapacityAlone) {
  Limits small;
  small.maxConnections = 2;
  int full = Listen(small, Echo());
  int other = Listen(Limits{}, Echo());
  server_.Start();
  int a = ConnectFrom("127.0.0.1", full), b = ConnectFrom("127.0.0.1", full);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Exchange("127.0.0.1", full, "/x").rfind("HTTP/1.1 503", 0), 0u);
  EXPECT_EQ(Exchange("127.0.0.1", other, "/y").rfind("HTTP/1.1 200", 0), 0u);
  ::close(a);
  ::close(b);
}

TEST_F(ServerTest, AHandlerThatThrowsIsAnswered500AndTheServerGoesOn) {
  int port = Listen(Limits{}, [](const Peer&, Request& req) -> Answer {
    if (req.target() == "/boom") throw std::runtime_error("a bug");
    return Text(req, "fine");
  });
  server_.Start();
  EXPECT_EQ(Exchange("127.0.0.1", port, "/boom").rfind("HTTP/1.1 500", 0), 0u);
  EXPECT_EQ(Exchange("127.0.0.1", port, "/ok").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerTest, AStreamWritesWhatNextGivesUntilItEnds) {
  int port = Listen(Limits{}, [](const Peer&, Request&) {
    auto count = std::make_shared<int>(0);
    Answer a;
    a.stream = Stream{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
                      [count]() -> std::optional<std::string> {
                        if (++*count > 3) return std::nullopt;
                        return "tick " + std::to_string(*count) + "\n";
                      },
                      10ms};
    return a;
  });
  server_.Start();
  std::string out = Exchange("127.0.0.1", port, "/events");
  EXPECT_NE(out.find("tick 1\ntick 2\ntick 3\n"), std::string::npos) << out;
}

TEST_F(ServerTest, AUnixPeerIsKnownByTheKernelsCredentials) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("lg-http-test-" + std::to_string(::getpid()) + ".sock"))
                         .string();
  std::atomic<uid_t> uid{12345};
  std::atomic<bool> credentials{false};
  ASSERT_TRUE(server_
                  .ListenUnix(path, Limits{},
                              [&](const Peer& peer, Request& req) {
                                uid = peer.uid;
                                credentials = peer.credentials;
                                return Answer(Text(req, "ok"));
                              })
                  .ok());
  server_.Start();
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  bool closed = false;
  std::string out = ReadUntilClosed(fd, 3s, &closed);
  ::close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_TRUE(credentials);
  EXPECT_EQ(uid, ::getuid());
  server_.Stop();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace lastgood::http
