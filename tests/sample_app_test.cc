// End-to-end tests of lastgood-sample: the real binary, started on a free loopback port and
// driven over real sockets. Every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "testutil/http.h"
#include "testutil/process.h"
#include "testutil/wait.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::ExitStatus;
using lastgood::testutil::FreePort;
using lastgood::testutil::HttpConnection;
using lastgood::testutil::HttpGet;
using lastgood::testutil::HttpResponse;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::WaitUntil;
using Clock = std::chrono::steady_clock;

constexpr char kSample[] = LASTGOOD_BUILD_DIR "/lastgood-sample";
constexpr char kHost[] = "127.0.0.1";

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: sample\r\n" + extra_headers + "\r\n";
}

class SampleAppBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sample-app-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    port_ = FreePort();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts the sample with `flags` and --port, without waiting for it to listen.
  Process Spawn(std::vector<std::string> flags, std::map<std::string, std::string> env = {},
                bool with_port = true) {
    ProcessOptions options;
    options.argv = {kSample};
    if (with_port) flags.insert(flags.begin(), {"--port", std::to_string(port_)});
    options.argv.insert(options.argv.end(), flags.begin(), flags.end());
    options.env = std::move(env);
    options.unset_env = {"PORT"};
    options.stdout_path = dir_ + "/stdout";
    options.stderr_path = dir_ + "/stderr";
    return Process(options);
  }

  bool Answers() { return HttpGet(kHost, port_, "/healthz", {}, 300ms).status != 0; }

  // Starts the sample and waits until it answers.
  Process Start(std::vector<std::string> flags, std::map<std::string, std::string> env = {}) {
    Process p = Spawn(std::move(flags), std::move(env));
    EXPECT_GT(p.pid(), 0) << p.error();
    bool up = WaitUntil([&] { return Answers() || !p.Running(); }, 5s) && p.Running();
    EXPECT_TRUE(up) << "stderr: " << ReadFile(dir_ + "/stderr");
    return p;
  }

  // Exit status of a sample expected to end by itself within two seconds.
  ExitStatus ExitOf(Process& p) {
    std::optional<ExitStatus> status = p.Wait(2s);
    EXPECT_TRUE(status.has_value()) << "still running";
    return status.value_or(ExitStatus{});
  }

  std::string dir_;
  int port_ = 0;
};

TEST_F(SampleAppBinary, ServesItsLabelInBodyAndHeader) {
  Process p = Start({"--label", "v7"});
  HttpResponse r = HttpGet(kHost, port_, "/");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "v7\nserved by pid " + std::to_string(p.pid()) + "\n");
  EXPECT_EQ(r.Header("X-Lastgood-Label"), "v7");
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(ReadFile(dir_ + "/stdout"),
            "lastgood-sample v7 listening on 127.0.0.1:" + std::to_string(port_) + " pid " +
                std::to_string(p.pid()) + "\n");
}

TEST_F(SampleAppBinary, TakesPortFromEnvironmentWhenNoFlagGiven) {
  Process p = Spawn({"--label=from-env"}, {{"PORT", std::to_string(port_)}}, false);
  ASSERT_TRUE(WaitUntil([&] { return Answers(); }, 5s));
  EXPECT_EQ(HttpGet(kHost, port_, "/").Header("X-Lastgood-Label"), "from-env");
}

TEST_F(SampleAppBinary, HealthzAnswersOkWhileHealthy) {
  Process p = Start({});
  HttpResponse r = HttpGet(kHost, port_, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(SampleAppBinary, HealthzAnswers500WhenStartedUnhealthy) {
  Process p = Start({"--healthy", "false"});
  HttpResponse r = HttpGet(kHost, port_, "/healthz");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "unhealthy\n");
  EXPECT_EQ(HttpGet(kHost, port_, "/").status, 200);
}

TEST_F(SampleAppBinary, EnvRouteEchoesVariablesAndAnswers404WhenUnset) {
  Process p = Start({}, {{"GREETING", "hello v1"}});
  HttpResponse r = HttpGet(kHost, port_, "/env/GREETING");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello v1\n");
  EXPECT_EQ(HttpGet(kHost, port_, "/env/LASTGOOD_SURELY_UNSET").status, 404);
  EXPECT_EQ(HttpGet(kHost, port_, "/no/such/path").status, 404);
}

TEST_F(SampleAppBinary, FailRateOneAnswersEveryRootRequestWith500) {
  Process p = Start({"--fail-rate", "1", "--label", "bad"});
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = HttpGet(kHost, port_, "/");
    ASSERT_EQ(r.status, 500) << r.error;
    EXPECT_EQ(r.body, "bad\nfailing on purpose\n");
    EXPECT_EQ(r.Header("X-Lastgood-Label"), "bad");
  }
  EXPECT_EQ(HttpGet(kHost, port_, "/healthz").status, 200);
}

TEST_F(SampleAppBinary, FailRateHalfFailsRoughlyHalfOfRequests) {
  Process p = Start({"--fail-rate", "0.5"});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  int failures = 0;
  for (int i = 0; i < 400; ++i) {
    ASSERT_EQ(c.Send(Get("/")), "");
    HttpResponse r = c.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_TRUE(r.status == 200 || r.status == 500) << r.status;
    failures += r.status == 500;
  }
  // Binomial(400, 0.5) has a standard deviation of 10; this is six of them either way.
  EXPECT_GT(failures, 140);
  EXPECT_LT(failures, 260);
}

TEST_F(SampleAppBinary, KeepsConnectionAliveAcrossRequests) {
  Process p = Start({});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send(Get("/")), "");
  EXPECT_EQ(c.ReadResponse().status, 200);
  ASSERT_EQ(c.Send(Get("/healthz")), "");
  HttpResponse second = c.ReadResponse();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok\n");
}

TEST_F(SampleAppBinary, AnswersPipelinedRequestsInOrderEvenWhenTheFirstIsDelayed) {
  Process p = Start({"--latency-ms", "200"}, {{"NAME", "x"}});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send(Get("/") + Get("/healthz") + Get("/env/NAME") + Get("/missing")), "");
  EXPECT_EQ(c.ReadResponse().status, 200);
  EXPECT_EQ(c.ReadResponse().body, "ok\n");
  EXPECT_EQ(c.ReadResponse().body, "x\n");
  EXPECT_EQ(c.ReadResponse().status, 404);
}

TEST_F(SampleAppBinary, LatencyDelaysRootWithoutBlockingOtherConnections) {
  Process p = Start({"--latency-ms", "400"});
  HttpConnection slow;
  ASSERT_EQ(slow.Connect(kHost, port_), "");
  auto start = Clock::now();
  ASSERT_EQ(slow.Send(Get("/")), "");
  HttpResponse health = HttpGet(kHost, port_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_LT(Clock::now() - start, 300ms);
  EXPECT_EQ(slow.ReadResponse().status, 200);
  EXPECT_GE(Clock::now() - start, 400ms);
}

TEST_F(SampleAppBinary, DiscardsRequestBodiesAndServesTheNextRequest) {
  Process p = Start({});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  std::string with_length = "GET /healthz HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nhello";
  std::string chunked =
      "GET /healthz HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
  ASSERT_EQ(c.Send(with_length + chunked + Get("/")), "");
  EXPECT_EQ(c.ReadResponse().body, "ok\n");
  EXPECT_EQ(c.ReadResponse().body, "ok\n");
  EXPECT_EQ(c.ReadResponse().status, 200);
}

TEST_F(SampleAppBinary, HonoursConnectionCloseAndHttp10) {
  Process p = Start({});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send(Get("/", "Connection: close\r\n")), "");
  HttpResponse r = c.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(c.WaitForClose());

  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send("GET /healthz HTTP/1.0\r\n\r\n"), "");
  EXPECT_EQ(c.ReadResponse().body, "ok\n");
  EXPECT_TRUE(c.WaitForClose());
}

TEST_F(SampleAppBinary, RefusesOversizedHeadersWith431) {
  Process p = Start({});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send(Get("/", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n")), "");
  EXPECT_EQ(c.ReadResponse().status, 431);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(HttpGet(kHost, port_, "/healthz").status, 200);
}

TEST_F(SampleAppBinary, RefusesAmbiguousOrMalformedRequestsWith400AndCloses) {
  Process p = Start({});
  const std::vector<std::string> bad = {
      // Both framings at once is how requests get smuggled past proxies.
      "POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET / HTTP/1.1\r\nHost: s\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host
      "\x01\x02 nonsense\r\n\r\n",
  };
  for (const std::string& request : bad) {
    HttpConnection c;
    ASSERT_EQ(c.Connect(kHost, port_), "");
    ASSERT_EQ(c.Send(request), "");
    EXPECT_EQ(c.ReadResponse().status, 400) << request;
    EXPECT_TRUE(c.WaitForClose()) << request;
  }
}

TEST_F(SampleAppBinary, HeadGetsTheHeadersOfGetWithoutABody) {
  Process p = Start({"--label", "v3"});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send("HEAD / HTTP/1.1\r\nHost: s\r\n\r\n" + Get("/healthz")), "");
  HttpResponse head = c.ReadResponse(2s, /*head_request=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("X-Lastgood-Label"), "v3");
  EXPECT_EQ(head.Header("Content-Length"),
            std::to_string(("v3\nserved by pid " + std::to_string(p.pid()) + "\n").size()));
  EXPECT_EQ(c.ReadResponse().body, "ok\n");  // no stray body bytes in between
}

TEST_F(SampleAppBinary, AnswersThousandsOfPipelinedRequestsFromAClientThatReadsLate) {
  Process p = Start({});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  constexpr int kRequests = 5000;
  std::string batch;
  for (int i = 0; i < kRequests; ++i) batch += Get("/");
  // The server stops reading while its responses pile up, so sending everything first
  // only works if the send buffers hold it; send from a thread to be safe.
  std::thread sender([&] { EXPECT_EQ(c.Send(batch, 5s), ""); });
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    HttpResponse r = c.ReadResponse();
    if (!r.ok()) break;
    ok += r.status == 200;
  }
  sender.join();
  EXPECT_EQ(ok, kRequests);
}

TEST_F(SampleAppBinary, CrashOnStartExitsNonZeroWithAMessage) {
  Process p = Spawn({"--crash-on-start", "true"});
  ExitStatus status = ExitOf(p);
  EXPECT_TRUE(status.exited());
  EXPECT_NE(status.code, 0);
  EXPECT_NE(ReadFile(dir_ + "/stderr"), "");
}

TEST_F(SampleAppBinary, StartupDelayHoldsBackTheListeningPort) {
  auto start = Clock::now();
  Process p = Spawn({"--startup-ms", "600"});
  ASSERT_TRUE(WaitUntil([&] { return Answers(); }, 5s));
  EXPECT_GE(Clock::now() - start, 600ms);
}

TEST_F(SampleAppBinary, SigtermFinishesTheResponseInFlightAndExitsZero) {
  Process p = Start({"--latency-ms", "300"});
  HttpConnection c;
  ASSERT_EQ(c.Connect(kHost, port_), "");
  ASSERT_EQ(c.Send(Get("/")), "");
  std::this_thread::sleep_for(50ms);  // let the request reach the server
  auto start = Clock::now();
  ASSERT_TRUE(p.Kill(SIGTERM));
  EXPECT_EQ(c.ReadResponse().status, 200);
  ExitStatus status = ExitOf(p);
  EXPECT_TRUE(status.exited());
  EXPECT_EQ(status.code, 0);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_FALSE(Answers());
}

TEST_F(SampleAppBinary, SigtermWithIdleConnectionsExitsZeroPromptly) {
  Process p = Start({});
  HttpConnection idle;
  ASSERT_EQ(idle.Connect(kHost, port_), "");
  ASSERT_EQ(idle.Send(Get("/")), "");
  ASSERT_EQ(idle.ReadResponse().status, 200);
  auto start = Clock::now();
  ASSERT_TRUE(p.Kill(SIGTERM));
  ExitStatus status = ExitOf(p);
  EXPECT_EQ(status.code, 0);
  EXPECT_LT(Clock::now() - start, 500ms);
}

TEST_F(SampleAppBinary, BadFlagsExitWithCode2) {
  const std::vector<std::vector<std::string>> bad = {
      {"--no-such-flag", "1"},
      {"--fail-rate", "1.5"},
      {"--healthy", "yes"},
      {"--latency-ms", "-1"},
      {"--label"},
      {"stray"},
  };
  for (const auto& flags : bad) {
    Process p = Spawn(flags);
    EXPECT_EQ(ExitOf(p).code, 2) << flags[0];
  }
  Process no_port = Spawn({}, {}, false);
  EXPECT_EQ(ExitOf(no_port).code, 2);
  EXPECT_NE(ReadFile(dir_ + "/stderr"), "");
}

}  // namespace
