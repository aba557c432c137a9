#include "router/proxy_session.h"

#include <gtest/gtest.h>

#include "router/router.h"
#include "router/router_testing.h"

namespace lastgood {
namespace {

using namespace lastgood::testing;
using namespace std::chrono_literals;

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(RouterOptions options) {
    options.home = home_.path();
    options.threads = 1;
    auto started = Router::Start(options);
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    router_ = std::move(*started);
    ASSERT_TRUE(router_->Apply(OneApp("127.0.0.1:0", {Version(1, 100, {&backend_})})).ok());
    port_ = router_->ListenerPort("127.0.0.1:0");
  }

  TestBackend backend_{"b"};
  TempHome home_;
  std::unique_ptr<Router> router_;
  uint16_t port_ = 0;
};

struct Hostile {
  std::string name, bytes;
  int status;
};

class RefusesAmbiguousFraming : public HostileInput,
                                public ::testing::WithParamInterface<Hostile> {};

// Each request is answered with an error, the connection is closed, and no byte of it
// reaches the backend.
TEST_P(RefusesAmbiguousFraming, WithAnErrorAndCloses) {
  std::string reply = RawExchange(port_, GetParam().bytes);
  EXPECT_EQ(reply.rfind("HTTP/1.1 " + std::to_string(GetParam().status), 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_EQ(backend_.requests(), 0);
  // The router is still up.
  EXPECT_EQ(Get(port_, "/").status, 200);
}

const std::string kHead = "POST / HTTP/1.1\r\nHost: x\r\n";

INSTANTIATE_TEST_SUITE_P(
    Router, RefusesAmbiguousFraming,
    ::testing::Values(
        Hostile{"LengthAndChunked",
                kHead + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        Hostile{"ChunkedAndLength",
                kHead + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
        Hostile{"TwoDifferentLengths",
                kHead + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
        Hostile{"LengthList", kHead + "Content-Length: 5, 6\r\n\r\nhello!", 400},
        Hostile{"NegativeLength", kHead + "Content-Length: -1\r\n\r\n", 400},
        Hostile{"BadChunkSize",
                kHead + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
        Hostile{
            "ChunkSizeOverflow",
            kHead + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            400},
        Hostile{"ObsFold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
        Hostile{"BareLf", "GET / HTTP/1.1\nHost: x\n\n", 400},
        Hostile{"BareLfInOneLine", "GET / HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n", 400},
        Hostile{"BareCr", "GET / HTTP/1.1\r\nHost: x\rX-A: a\r\n\r\n", 400},
        Hostile{"GzipThenChunked", kHead + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                501},
        Hostile{"ChunkedThenGzip", kHead + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
                501},
        Hostile{"TwoTransferEncodings",
                kHead + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400},
        Hostile{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
                400},
        Hostile{"NoHost", "GET / HTTP/1.1\r\n\r\n", 400},
        Hostile{"TwoHosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
        Hostile{"NulInValue", std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 37),
                400},
        Hostile{"Garbage", "HELLO\r\n\r\n", 400},
        Hostile{"Http2Version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400},
        Hostile{"TooManyFields",
                [] {
                  std::string s = "GET / HTTP/1.1\r\nHost: x\r\n";
                  for (int i = 0; i < 120; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
                  return s + "\r\n";
                }(),
                431},
        Hostile{"HeadTooLarge",
                "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + std::string(20'000, 'a') + "\r\n\r\n", 431}),
    [](const auto& info) { return info.param.name; });

TEST_F(HostileInput, ClosesASlowClientAtTheHeaderTimeoutHoweverItTrickles) {
  router_.reset();
  RouterOptions options;
  options.header_timeout = 300ms;
  Start(options);
  asio::io_context io;
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port_});
  auto start = std::chrono::steady_clock::now();
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 'a');
  boost::system::error_code ec;
  for (char c : head) {
    asio::write(s, asio::buffer(&c, 1), ec);
    if (ec) break;
    std::this_thread::sleep_for(10ms);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec) << "still open after trickling the whole head";
  EXPECT_LT(elapsed, 900ms);
  EXPECT_EQ(backend_.requests(), 0);
}

TEST_F(HostileInput, RefusesConnectionsPastTheLimitCheaply) {
  router_.reset();
  RouterOptions options;
  options.max_connections = 3;
  Start(options);
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<tcp::socket>(io));
    held.back()->connect({asio::ip::make_address("127.0.0.1"), port_});
  }
  std::this_thread::sleep_for(50ms);
  std::string refused = RawExchange(port_, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000ms);
  EXPECT_EQ(refused, "");
  held.clear();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Get(port_, "/").status, 200);
}

TEST_F(HostileInput, AnswersGatewayTimeoutWhenTheBackendIsTooSlow) {
  router_.reset();
  RouterOptions options;
  options.response_timeout = 150ms;
  Start(options);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Get(port_, "/slow?ms=600").status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  uint64_t timeouts = 0;
  for (const auto& row : router_->Stats(std::chrono::seconds(10)).rows)
    timeouts += row.backend.empty() ? 0 : row.timeouts;
  EXPECT_EQ(timeouts, 1u);
}

}  // namespace
}  // namespace lastgood
