// End-to-end: hostile input against the controller's API and dashboard (issue 11 A). Each
// test performs the attack over a real socket and then checks what a user would notice: the
// controller still answers, and what it recorded can still be read.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "testutil/http.h"
#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::HttpConnection;
using lastgood::testutil::HttpResponse;
using lastgood::testutil::Lastgood;
using lastgood::testutil::ReadFile;
using lastgood::testutil::WaitUntil;

// The port of "<what> http://127.0.0.1:PORT" in the controller's log, or 0.
int LoggedPort(const Lastgood& lg, const std::string& what) {
  int port = 0;
  WaitUntil(
      [&] {
        for (const auto& e : std::filesystem::directory_iterator(lg.home())) {
          if (e.path().filename().string().rfind("serve.err", 0) != 0) continue;
          std::string text = ReadFile(e.path().string());
          std::smatch m;
          if (std::regex_search(text, m, std::regex(what + " https?://127\\.0\\.0\\.1:(\\d+)")))
            port = std::stoi(m[1]);
        }
        return port != 0;
      },
      5s, 20ms);
  return port;
}

// Sends raw bytes to 127.0.0.1:port and reads one response.
HttpResponse Exchange(int port, const std::string& request) {
  HttpConnection c;
  if (auto e = c.Connect("127.0.0.1", port); !e.empty()) return {0, {}, "", e};
  if (auto e = c.Send(request); !e.empty()) return {0, {}, "", e};
  return c.ReadResponse(5s);
}

// A dashboard session of `role`: the cookie ("name=value") and its CSRF token.
struct Session {
  std::string cookie, csrf;
};

Session LogIn(Lastgood& lg, int port, const std::string& role) {
  auto link = lg.Json({"dashboard", "--role", role});
  std::string url = link.is_object() ? link.value("url", "") : "";
  EXPECT_FALSE(url.empty()) << link.dump();
  std::string path = url.substr(url.find("/login"));
  HttpResponse login =
      Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                         "\r\nConnection: close\r\n\r\n");
  Session s;
  s.cookie = login.Header("Set-Cookie").substr(0, login.Header("Set-Cookie").find(';'));
  EXPECT_FALSE(s.cookie.empty()) << login.status << " " << login.body;
  HttpResponse session =
      Exchange(port, "GET /v1/session HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                         "\r\nCookie: " + s.cookie + "\r\nConnection: close\r\n\r\n");
  auto j = nlohmann::json::parse(session.body, nullptr, false);
  if (j.is_object()) s.csrf = j.value("csrfToken", "");
  EXPECT_FALSE(s.csrf.empty()) << session.body;
  return s;
}

// Issue 11 A1: one unauthenticated request with a path that is not UTF-8 went into the
// audit, and every `lastgood audit` after it ended the controller (json type_error 316).
TEST(Hostile, APathThatIsNotUtf8OverListenIsAuditedAndTheAuditStillReads) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  int port = LoggedPort(lg, "serving the API on");
  ASSERT_NE(port, 0);

  HttpResponse refused =
      Exchange(port, "GET /v1/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(refused.status, 401) << refused.error << refused.body;

  for (int i = 0; i < 2; ++i) {  // the row stays: every later read must work too
    auto audit = lg.Json({"audit"});
    ASSERT_TRUE(audit.is_array() && !audit.empty()) << lg.last().err;
    EXPECT_EQ(audit[0].value("action", ""), "GET /v1/\xef\xbf\xbd\xef\xbf\xbd") << audit.dump();
    EXPECT_EQ(audit[0].value("status", 0), 401);
  }
  lg.When().Run({"apps"}).Then().ExitCode(0);
}

// Issue 11 A1, the dashboard's side: a viewer's requests whose path or query is not UTF-8
// reached error bodies that threw (ui/server.cc, ui/events.cc) and ended the controller.
TEST(Hostile, PathsThatAreNotUtf8ThroughTheDashboardAreAnsweredAndTheControllerLives) {
  Lastgood lg;
  lg.ServeArgs({"--ui", "127.0.0.1:0"});
  lg.Given();
  int port = LoggedPort(lg, "dashboard on");
  ASSERT_NE(port, 0);
  Session viewer = LogIn(lg, port, "viewer");
  std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  std::string headers = host + "Cookie: " + viewer.cookie + "\r\nX-CSRF-Token: " + viewer.csrf +
                        "\r\nConnection: close\r\n";

  struct Attack {
    std::string request;
    int status;
  };
  for (const Attack& a : std::vector<Attack>{
           {"POST /v1/\xff HTTP/1.1\r\n" + headers + "Content-Length: 0\r\n\r\n", 403},
           {"GET /v1/events?app=\xff HTTP/1.1\r\n" + headers + "\r\n", 400},
           {"GET /v1/apps/\xff/traffic/series HTTP/1.1\r\n" + headers + "\r\n", 400},
           {"GET /v1/apps/\xfe HTTP/1.1\r\n" + headers + "\r\n", 400},
       }) {
    HttpResponse r = Exchange(port, a.request);
    EXPECT_EQ(r.status, a.status) << a.request << "\n" << r.error << r.body;
    EXPECT_FALSE(nlohmann::json::parse(r.body, nullptr, false).is_discarded()) << r.body;
  }
  lg.When().Run({"apps"}).Then().ExitCode(0);
  lg.When().Run({"audit"}).Then().ExitCode(0);
  HttpResponse session = Exchange(port, "GET /v1/session HTTP/1.1\r\n" + headers + "\r\n");
  EXPECT_EQ(session.status, 200) << session.error;
}

}  // namespace
