// End-to-end: the CLI's transport safety (issue 11 D). A token never goes in clear text over
// http:// to an address that is not loopback unless --insecure is given, and a controller
// that accepts a connection and never answers cannot hang a command: the CLI gives up after
// --timeout, while following a deployment lasts as long as the deployment.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "testutil/lastgood.h"
#include "testutil/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::kLastgoodBinary;
using lastgood::testutil::Lastgood;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;
using lastgood::testutil::TempDir;

struct CliRun {
  int code = -1;
  std::string err;
  std::chrono::milliseconds took{0};
};

// `lastgood args...` with `env`, in `dir`; given 30 s before it counts as hung.
CliRun RunCli(const std::string& dir, std::map<std::string, std::string> env,
              std::vector<std::string> args) {
  ProcessOptions o;
  o.argv = {kLastgoodBinary};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  o.unset_env = {"LASTGOOD_SERVER", "LASTGOOD_TOKEN", "LASTGOOD_TIMEOUT"};
  o.stdout_path = dir + "/cli.out";
  o.stderr_path = dir + "/cli.err";
  auto started = std::chrono::steady_clock::now();
  Process p(o);
  auto st = p.Wait(30s);
  CliRun r;
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started);
  if (st && st->exited()) r.code = st->code;
  r.err = ReadFile(o.stderr_path);
  return r;
}

// A listener that accepts connections, reads what comes and never answers: a controller
// that hangs. Holds every connection open until it goes.
class SilentServer {
 public:
  // On 127.0.0.1, a free port.
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    Start();
  }
  // On a unix socket at `path`.
  explicit SilentServer(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    Start();
  }
  ~SilentServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void Start() {
    EXPECT_EQ(::listen(fd_, 16), 0);
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        held_.push_back(c);
        ++accepted_;
      }
    });
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;  // touched by the thread only, then by the destructor after join
  std::thread thread_;
};

TEST(CliTransport, ATokenIsNotSentInClearTextToARemoteAddressWithoutInsecure) {
  TempDir dir("lg-transport");
  // 192.0.2.1 (TEST-NET-1) is an address that is not this machine's loopback.
  std::map<std::string, std::string> env = {{"LASTGOOD_HOME", dir.path()},
                                            {"LASTGOOD_SERVER", "http://192.0.2.1:7443"},
                                            {"LASTGOOD_TOKEN", "lgt_" + std::string(64, 'a')}};
  CliRun refused = RunCli(dir.path(), env, {"status", "web"});
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find("clear text"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("https://"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--insecure"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("lgt_"), std::string::npos) << "the token was printed";

  // Told --insecure, it tries: the address does not answer, which is exit 5, not 2.
  CliRun insecure = RunCli(dir.path(), env, {"--insecure", "--timeout", "1s", "status", "web"});
  EXPECT_EQ(insecure.code, 5) << insecure.err;
  EXPECT_NE(insecure.err.find("cannot reach"), std::string::npos) << insecure.err;
  EXPECT_LT(insecure.took, 10s);
}

TEST(CliTransport, AControllerThatAcceptsAndNeverAnswersIsGivenUpAfterTheTimeout) {
  TempDir dir("lg-transport");
  SilentServer tcp;
  std::map<std::string, std::string> env = {
      {"LASTGOOD_HOME", dir.path()},
      {"LASTGOOD_SERVER", "http://127.0.0.1:" + std::to_string(tcp.port())},
      {"LASTGOOD_TOKEN", "lgt_" + std::string(64, 'a')}};
  CliRun over_tcp = RunCli(dir.path(), env, {"--timeout", "1s", "status", "web"});
  EXPECT_EQ(over_tcp.code, 5) << over_tcp.err;
  EXPECT_NE(over_tcp.err.find("no answer within 1s"), std::string::npos) << over_tcp.err;
  EXPECT_EQ(tcp.accepted(), 1);
  EXPECT_LT(over_tcp.took, 10s);

  // The unix socket too: a home whose api.sock belongs to a hung controller.
  SilentServer unix_socket(dir.path() + "/api.sock");
  CliRun local =
      RunCli(dir.path(), {{"LASTGOOD_HOME", dir.path()}, {"LASTGOOD_TIMEOUT", "1s"}}, {"apps"});
  EXPECT_EQ(local.code, 5) << local.err;
  EXPECT_NE(local.err.find("no answer within 1s"), std::string::npos) << local.err;
  EXPECT_LT(local.took, 10s);

  CliRun malformed =
      RunCli(dir.path(), {{"LASTGOOD_HOME", dir.path()}}, {"--timeout", "soon", "apps"});
  EXPECT_EQ(malformed.code, 2) << malformed.err;
}

// A follow is a series of long-polls, each given the wait it asked the controller for on top
// of --timeout: a deployment that bakes longer than --timeout is followed to its end.
TEST(CliTransport, FollowingADeploymentOutlastsTheTimeout) {
  Lastgood lg;
  lg.Given().App(SampleApp().Label("v1")).Applied();
  // 2 s leaves room for the apply itself on a loaded machine; the bake holds the follow's
  // long-poll (10 s) past it.
  lg.App(SampleApp().Label("v2").Bake("5s"));
  lg.When().Apply({"--timeout", "2s"});
  lg.Then().ExitCode(0).Serves("v2");
}

}  // namespace
