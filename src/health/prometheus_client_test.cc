#include "health/prometheus_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "testutil/http.h"
#include "testutil/process.h"
#include "testutil/temp_dir.h"
#include "testutil/tls.h"
#include "testutil/wait.h"

namespace lastgood {
namespace {

using namespace std::chrono_literals;

// A loopback server that answers every connection with `reply` (or, empty, never answers),
// and keeps the request line of the last one.
class CannedServer {
 public:
  explicit CannedServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  PrometheusServer Address() const {
    return *ParsePrometheusAddress("http://127.0.0.1:" + std::to_string(port_) + "/prom/");
  }
  std::string request_line() {
    std::lock_guard lock(mu_);
    return request_line_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string got;
      char buf[4096];
      while (got.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 1000) <= 0) break;
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, n);
      }
      {
        std::lock_guard lock(mu_);
        request_line_ = got.substr(0, got.find("\r\n"));
      }
      if (reply_.empty()) {
        while (!stop_) std::this_thread::sleep_for(10ms);  // never answers
      } else {
        size_t sent = 0;
        while (sent < reply_.size()) {
          ssize_t n = send(c, reply_.data() + sent, reply_.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) break;
          sent += n;
        }
      }
      close(c);
    }
  }

  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string request_line_;
};

std::string CannedHttp(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(PrometheusAddress, TakesHttpAndHttpsWithPortAndPathPrefix) {
  auto a = ParsePrometheusAddress("http://127.0.0.1:9090");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "9090");
  EXPECT_EQ(a->prefix, "");
  auto b = ParsePrometheusAddress("https://metrics.example.com/prometheus/");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, "443");
  EXPECT_EQ(b->prefix, "/prometheus");
  EXPECT_EQ(b->host_header, "metrics.example.com");
  auto c = ParsePrometheusAddress("http://[::1]:9090");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
}

TEST(PrometheusAddress, RefusesOtherSchemesCredentialsQueriesAndBadPorts) {
  for (const char* bad :
       {"127.0.0.1:9090", "ftp://x", "http://user:pw@host:9090", "http://", "http://host:0",
        "http://host:99999", "http://host:9x", "http://host/?a=b", "http://ho st"}) {
    auto r = ParsePrometheusAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << bad;
    }
  }
  EXPECT_NE(ParsePrometheusAddress("http://u:secret@h").error().message.find("credentials"),
            std::string::npos);
}

TEST(PrometheusAnswer, ReadsAnInstantVectorWithLabelsAndSpecialValues) {
  auto a = ParsePrometheusAnswer(200, R"({"status":"success","data":{"resultType":"vector",
    "result":[{"metric":{"version":"3","app":"web"},"value":[1700000000.5,"0.0931"]},
              {"metric":{},"value":[1700000000.5,"NaN"]},
              {"metric":{"a":"b"},"value":[1700000000.5,"+Inf"]}]}})");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->samples.size(), 3u);
  EXPECT_EQ(a->samples[0].labels, "{app=\"web\",version=\"3\"}");
  EXPECT_EQ(a->samples[0].value, 0.0931);
  EXPECT_EQ(a->samples[1].labels, "");
  EXPECT_TRUE(std::isnan(a->samples[1].value));
  EXPECT_TRUE(std::isinf(a->samples[2].value));
}

TEST(PrometheusAnswer, ReadsAScalarAndAnEmptyVector) {
  auto s = ParsePrometheusAnswer(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"42"]}})");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->samples.size(), 1u);
  EXPECT_EQ(s->samples[0].value, 42);
  auto e = ParsePrometheusAnswer(
      200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->samples.empty());
}

TEST(PrometheusAnswer, ARefusedQueryIsInvalidInputWithPrometheusOwnWords) {
  auto r = ParsePrometheusAnswer(
      400, R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(r.error().message,
            "Prometheus refused the query (HTTP 400): 1:5: parse error: unexpected");
  auto m = ParsePrometheusAnswer(
      200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(m.error().message.find("gives a matrix"), std::string::npos) << m.error().message;
}

TEST(PrometheusAnswer, AnythingButTheApiJsonIsUnavailable) {
  for (auto [status, body] : {std::pair{200, "<html>proxy login</html>"}, std::pair{503, ""},
                              std::pair{500, R"({"status":"error","error":"internal"})"},
                              std::pair{200, R"({"status":"success","data":{"resultType":
                              "vector","result":[{"metric":{},"value":[1,"x"]}]}})"}}) {
    auto r = ParsePrometheusAnswer(status, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << body;
  }
}

TEST(QueryPrometheus, AsksTheQueryApiUnderThePrefixWithTheQueryEncoded) {
  CannedServer server(CannedHttp(200, R"({"status":"success","data":{"resultType":"vector",
      "result":[{"metric":{},"value":[1,"0.25"]}]}})"));
  auto r = QueryPrometheus(server.Address(), "sum(rate(x{a=\"b c\"}[30s]))");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->samples.size(), 1u);
  EXPECT_EQ(r->samples[0].value, 0.25);
  EXPECT_EQ(server.request_line(),
            "GET /prom/api/v1/query?query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B30s%5D%29%29 "
            "HTTP/1.1");
}

TEST(QueryPrometheus, AServerThatNeverAnswersIsUnavailableAtTheDeadline) {
  CannedServer server("");
  auto started = std::chrono::steady_clock::now();
  auto r = QueryPrometheus(server.Address(), "up", Millis(300));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("no answer in time"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 3s);
}

TEST(QueryPrometheus, AnAnswerLargerThanTheLimitIsRefused) {
  std::string huge(kMaxPrometheusAnswer + 10, ' ');
  CannedServer server(CannedHttp(200, huge));
  auto r = QueryPrometheus(server.Address(), "up");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("larger than 1024 KiB"), std::string::npos) << r.error().message;
}

TEST(QueryPrometheus, NoServerAtTheAddressIsUnavailable) {
  int port = 0;
  {
    CannedServer gone("x");
    port = std::stoi(gone.Address().port);
  }
  auto r =
      QueryPrometheus(*ParsePrometheusAddress("http://127.0.0.1:" + std::to_string(port)), "up");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("connecting: Connection refused"), std::string::npos)
      << r.error().message;
}

// https is verified against the system's CAs: a server whose certificate they do not vouch
// for (self-signed, as an attacker in the middle would present) is never asked.
TEST(QueryPrometheus, AnHttpsServerTheSystemDoesNotTrustIsRefusedAtTheHandshake) {
  testutil::TempDir dir("prom-tls");
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  ASSERT_EQ(testutil::MakeSelfSignedCertificate(cert, key, dir.path() + "/openssl.log"), "");

  const int port = testutil::FreePort();
  testutil::ProcessOptions serve;
  serve.argv = {"/usr/bin/openssl",
                "s_server",
                "-accept",
                "127.0.0.1:" + std::to_string(port),
                "-cert",
                cert,
                "-key",
                key,
                "-www",
                "-quiet"};
  serve.stdout_path = serve.stderr_path = dir.path() + "/s_server.log";
  testutil::Process server(serve);
  ASSERT_GT(server.pid(), 0) << server.error();
  const PrometheusServer address =
      *ParsePrometheusAddress("https://127.0.0.1:" + std::to_string(port));
  Result<PrometheusAnswer> r = Error::Internal("not asked");
  bool listening = testutil::WaitUntil(
      [&] {
        r = QueryPrometheus(address, "up", 2s);
        return r.ok() || r.error().message.find("Connection refused") == std::string::npos;
      },
      10s, 50ms);
  server.Kill(SIGTERM);
  server.Wait(5s);
  ASSERT_TRUE(listening) << testutil::ReadFile(serve.stderr_path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("TLS handshake: certificate verify failed"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace lastgood
