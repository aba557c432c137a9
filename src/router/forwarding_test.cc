#include "router/forwarding.h"

#include <gtest/gtest.h>

#include "router/router.h"
#include "router/router_testing.h"

// Issue 11 D, router side: each test performs the attack over a raw socket and checks what
// reaches the app. The pure functions first, then the router end to end.
namespace lastgood {
namespace {

using namespace lastgood::testing;
using namespace std::chrono_literals;

TEST(Forwarding, StripsOnlyTheDashboardSessionCookies) {
  std::string out;
  EXPECT_FALSE(StripSessionCookies("a=1; b=2", &out));
  ASSERT_TRUE(StripSessionCookies("a=1; lg_session_7071=secret; b=2", &out));
  EXPECT_EQ(out, "a=1; b=2");
  ASSERT_TRUE(StripSessionCookies("lg_session_1=x;lg_session_2=y", &out));
  EXPECT_EQ(out, "");
}

TEST(Forwarding, TurnsAnAbsoluteFormTargetIntoAPathAndItsHost) {
  std::string storage;
  auto normalise = [&](http::verb method, std::string target, std::string* host_out) {
    std::string_view host = "original", t = target;
    bool ok = NormaliseTarget(method, &host, &t, &storage);
    *host_out = std::string(host);
    return ok ? std::string(t) : std::string("<refused>");
  };
  std::string host;
  EXPECT_EQ(normalise(http::verb::get, "/a?b", &host), "/a?b");
  EXPECT_EQ(host, "original");
  EXPECT_EQ(normalise(http::verb::get, "http://b.example:8080/p?q", &host), "/p?q");
  EXPECT_EQ(host, "b.example:8080");
  EXPECT_EQ(normalise(http::verb::get, "HTTPS://b.example", &host), "/");
  EXPECT_EQ(normalise(http::verb::get, "http://b.example?x=1", &host), "/?x=1");
  EXPECT_EQ(normalise(http::verb::options, "*", &host), "*");
  for (const char* bad :
       {"*", "b.example:80", "ftp://b.example/", "http://u:p@b.example/", "http:///p", "p"}) {
    EXPECT_EQ(normalise(http::verb::get, bad, &host), "<refused>") << bad;
  }
}

// A router with app "web" (production: backend p; staging: backend s) on one listener.
class ForwardingRouter : public ::testing::Test {
 protected:
  void Start(const std::function<void(RoutingTable&)>& edit = {}) {
    RouterOptions options;
    options.home = home_.path();
    options.threads = 1;
    auto started = Router::Start(options);
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    router_ = std::move(*started);
    RoutingTable t = OneApp("127.0.0.1:0", {Version(1, 100, {&p_})}, {Version(2, 100, {&s_})});
    if (edit) edit(t);
    auto applied = router_->Apply(t);
    ASSERT_TRUE(applied.ok()) << applied.error().ToString();
    port_ = router_->ListenerPort("127.0.0.1:0");
  }
  // Sends raw bytes; returns the body of the answer ("p\n", "s\n") or the whole reply.
  std::string Body(const std::string& bytes) {
    std::string reply = RawExchange(port_, bytes, 1000ms);
    size_t end = reply.find("\r\n\r\n");
    return end == std::string::npos ? reply : reply.substr(end + 4);
  }
  SeenRequest LastSeen(TestBackend& b) {
    auto seen = b.seen();
    return seen.empty() ? SeenRequest{} : seen.back();
  }

  TestBackend p_{"p"}, s_{"s"};
  TempHome home_;
  std::unique_ptr<Router> router_;
  uint16_t port_ = 0;
};

const char kClose[] = "Connection: close\r\n";

TEST_F(ForwardingRouter, NeverForwardsTheDashboardSessionCookieToAnApp) {
  Start();
  Body(std::string("GET / HTTP/1.1\r\nHost: x\r\n") + kClose +
       "Cookie: theme=dark; lg_session_7071=ADMIN-SESSION; cart=3\r\n\r\n");
  EXPECT_EQ(LastSeen(p_).headers["cookie"], "theme=dark; cart=3");
  Body(std::string("GET / HTTP/1.1\r\nHost: x\r\n") + kClose +
       "Cookie: lg_session_7071=ADMIN-SESSION\r\n\r\n");
  EXPECT_EQ(LastSeen(p_).headers.count("cookie"), 0u);
  EXPECT_EQ(p_.requests(), 2);
}

TEST_F(ForwardingRouter, WithSlotPinningOffNoClientReachesAnotherSlotByHeaderQueryOrCookie) {
  Start([](RoutingTable& t) { t.apps[0].slotPinning = false; });
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  EXPECT_EQ(Body(head + "X-Lastgood-Slot: staging\r\n\r\n"), "p\n");
  EXPECT_EQ(
      Body("GET /?lastgood-slot=staging HTTP/1.1\r\nHost: x\r\n" + std::string(kClose) + "\r\n"),
      "p\n");
  EXPECT_EQ(Body(head + "Cookie: lastgood-slot=staging\r\n\r\n"), "p\n");
  EXPECT_EQ(s_.requests(), 0);
}

TEST_F(ForwardingRouter, WithSlotPinningOffTheSplitStillKeepsItsClientsWhereItPutThem) {
  Start([](RoutingTable& t) {
    t.apps[0].slotPinning = false;
    t.apps[0].split["staging"] = 50;
  });
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Body(head + "Cookie: lastgood-slot=staging\r\n\r\n"), "s\n");
    EXPECT_EQ(Body(head + "Cookie: lastgood-slot=production\r\n\r\n"), "p\n");
  }
  // A header still names nothing.
  int staging = 0;
  for (int i = 0; i < 10; ++i) staging += Body(head + "X-Lastgood-Slot: staging\r\n\r\n") == "s\n";
  EXPECT_EQ(staging, 5);  // the split's own share, not the header's wish
}

TEST_F(ForwardingRouter, CountsTrafficPinnedByTheClientApartFromTheSlotsOwn) {
  Start([](RoutingTable& t) { t.apps[0].split["staging"] = 50; });
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 3; ++i) Body(head + "X-Lastgood-Slot: staging\r\n\r\n");
  for (int i = 0; i < 4; ++i) Body(head + "\r\n");  // split: 2 to staging, 2 to production
  uint64_t pinned = 0, split = 0;
  for (const auto& row : router_->Stats(10s).rows) {
    if (row.slot != "staging" || !row.backend.empty()) continue;
    (row.pinned ? pinned : split) += row.requests;
  }
  EXPECT_EQ(pinned, 3u);
  EXPECT_EQ(split, 2u);
}

TEST_F(ForwardingRouter, ReplacesTheForwardedHeadersOfAClientThatIsNoTrustedProxy) {
  Start();
  Body(std::string("GET / HTTP/1.1\r\nHost: shop.example\r\n") + kClose +
       "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
       "X-Forwarded-Host: bank.example\r\nForwarded: for=6.6.6.6;proto=https\r\n"
       "X-Real-IP: 6.6.6.6\r\nX-Forwarded-Port: 443\r\n\r\n");
  auto h = LastSeen(p_).headers;
  EXPECT_EQ(h["x-forwarded-for"], "127.0.0.1");
  EXPECT_EQ(h["x-forwarded-proto"], "http");
  EXPECT_EQ(h["x-forwarded-host"], "shop.example");
  EXPECT_EQ(h.count("forwarded"), 0u);
  EXPECT_EQ(h.count("x-real-ip"), 0u);
  EXPECT_EQ(h.count("x-forwarded-port"), 0u);
}

TEST_F(ForwardingRouter, KeepsAndExtendsTheForwardedHeadersOfATrustedProxy) {
  Start([](RoutingTable& t) { t.apps[0].trustedProxies = {"10.0.0.0/8", "127.0.0.1"}; });
  Body(std::string("GET / HTTP/1.1\r\nHost: shop.example\r\n") + kClose +
       "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n"
       "X-Forwarded-Host: www.example\r\nX-Real-IP: 203.0.113.9\r\n\r\n");
  auto h = LastSeen(p_).headers;
  EXPECT_EQ(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(h["x-forwarded-proto"], "https");
  EXPECT_EQ(h["x-forwarded-host"], "www.example");
  EXPECT_EQ(h["x-real-ip"], "203.0.113.9");
}

TEST_F(ForwardingRouter, SendsAListOfEqualContentLengthsOnAsOneLength) {
  Start();
  EXPECT_EQ(Body(std::string("POST / HTTP/1.1\r\nHost: x\r\n") + kClose +
                 "Content-Length: 5, 5\r\n\r\nhello"),
            "p\n");
  EXPECT_EQ(Body(std::string("POST / HTTP/1.1\r\nHost: x\r\n") + kClose +
                 "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
            "p\n");
  auto seen = p_.seen();
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.headers.at("content-length"), "5");
    EXPECT_EQ(r.body, "hello");
  }
}

TEST_F(ForwardingRouter, RoutesAnAbsoluteFormTargetByItsHostAndSendsTheAppThatHost) {
  TestBackend other("other");
  Start([&](RoutingTable& t) {
    RouteApp app;
    app.name = "other";
    app.slots.push_back({"production", {Version(1, 100, {&other})}});
    t.apps.push_back(app);
    t.listeners[0].host = "web.example";
    t.listeners.push_back({"127.0.0.1:0", "other.example", "other", "production"});
  });
  // Host says web, the target says other: both the router and the app read "other".
  EXPECT_EQ(Body(std::string("GET http://other.example/a?b=1 HTTP/1.1\r\nHost: web.example\r\n") +
                 kClose + "\r\n"),
            "other\n");
  SeenRequest seen = LastSeen(other);
  EXPECT_EQ(seen.target, "/a?b=1");
  EXPECT_EQ(seen.headers["host"], "other.example");
  EXPECT_EQ(p_.requests(), 0);
  for (const char* target : {"web.example:80", "ftp://web.example/", "http://u@web.example/"}) {
    std::string reply = RawExchange(
        port_, std::string("GET ") + target + " HTTP/1.1\r\nHost: web.example\r\n\r\n", 1000ms);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << target << ": " << reply;
  }
  EXPECT_EQ(p_.requests() + other.requests(), 1);
}

// A backend that answers each request, then — a moment later, so that the router has
// pooled the connection — writes a second response nobody asked for.
class StrayBytesBackend {
 public:
  StrayBytesBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      for (;;) {
        auto s = std::make_shared<tcp::socket>(io_);
        boost::system::error_code ec;
        acceptor_.accept(*s, ec);
        if (ec || stop_) return;
        ++connections_;
        serving_.emplace_back([s] {
          char buf[4096];
          boost::system::error_code ec;
          while (s->read_some(asio::buffer(buf), ec) > 0 && !ec) {
            asio::write(
                *s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")),
                ec);
            std::this_thread::sleep_for(50ms);
            asio::write(
                *s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSTRAY")),
                ec);
          }
        });
      }
    });
  }
  ~StrayBytesBackend() {
    stop_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
    for (auto& t : serving_) t.detach();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int connections() const { return connections_; }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::vector<std::thread> serving_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
};

TEST_F(ForwardingRouter, DiscardsAPooledUpstreamConnectionThatHoldsStrayBytes) {
  StrayBytesBackend stray;
  Start([&](RoutingTable& t) {
    t.apps[0].slots[0].versions[0].backends = {{"stray", stray.address()}};
  });
  Client client(port_);
  for (int i = 0; i < 3; ++i) {
    Reply r = client.Send("/");
    EXPECT_EQ(r.body, "first") << "request " << i << " got another request's answer";
    std::this_thread::sleep_for(150ms);  // the stray response is in the pooled connection
  }
  EXPECT_EQ(stray.connections(), 3);
}

TEST_F(ForwardingRouter, LimitsTheConnectionsOfOneClientAddressWhenTheRouteAsks) {
  Start([](RoutingTable& t) { t.listeners[0].maxConnectionsPerClient = 2; });
  auto first = std::make_unique<Client>(port_);
  Client second(port_);
  EXPECT_EQ(first->Send("/").status, 200);
  EXPECT_EQ(second.Send("/").status, 200);
  // The third is reset at accept; nothing reaches the app.
  EXPECT_EQ(RawExchange(port_, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000ms), "");
  EXPECT_EQ(p_.requests(), 2);
  // Idle connections park (100 ms) and still count; closing one frees its place.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(RawExchange(port_, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000ms), "");
  first.reset();
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    admitted = Get(port_, "/").status == 200;
    if (!admitted) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(second.Send("/").status, 200);
  std::string admin = router_->AdminAddress();
  Reply m = Get(static_cast<uint16_t>(std::stoi(admin.substr(admin.rfind(':') + 1))), "/metrics");
  EXPECT_NE(m.body.find("lastgood_router_refused_connections_total{reason=\"per_client\"} "),
            std::string::npos);
  EXPECT_EQ(m.body.find("lastgood_router_refused_connections_total{reason=\"per_client\"} 0"),
            std::string::npos);
}

}  // namespace
}  // namespace lastgood
