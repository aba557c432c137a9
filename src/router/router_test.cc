#include "router/router.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>

#include "router/control.h"
#include "router/router_testing.h"
#include "router/socket_handoff.h"
#include "router/stats_carry.h"
#include "router/table_store.h"

namespace lastgood {
namespace {

using namespace lastgood::testing;
using namespace std::chrono_literals;

class RouterTest : public ::testing::Test {
 protected:
  void StartRouter(RouterOptions options = {}) {
    options.home = home_.path();
    options.threads = 2;
    auto started = Router::Start(options);
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    router_ = std::move(*started);
  }
  // Applies `table` and returns the port of its first listener.
  uint16_t Apply(const RoutingTable& table) {
    auto applied = router_->Apply(table);
    EXPECT_TRUE(applied.ok()) << applied.error().ToString();
    return router_->ListenerPort(table.listeners[0].address);
  }

  TempHome home_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, ProxiesARequestAndWritesItsOwnForwardedHeaders) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  Reply r = Get(port, "/hello?x=1",
                {{"X-Forwarded-For", "1.2.3.4"},
                 {"X-Forwarded-Proto", "https"},
                 {"Connection", "keep-alive, X-Secret"},
                 {"X-Secret", "s"},
                 {"Keep-Alive", "5"},
                 {"Proxy-Authorization", "Basic x"},
                 {"X-Kept", "yes"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a\n");
  EXPECT_EQ(r.headers.count("x-lastgood-version"), 0u);
  EXPECT_EQ(r.headers.count("set-cookie"), 0u);
  ASSERT_EQ(a.seen().size(), 1u);
  SeenRequest seen = a.seen()[0];
  EXPECT_EQ(seen.target, "/hello?x=1");
  // The client is no trusted proxy (route.trustedProxies): what it claims is replaced.
  EXPECT_EQ(seen.headers["x-forwarded-for"], "127.0.0.1");
  EXPECT_EQ(seen.headers["x-forwarded-proto"], "http");
  EXPECT_EQ(seen.headers["x-forwarded-host"], "localhost");
  EXPECT_EQ(seen.headers["x-kept"], "yes");
  EXPECT_EQ(seen.headers.count("x-secret"), 0u);
  EXPECT_EQ(seen.headers.count("keep-alive"), 0u);
  EXPECT_EQ(seen.headers.count("proxy-authorization"), 0u);
  EXPECT_EQ(seen.headers.count("connection"), 0u);
}

TEST_F(RouterTest, KeepsBothSidesAliveAndReusesTheUpstreamConnection) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  Client client(port);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(client.Send("/").status, 200) << i;
  EXPECT_EQ(a.requests(), 50);
  EXPECT_EQ(a.connections(), 1);
}

TEST_F(RouterTest, ServesAKeepAliveConnectionAgainAfterItParkedAndClosesItAtTheIdleTimeout) {
  RouterOptions options;
  options.idle_timeout = 700ms;
  StartRouter(options);
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  Client client(port);
  ASSERT_EQ(client.Send("/").status, 200);
  std::this_thread::sleep_for(400ms);  // parked after 250 ms idle
  EXPECT_EQ(client.Send("/again").status, 200);
  std::this_thread::sleep_for(1200ms);  // past the idle timeout
  EXPECT_EQ(client.Send("/late").status, 0);
  EXPECT_EQ(a.requests(), 2);
}

TEST_F(RouterTest, ClosesParkedConnectionsAtOnceOnShutdown) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  Client client(port);
  ASSERT_EQ(client.Send("/").status, 200);
  std::this_thread::sleep_for(400ms);  // parked: held by the worker's epoll set, no session
  auto start = std::chrono::steady_clock::now();
  router_->Shutdown();  // waits for open connections, up to a 10 s grace
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(client.Send("/again").status, 0);
  EXPECT_EQ(a.requests(), 1);
}

TEST_F(RouterTest, SplitsRequestsBetweenVersionsByWeight) {
  StartRouter();
  TestBackend a("a"), b("b");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 75, {&a}), Version(2, 25, {&b})}));
  Client client(port);
  int to_b = 0;
  for (int i = 0; i < 100; ++i) to_b += client.Send("/").body == "b\n";
  EXPECT_EQ(to_b, 25);
}

TEST_F(RouterTest, PinsAClientToASlotByCookieHeaderOrQuery) {
  StartRouter();
  TestBackend p("p"), s("s");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&p})}, {Version(2, 100, {&s})}));
  EXPECT_EQ(Get(port, "/").body, "p\n");
  EXPECT_EQ(Get(port, "/", {{"Cookie", "a=b; lastgood-slot=staging"}}).body, "s\n");
  EXPECT_EQ(Get(port, "/", {{"X-Lastgood-Slot", "staging"}}).body, "s\n");
  Reply q = Get(port, "/x?lastgood-slot=staging");
  EXPECT_EQ(q.body, "s\n");
  EXPECT_EQ(q.headers["set-cookie"], "lastgood-slot=staging; Path=/; HttpOnly");
  EXPECT_EQ(Get(port, "/", {{"Cookie", "lastgood-slot=nope"}}).body, "p\n");
}

TEST_F(RouterTest, SplitsNewClientsByShareAndPinsThemWithACookie) {
  StartRouter();
  TestBackend p("p"), s("s");
  RoutingTable t = OneApp("127.0.0.1:0", {Version(1, 100, {&p})}, {Version(2, 100, {&s})});
  t.apps[0].split["staging"] = 20;
  uint16_t port = Apply(t);
  Client client(port);  // one connection: one worker's exact split
  int staging = 0;
  for (int i = 0; i < 100; ++i) {
    Reply r = client.Send("/");
    std::string slot = r.body == "s\n" ? "staging" : "production";
    staging += slot == "staging";
    EXPECT_EQ(r.headers["set-cookie"], "lastgood-slot=" + slot + "; Path=/; HttpOnly");
  }
  EXPECT_EQ(staging, 20);
  Reply pinned = Get(port, "/", {{"Cookie", "lastgood-slot=production"}});
  EXPECT_EQ(pinned.body, "p\n");
  EXPECT_EQ(pinned.headers.count("set-cookie"), 0u);
}

TEST_F(RouterTest, ASplitAddedByALaterTableReachesNewClientsOnNewConnections) {
  StartRouter();
  TestBackend p("p"), s("s");
  RoutingTable t = OneApp("127.0.0.1:0", {Version(1, 2, {&p})}, {Version(2, 2, {&s})});
  uint16_t port = Apply(t);
  t.listeners[0].address = "127.0.0.1:" + std::to_string(port);
  t.generation = 2;
  t.apps[0].split["staging"] = 30;
  Apply(t);
  int staging = 0;
  for (int i = 0; i < 100; ++i) staging += Get(port, "/").body == "s\n";
  EXPECT_GT(staging, 15);
  EXPECT_LT(staging, 45);
}

TEST_F(RouterTest, RetriesAnotherBackendWhenAConnectFails) {
  StartRouter();
  TestBackend a("a");
  auto dead = std::make_unique<TestBackend>("dead");
  std::string dead_address = dead->address();
  dead.reset();
  RouteVersion v{1, 100, {{"dead", dead_address}, {"alive", a.address()}}};
  uint16_t port = Apply(OneApp("127.0.0.1:0", {v}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Get(port, "/").status, 200) << i;
  uint64_t connect_errors = 0;
  for (const auto& row : router_->Stats(10s).rows) {
    if (row.backend == "dead") connect_errors = row.connectErrors;
  }
  EXPECT_GE(connect_errors, 3u);
}

TEST_F(RouterTest, Answers502WhenNoBackendAnswersAnd503WhenThereIsNone) {
  StartRouter();
  auto dead = std::make_unique<TestBackend>("dead");
  RouteVersion v{1, 100, {{"dead", dead->address()}}};
  dead.reset();
  uint16_t port = Apply(OneApp("127.0.0.1:0", {v}));
  EXPECT_EQ(Get(port, "/").status, 502);
  RoutingTable none = OneApp("127.0.0.1:0", {RouteVersion{1, 100, {}}}, {}, 2);
  Apply(none);
  EXPECT_EQ(Get(port, "/").status, 503);
  TestBackend a("a");
  Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}, {}, 3));
  EXPECT_EQ(Get(port, "/").status, 200);
}

TEST_F(RouterTest, StreamsChunkedAndLargeBodiesBothWays) {
  StartRouter();
  TestBackend a("a");
  std::string big(3 * 1024 * 1024 + 7, 'x');
  a.set_handler([&](const SeenRequest& req, http::response<http::string_body>& res) {
    if (req.target == "/big") res.body() = big;
  });
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  EXPECT_EQ(Get(port, "/chunked").body, "hello world");
  Reply up = Get(port, "/upload", {}, http::verb::post, big);
  EXPECT_EQ(up.status, 200);
  Reply down = Get(port, "/big");
  EXPECT_EQ(down.body.size(), big.size());
  std::string raw = RawExchange(port,
                                "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                "Connection: close\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  auto seen = a.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].body.size(), big.size());
  EXPECT_EQ(seen[3].body, "abcdefg");
}

TEST_F(RouterTest, TunnelsAnUpgradedConnection) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  std::string req =
      "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
  asio::write(s, asio::buffer(req));
  asio::streambuf buf;
  asio::read_until(s, buf, "\r\n\r\n");
  std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  buf.consume(buf.size());
  asio::write(s, asio::buffer(std::string("ping")));
  char echo[4];
  asio::read(s, asio::buffer(echo));
  EXPECT_EQ(std::string(echo, 4), "ping");
}

TEST_F(RouterTest, LetsInFlightRequestsFinishWhenTheirBackendLeavesTheTable) {
  StartRouter();
  TestBackend a("a"), b("b");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  std::vector<std::future<Reply>> slow;
  for (int i = 0; i < 4; ++i)
    slow.push_back(std::async(std::launch::async, [port] { return Get(port, "/slow?ms=400"); }));
  while (a.requests() < 4) std::this_thread::sleep_for(5ms);
  Apply(OneApp("127.0.0.1:0", {Version(2, 100, {&b})}, {}, 2));
  // The very next request goes to the new version.
  EXPECT_EQ(Get(port, "/").body, "b\n");
  // The stats say what a drain waits for: the old backend's requests still under way.
  auto in_flight = [&](const std::string& backend) {
    for (const auto& row : router_->Stats(10s).rows)
      if (row.backend == backend) return static_cast<int>(row.inFlight);
    return -1;
  };
  EXPECT_EQ(in_flight("v1-0"), 4);
  for (auto& f : slow) {
    Reply r = f.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a\n");
  }
  EXPECT_EQ(a.requests(), 4);
  // A client has its answer a moment before the router's session for it ends.
  auto until = std::chrono::steady_clock::now() + 2s;
  while ((in_flight("v1-0") != 0 || in_flight("v2-0") != 0) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(in_flight("v1-0"), 0);
  EXPECT_EQ(in_flight("v2-0"), 0);
}

TEST_F(RouterTest, KeepsOpenConnectionsWhenAListenerStaysInTheTable) {
  StartRouter();
  TestBackend a("a"), b("b");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  Client client(port);
  EXPECT_EQ(client.Send("/").body, "a\n");
  EXPECT_EQ(Apply(OneApp("127.0.0.1:0", {Version(2, 100, {&b})}, {}, 2)), port);
  EXPECT_EQ(client.Send("/").body, "b\n");
}

TEST_F(RouterTest, ComesBackWithItsTableAfterARestart) {
  TestBackend a("a");
  uint16_t port;
  {
    StartRouter();
    port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
    router_->Shutdown();
    router_.reset();
  }
  // Port 0 in the table picks a new port on restart; pin the one we had.
  RoutingTable fixed = OneApp("127.0.0.1:" + std::to_string(port), {Version(1, 100, {&a})}, {}, 5);
  StartRouter();
  Apply(fixed);
  router_->Shutdown();
  router_.reset();
  StartRouter();
  EXPECT_EQ(Get(port, "/").body, "a\n");
}

// A worker under a keeper (the test plays the keeper): its predecessor's statistics come
// once that one has drained, with statsSince; a table the predecessor persisted after this
// worker read the file (a PUT it answered during the take-over) is adopted then; and on its
// own shutdown the worker hands on what it counted together with what it was handed.
TEST_F(RouterTest, UnderAKeeperTakesItsPredecessorsStatisticsAndLateTableAndHandsThemOn) {
  int pair[2];
  ASSERT_TRUE(HandoffPair(pair).ok());
  const int keeper = pair[0];
  ASSERT_TRUE(SendHandoff(keeper, "end").ok());  // no sockets held yet
  RouterOptions options;
  options.keeper_channel = pair[1];
  TestBackend a("a"), b("b");
  StartRouter(options);
  const uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}, {}, 5));
  ASSERT_EQ(Get(port, "/").body, "a\n");
  ASSERT_TRUE(SaveTable(home_.path() + "/" + kTableFileName,
                        OneApp("127.0.0.1:0", {Version(2, 100, {&b})}, {}, 6))
                  .ok());

  CarriedStats predecessor;
  predecessor.stats_since_ms = 1'700'000'000'000;
  CarriedSeries old;
  old.key = StatsKey{"web", "production", 1, "v1-9", false};
  old.totals.requests = 100;
  old.totals.by_class[0] = 100;
  CarriedSecond second;
  second.second = StatsSecond();
  second.counters.requests = 7;
  second.counters.by_class[0] = 7;
  second.histogram = {{70, 7}};
  old.seconds.push_back(second);
  predecessor.series.push_back(old);
  auto file = WriteCarriedStatsFile(predecessor);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(SendHandoff(keeper, "stats", {*file}).ok());
  ::close(*file);

  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (router_->Health().generation != 6 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(router_->Health().generation, 6u);
  EXPECT_EQ(Get(port, "/").body, "b\n");
  EXPECT_EQ(router_->Health().statsSinceMillis, predecessor.stats_since_ms);
  RouterStats stats = router_->Stats(10s);
  EXPECT_EQ(stats.statsSinceMillis, predecessor.stats_since_ms);
  bool carried = false;
  for (const auto& row : stats.rows) {
    if (row.backend != "v1-9") continue;
    carried = true;
    EXPECT_EQ(row.requests, 7u);
    EXPECT_EQ(row.totalRequests, 100u);
  }
  EXPECT_TRUE(carried);

  router_->Shutdown();
  std::optional<CarriedStats> handed;
  for (;;) {
    auto m = ReceiveHandoff(keeper, 2000);
    if (!m.ok()) break;
    if (m->text == "stats" && m->fds.size() == 1) {
      auto read = ReadCarriedStatsFile(m->fds[0]);
      if (read.ok()) handed = *read;
    }
    for (int fd : m->fds) ::close(fd);
    if (handed) break;
  }
  router_.reset();
  ::close(pair[0]);
  ::close(pair[1]);
  ASSERT_TRUE(handed.has_value()) << "the worker handed nothing on";
  EXPECT_EQ(handed->stats_since_ms, predecessor.stats_since_ms);
  uint64_t own = 0, kept = 0;
  for (const auto& series : handed->series) {
    if (series.key.backend == "v1-0") own += series.totals.requests;
    if (series.key.backend == "v1-9") kept += series.totals.requests;
  }
  EXPECT_EQ(own, 1u);
  EXPECT_EQ(kept, 100u);
}

TEST_F(RouterTest, LetsInFlightRequestsFinishOnShutdownAndThenRefusesNewOnes) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}));
  auto slow = std::async(std::launch::async, [port] { return Get(port, "/slow?ms=300"); });
  while (a.requests() < 1) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  router_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  Reply r = slow.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(Get(port, "/").status, 0);
}

TEST_F(RouterTest, ServesTheControlProtocolOnAPrivateSocket) {
  StartRouter();
  TestBackend a("a");
  std::string socket_path = home_.path() + "/router.sock";
  struct stat st {};
  ASSERT_EQ(stat(socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto control = NewRouterControlClient(socket_path);
  EXPECT_TRUE(control->Ping().ok());
  RoutingTable t = OneApp("127.0.0.1:0", {Version(1, 100, {&a})}, {}, 4);
  ASSERT_TRUE(control->Apply(t).ok());
  EXPECT_EQ(Get(router_->ListenerPort("127.0.0.1:0"), "/").status, 200);
  auto stats = control->Stats(10s);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  ASSERT_EQ(stats->rows.size(), 2u);
  EXPECT_EQ(stats->rows[0].requests, 1u);
  t.apps[0].slots[0].versions[0].weight = 101;
  t.generation = 5;
  Status bad = control->Apply(t);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.error().field, "apps[0].slots[0].versions[0].weight");
  t.apps[0].slots[0].versions[0].weight = 100;
  t.generation = 3;
  Status stale = control->Apply(t);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(NewRouterControlClient(home_.path() + "/nope.sock")->Ping().ok());
}

TEST_F(RouterTest, ServesPrometheusMetricsOnTheAdminAddress) {
  StartRouter();
  TestBackend a("a");
  uint16_t port = Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&a})}, {}, 9));
  Get(port, "/");
  std::string admin = router_->AdminAddress();
  uint16_t admin_port = static_cast<uint16_t>(std::stoi(admin.substr(admin.rfind(':') + 1)));
  Reply m = Get(admin_port, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("lastgood_router_requests_total{app=\"web\",slot=\"production\",version="
                        "\"1\",backend=\"v1-0\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("lastgood_router_table_generation 9"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE lastgood_router_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(m.body.find("lastgood_router_latency_seconds_count{app=\"web\",slot=\"production\","
                        "version=\"1\",backend=\"v1-0\"} 1"),
            std::string::npos)
      << m.body;
}

}  // namespace
}  // namespace lastgood
