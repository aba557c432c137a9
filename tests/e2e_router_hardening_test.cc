// End-to-end, issue 11 router items through the controller: a route address that cannot
// be bound costs only that app's listener (the controller stays up, `status` says so, the
// router takes the address once it is free), and the manifest's route hardening fields
// reach the router. The attacks themselves are performed over raw sockets in
// src/router/forwarding_test.cc and listeners_test.cc.
#include <gtest/gtest.h>
#include <sys/socket.h>

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

// A port held by a plain listening socket (no SO_REUSEPORT): nothing else can bind it.
struct HeldPort {
  int fd = -1, port = 0;
  HeldPort() {
    for (int attempt = 0; attempt < 20 && fd < 0; ++attempt) {
      port = FreePort();
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(fd, 8) != 0) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  void Release() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~HeldPort() { Release(); }
};

TEST(RouterListeners, ATakenRouteAddressCostsOnlyThatListenerAndIsServedOnceFree) {
  Lastgood lg;
  HeldPort held;
  ASSERT_GE(held.fd, 0);
  int api_port = FreePort();
  lg.Given().Manifest(WithRoute(SampleApp().App("api").Label("api-v1"), api_port), "api");
  lg.Applied();
  lg.Given().Manifest(WithRoute(SampleApp(), held.port));
  lg.When().Apply();
  lg.Then().ExitCode(0);  // deployed; its listener waits for the address

  EXPECT_EQ(Lastgood::Label(api_port), "api-v1") << "the other app is served";
  json status = lg.Json({"status", "web"});
  ASSERT_TRUE(status["listeners"].is_array()) << status.dump();
  ASSERT_EQ(status["listeners"].size(), 1u) << status.dump();
  EXPECT_FALSE(status["listeners"][0]["bound"].get<bool>()) << status.dump();
  EXPECT_NE(status["listeners"][0]["error"].get<std::string>().find("in use"), std::string::npos)
      << status.dump();
  lg.When().Run({"status", "web"});
  lg.Then().ExitCode(0).OutputHas("NOT LISTENING on 127.0.0.1:" + std::to_string(held.port));

  held.Release();
  EXPECT_TRUE(WaitUntil([&] { return Lastgood::Label(held.port) == "v1"; }, 5s, 50ms))
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
