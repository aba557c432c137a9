#include "health/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace lastgood {
namespace {

using std::chrono::steady_clock;

// A listening socket on 127.0.0.1 with a kernel-chosen port.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Answers one request with `response`, keeping what it received.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response)
      : response_(std::move(response)), thread_([this] { Serve(); }) {}
  ~OneShotServer() { thread_.join(); }
  int port() const { return listener_.port(); }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  void Serve() {
    int conn = accept(listener_.fd(), nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(conn, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    ssize_t ignored = write(conn, response_.data(), response_.size());
    (void)ignored;
    close(conn);
  }

  Listener listener_;
  std::string response_;
  std::string request_;
  std::thread thread_;
};

ProbeSpec Http(int port, const std::string& path, Millis timeout = Millis(1000)) {
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kHttp;
  spec.port = port;
  spec.path = path;
  spec.timeout = timeout;
  return spec;
}

ProbeSpec Exec(std::vector<std::string> command, Millis timeout = Millis(1000)) {
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kExec;
  spec.command = std::move(command);
  spec.timeout = timeout;
  return spec;
}

int ClosedPort() {
  Listener l;
  return l.port();
}

TEST(HttpProbe, PassesOn200AndSendsAPlainGet) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ProbeResult r = RunProbe(Http(server.port(), "/healthz"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "http /healthz → 200");
  EXPECT_EQ(server.request(),
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                "\r\nConnection: close\r\nUser-Agent: lastgood-probe\r\n\r\n");
}

TEST(HttpProbe, PassesOnARedirectAndFailsOnAServerError) {
  OneShotServer redirect("HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n");
  EXPECT_TRUE(RunProbe(Http(redirect.port(), "/")).ok);
  OneShotServer broken("HTTP/1.1 500 Internal Server Error\r\n\r\n");
  ProbeResult r = RunProbe(Http(broken.port(), "/healthz"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "http /healthz → 500");
}

TEST(HttpProbe, FailsOnSomethingThatIsNotHttp) {
  OneShotServer server("SSH-2.0-OpenSSH\r\n");
  ProbeResult r = RunProbe(Http(server.port(), "/"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "http / → not an HTTP response");
}

TEST(HttpProbe, ReportsAClosedPortAsConnectionRefused) {
  ProbeResult r = RunProbe(Http(ClosedPort(), "/healthz"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "http /healthz → connection refused");
}

TEST(HttpProbe, GivesUpAtTheTimeoutWhenTheServerNeverAnswers) {
  Listener silent;  // the kernel completes the handshake; nobody ever reads or writes
  auto begin = steady_clock::now();
  ProbeResult r = RunProbe(Http(silent.port(), "/healthz", Millis(300)));
  auto took = steady_clock::now() - begin;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "http /healthz → timed out after 300ms");
  EXPECT_GE(took, Millis(290));
  EXPECT_LT(took, Millis(400));
}

TEST(TcpProbe, PassesWhenSomethingListensAndFailsOnAClosedPort) {
  Listener listening;
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kTcp;
  spec.port = listening.port();
  ProbeResult r = RunProbe(spec);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "tcp :" + std::to_string(spec.port) + " → connected");
  spec.port = ClosedPort();
  r = RunProbe(spec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "tcp :" + std::to_string(spec.port) + " → connection refused");
}

TEST(ExecProbe, PassesOnExitZeroAndFailsOnOthers) {
  ProbeResult r = RunProbe(Exec({"true"}));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "exec true → exit 0");
  r = RunProbe(Exec({"/bin/false"}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exec /bin/false → exit 1");
}

TEST(ExecProbe, RunsWithItsEnvAndCwd) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lg-probe-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  ProbeSpec spec = Exec({"/bin/sh", "-c", "test \"$PORT\" = 4242 && test \"$(pwd)\" = \"$1\"", "sh",
                         std::filesystem::canonical(dir).string()});
  spec.env = {{"PORT", "4242"}};
  spec.cwd = dir;
  ProbeResult r = RunProbe(spec);
  EXPECT_TRUE(r.ok) << r.detail;
  spec.env = {{"PORT", "1"}};
  EXPECT_FALSE(RunProbe(spec).ok);
  std::filesystem::remove_all(dir);
}

TEST(ExecProbe, KillsTheCommandAndItsChildrenAtTheTimeout) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lg-probe-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  ProbeSpec spec = Exec({"/bin/sh", "-c", "sleep 5 & echo $! > child.pid; wait"}, Millis(300));
  spec.cwd = dir;
  auto begin = steady_clock::now();
  ProbeResult r = RunProbe(spec);
  auto took = steady_clock::now() - begin;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exec /bin/sh → timed out after 300ms");
  EXPECT_LT(took, Millis(400));
  int child = 0;
  std::ifstream(dir + "/child.pid") >> child;
  ASSERT_GT(child, 0);
  // The orphaned sleep may linger as a zombie until init reaps it; it must not be running.
  std::this_thread::sleep_for(Millis(50));
  std::string stat;
  std::getline(std::ifstream("/proc/" + std::to_string(child) + "/stat"), stat);
  EXPECT_TRUE(stat.empty() || stat.find(") Z") != std::string::npos) << stat;
  std::filesystem::remove_all(dir);
}

TEST(ExecProbe, ReportsAMissingCommand) {
  ProbeResult r = RunProbe(Exec({"./no-such-check"}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exec ./no-such-check → no such file or directory");
  r = RunProbe(Exec({"no-such-check-anywhere"}));
  EXPECT_EQ(r.detail, "exec no-such-check-anywhere → no such file or directory");
}

}  // namespace
}  // namespace lastgood
