// End-to-end, issue 11 router items through the controller: a route address that cannot
// be bound costs only that app's listener (the controller stays up, `status` says so, the
// router takes the address once it is free), and the manifest's route hardening fields
// reach the router. The attacks themselves are performed over raw sockets in
// src/router/forwarding_test.cc and listeners_test.cc.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdlib>
#include <thread>

#include "testutil/http.h"
#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::FreePort;
using lastgood::testutil::HttpConnection;
using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using lastgood::testutil::WaitUntil;
using nlohmann::json;

std::string WithRoute(SampleApp app, int port, const std::string& more = "") {
  return app.Yaml() + "route:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n" + more;
}

// A port held by a plain listening socket (SO_REUSEADDR for the connections the router
// left in TIME_WAIT, no SO_REUSEPORT): the router cannot listen on it.
struct HeldPort {
  int fd = -1;
  explicit HeldPort(int port) {
    for (int attempt = 0; attempt < 50 && fd < 0; ++attempt) {
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(fd, 8) != 0) {
        ::close(fd);
        fd = -1;
        std::this_thread::sleep_for(10ms);
      }
    }
  }
  void Release() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~HeldPort() { Release(); }
};

int PidIn(const Lastgood& lg, const std::string& file) {
  return std::atoi(lastgood::testutil::ReadFile(lg.home() + "/" + file).c_str());
}

// As after a reboot: the router comes back (here: every router process killed, and `serve`
// starts one again) while another program holds one app's port.
TEST(RouterListeners, ATakenRouteAddressCostsOnlyThatListenerAndIsServedOnceFree) {
  Lastgood lg;
  int web_port = FreePort(), api_port = FreePort();
  lg.Given().Manifest(WithRoute(SampleApp().App("api").Label("api-v1"), api_port), "api");
  lg.Applied();
  lg.Given().Manifest(WithRoute(SampleApp(), web_port)).Applied();
  ASSERT_EQ(Lastgood::Label(web_port), "v1");
  // Every router process: the one that serves and, when there is one, the keeper.
  int keeper = PidIn(lg, "router-keeper.pid"), worker = PidIn(lg, "router.pid");
  ASSERT_GT(worker, 0);
  if (keeper > 0) {
    ASSERT_EQ(::kill(keeper, SIGKILL), 0);
  }
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  HeldPort held(web_port);
  ASSERT_GE(held.fd, 0) << "could not take the port the router left";

  // `serve` brings a router back; it serves the other app and reports this one.
  ASSERT_TRUE(WaitUntil([&] { return Lastgood::Label(api_port) == "api-v1"; }, 10s, 50ms));
  json status = lg.Json({"status", "web"});
  ASSERT_TRUE(status["listeners"].is_array()) << status.dump();
  ASSERT_EQ(status["listeners"].size(), 1u) << status.dump();
  EXPECT_FALSE(status["listeners"][0]["bound"].get<bool>()) << status.dump();
  EXPECT_NE(status["listeners"][0]["error"].get<std::string>().find("in use"), std::string::npos)
      << status.dump();
  lg.When().Run({"status", "web"});
  lg.Then().ExitCode(0).OutputHas("NOT LISTENING on 127.0.0.1:" + std::to_string(web_port));
  lg.When().Run({"apps"});
  lg.Then().ExitCode(0);  // the controller is up

  held.Release();
  EXPECT_TRUE(WaitUntil([&] { return Lastgood::Label(web_port) == "v1"; }, 5s, 50ms))
      << "the router did not take the freed address";
  EXPECT_TRUE(lg.Json({"status", "web"})["listeners"][0]["bound"].get<bool>());
}

TEST(RouterListeners, TheManifestsPerClientLimitReachesTheRouter) {
  Lastgood lg;
  int port = FreePort();
  lg.Given().Manifest(WithRoute(SampleApp(), port, "  maxConnectionsPerClient: 1\n")).Applied();
  HttpConnection first;
  ASSERT_EQ(first.Connect("127.0.0.1", port), "");
  ASSERT_EQ(first.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "");
  EXPECT_EQ(first.ReadResponse().status, 200);
  // A second connection from the same address is reset at accept.
  EXPECT_FALSE(lastgood::testutil::HttpGet("127.0.0.1", port, "/").ok());
  first.Close();
  EXPECT_TRUE(WaitUntil([&] { return Lastgood::Label(port) == "v1"; }, 3s, 20ms));
}

}  // namespace
