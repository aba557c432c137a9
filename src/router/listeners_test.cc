// Issue 11 A3/A5, router side: a table listener that cannot be bound is reported and
// retried while every other listener serves; the admin port takes no bodies, has its own
// connection limit, and a flood of it does not hold up table changes.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "router/control.h"
#include "router/router.h"
#include "router/router_testing.h"
#include "router/table_store.h"

namespace lastgood {
namespace {

using namespace lastgood::testing;
using namespace std::chrono_literals;

// A port held by a plain listening socket (no SO_REUSEPORT): the router cannot bind it.
class TakenPort {
 public:
  TakenPort()
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
        port_(acceptor_.local_endpoint().port()) {}
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Release() { acceptor_.close(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  const uint16_t port_;
};

// Two apps: "web" on `web_address`, "api" on an ephemeral port.
RoutingTable TwoApps(const std::string& web_address, const TestBackend& web,
                     const TestBackend& api) {
  RoutingTable t = OneApp(web_address, {Version(1, 100, {&web})});
  RouteApp other;
  other.name = "api";
  other.slots.push_back({"production", {Version(1, 100, {&api})}});
  t.apps.push_back(other);
  t.listeners.push_back({"127.0.0.1:0", "", "api", "production"});
  return t;
}

std::optional<ListenerState> StateOf(Router& router, const std::string& address) {
  for (const auto& l : router.Health().listeners) {
    if (l.address == address) return l;
  }
  return std::nullopt;
}

uint16_t AdminPort(Router& router) {
  std::string admin = router.AdminAddress();
  return static_cast<uint16_t>(std::stoi(admin.substr(admin.rfind(':') + 1)));
}

class ListenerTest : public ::testing::Test {
 protected:
  void Start() {
    RouterOptions options;
    options.home = home_.path();
    options.threads = 2;
    auto started = Router::Start(options);
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    router_ = std::move(*started);
  }
  TempHome home_;
  std::unique_ptr<Router> router_;
  TestBackend web_{"web"}, api_{"api"};
};

TEST_F(ListenerTest, ServesTheOtherListenersAndReportsTheOneItCannotBindUntilItCan) {
  Start();
  TakenPort taken;
  auto applied = router_->Apply(TwoApps(taken.address(), web_, api_));
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(Get(router_->ListenerPort("127.0.0.1:0"), "/").body, "api\n");
  auto state = StateOf(*router_, taken.address());
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->bound);
  EXPECT_NE(state->error.find("Address already in use"), std::string::npos) << state->error;
  Reply metrics = Get(AdminPort(*router_), "/metrics");
  EXPECT_NE(metrics.body.find("lastgood_router_listener_up{address=\"" + taken.address() + "\"} 0"),
            std::string::npos)
      << metrics.body;
  // The port is freed: the router takes it within its retry interval.
  taken.Release();
  bool bound = false;
  for (int i = 0; i < 60 && !bound; ++i) {
    std::this_thread::sleep_for(50ms);
    bound = StateOf(*router_, taken.address())->bound;
  }
  EXPECT_TRUE(bound);
  EXPECT_EQ(Get(taken.port(), "/").body, "web\n");
}

TEST_F(ListenerTest, StartsFromASavedTableWhoseListenerIsTaken) {
  TakenPort taken;
  ASSERT_TRUE(
      SaveTable(home_.path() + "/" + kTableFileName, TwoApps(taken.address(), web_, api_)).ok());
  Start();  // today's behaviour before the fix: Start failed, and `serve` exited 5
  ASSERT_TRUE(router_);
  EXPECT_EQ(Get(router_->ListenerPort("127.0.0.1:0"), "/").body, "api\n");
  EXPECT_FALSE(StateOf(*router_, taken.address())->bound);
  auto health = NewRouterControlClient(home_.path() + "/router.sock")->Health();
  ASSERT_TRUE(health.ok()) << health.error().ToString();
  bool reported = false;
  for (const auto& l : health->listeners) reported |= l.address == taken.address() && !l.bound;
  EXPECT_TRUE(reported);
}

TEST_F(ListenerTest, TheAdminPortTakesNoRequestBody) {
  Start();
  std::string reply = RawExchange(
      AdminPort(*router_), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  reply = RawExchange(AdminPort(*router_),
                      "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_EQ(Get(AdminPort(*router_), "/metrics").status, 200);
}

TEST_F(ListenerTest, AFloodOfTheAdminPortIsCappedAndDoesNotHoldUpTableChanges) {
  Start();
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> flood;
  for (int i = 0; i < 64; ++i) {
    flood.push_back(std::make_unique<tcp::socket>(io));
    boost::system::error_code ec;
    flood.back()->connect({asio::ip::make_address("127.0.0.1"), AdminPort(*router_)}, ec);
  }
  std::this_thread::sleep_for(100ms);
  // Past its own limit the admin port resets new connections at once...
  EXPECT_EQ(RawExchange(AdminPort(*router_), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 1000ms),
            "");
  // ...and the control socket does not notice: a table change is in force at once.
  auto control = NewRouterControlClient(home_.path() + "/router.sock");
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(control->Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&web_})})).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(Get(router_->ListenerPort("127.0.0.1:0"), "/").body, "web\n");
  flood.clear();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = Get(AdminPort(*router_), "/metrics").status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace lastgood
