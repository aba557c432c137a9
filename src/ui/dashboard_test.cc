#include "ui/dashboard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "testutil/http.h"

namespace lastgood::ui {
namespace {

using nlohmann::json;
using testutil::HttpConnection;
using testutil::HttpResponse;

ApiRequest Req(const std::string& body, const std::string& actor = "local:tester") {
  ApiRequest r;
  r.method = "POST";
  r.target = "/v1/ui/logins";
  r.body = body;
  r.actor = actor;
  return r;
}

// A real Dashboard on a free loopback port, in front of a stand-in API that records what
// reached it.
class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = std::filesystem::temp_directory_path() /
              ("lg-ui-test-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(assets_ / "assets");
    std::ofstream(assets_ / "index.html") << "<!doctype html><title>lastgood</title>";
    std::ofstream(assets_ / "assets" / "app-1.js") << "console.log(1)";
    port_ = testutil::FreePort();
    auto api = [this](const ApiRequest& r) {
      std::lock_guard lock(mu_);
      seen_.push_back(r);
      if (r.target == "/v1/apps/throws") throw std::runtime_error("a handler's bug");
      return ApiResponse{200, R"({"app":"web","slots":{},"deployment":null,"lastGood":null})"};
    };
    dashboard_ = std::make_unique<Dashboard>(
        api, DashboardOptions{"127.0.0.1:" + std::to_string(port_), assets_.string(), false});
    ASSERT_TRUE(dashboard_->Start().ok());
  }
  void TearDown() override {
    dashboard_.reset();
    std::filesystem::remove_all(assets_);
  }

  HttpResponse Send(const std::string& method, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    const std::string& body = "") {
    HttpConnection c;
    if (auto e = c.Connect("127.0.0.1", port_); !e.empty()) return {0, {}, "", e};
    std::string req = method + " " + path +
                      " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                      "\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (auto e = c.Send(req); !e.empty()) return {0, {}, "", e};
    return c.ReadResponse();
  }

  // Makes a login for `role` and redeems it; returns the Cookie header value.
  std::string LogIn(const std::string& role) {
    auto made = dashboard_->HandleLogins(Req(json{{"role", role}}.dump()));
    EXPECT_EQ(made.status, 200) << made.body;
    std::string url = json::parse(made.body)["url"];
    std::string path = url.substr(url.find("/login"));
    auto res = Send("GET", path);
    EXPECT_EQ(res.status, 303);
    std::string set = res.Header("Set-Cookie");
    return set.substr(0, set.find(';'));
  }

  std::string Csrf(const std::string& cookie) {
    auto res = Send("GET", "/v1/session", {{"Cookie", cookie}});
    return json::parse(res.body)["csrfToken"];
  }

  size_t Seen() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

  std::filesystem::path assets_;
  int port_ = 0;
  std::unique_ptr<Dashboard> dashboard_;
  std::mutex mu_;
  std::vector<ApiRequest> seen_;
};

TEST_F(DashboardTest, WithoutASessionTheApiIs401AndThePageAsksToLogIn) {
  auto api = Send("GET", "/v1/apps");
  EXPECT_EQ(api.status, 401);
  EXPECT_NE(api.body.find("lastgood dashboard"), std::string::npos);
  auto page = Send("GET", "/");
  EXPECT_EQ(page.status, 401);
  EXPECT_NE(page.body.find("lastgood dashboard"), std::string::npos);
  EXPECT_EQ(page.body.find("<title>lastgood</title>"), std::string::npos);  // not the app
  EXPECT_EQ(Send("GET", "/v1/events?app=web").status, 401);
  EXPECT_EQ(Seen(), 0u);
}

TEST_F(DashboardTest, ALoginLinkSetsAStrictHttpOnlyCookieOnceAndRedirectsToThePage) {
  auto made = dashboard_->HandleLogins(Req("{}"));
  ASSERT_EQ(made.status, 200) << made.body;
  json j = json::parse(made.body);
  EXPECT_EQ(j["role"], "admin");
  std::string url = j["url"];
  EXPECT_EQ(url.rfind(dashboard_->Url() + "/login?token=", 0), 0u) << url;
  std::string path = url.substr(url.find("/login"));
  auto first = Send("GET", path);
  EXPECT_EQ(first.status, 303);
  EXPECT_EQ(first.Header("Location"), "/");
  std::string cookie = first.Header("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(Send("GET", path).status, 401);  // used
  auto page = Send("GET", "/", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>lastgood</title>"), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
}

TEST_F(DashboardTest, APostWithoutTheCsrfTokenIs403AndNeverReachesTheApi) {
  std::string cookie = LogIn("admin");
  std::string csrf = Csrf(cookie);
  size_t before = Seen();
  auto none = Send("POST", "/v1/apps/web/rollback", {{"Cookie", cookie}}, "{}");
  EXPECT_EQ(none.status, 403);
  auto wrong = Send("POST", "/v1/apps/web/rollback",
                    {{"Cookie", cookie}, {"X-CSRF-Token", std::string(64, 'a')}}, "{}");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Seen(), before);
  auto ok =
      Send("POST", "/v1/apps/web/rollback", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "{}");
  EXPECT_EQ(ok.status, 200);
  ASSERT_EQ(Seen(), before + 1);
  std::lock_guard lock(mu_);
  EXPECT_EQ(seen_.back().target, "/v1/apps/web/rollback");
  EXPECT_EQ(seen_.back().actor, "local:tester");
}

TEST_F(DashboardTest, AViewerMayReadButNotAct) {
  std::string cookie = LogIn("viewer");
  auto session = Send("GET", "/v1/session", {{"Cookie", cookie}});
  ASSERT_EQ(session.status, 200);
  json s = json::parse(session.body);
  EXPECT_EQ(s["role"], "viewer");
  EXPECT_EQ(s["canDeploy"], false);
  EXPECT_EQ(Send("GET", "/v1/apps/web", {{"Cookie", cookie}}).status, 200);
  size_t before = Seen();
  auto post = Send("POST", "/v1/apps/web/rollback",
                   {{"Cookie", cookie}, {"X-CSRF-Token", s["csrfToken"]}}, "{}");
  EXPECT_EQ(post.status, 403);
  EXPECT_EQ(Seen(), before);
}

TEST_F(DashboardTest, WhatTheApiThrowsIsA500AndTheDashboardServesOn) {
  std::string cookie = LogIn("viewer");
  auto crashed = Send("GET", "/v1/apps/throws", {{"Cookie", cookie}});
  EXPECT_EQ(crashed.status, 500);
  EXPECT_EQ(json::parse(crashed.body)["error"]["code"], "internal");
  EXPECT_EQ(Send("GET", "/v1/apps/web", {{"Cookie", cookie}}).status, 200);
}

TEST_F(DashboardTest, LogoutEndsTheSession) {
  std::string cookie = LogIn("admin");
  std::string csrf = Csrf(cookie);
  EXPECT_EQ(Send("POST", "/v1/logout", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status, 200);
  EXPECT_EQ(Send("GET", "/v1/apps", {{"Cookie", cookie}}).status, 401);
}

TEST_F(DashboardTest, FilesOutsideTheAssetsAreNotServed) {
  std::string cookie = LogIn("admin");
  EXPECT_EQ(Send("GET", "/assets/app-1.js", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(Send("GET", "/../../etc/passwd", {{"Cookie", cookie}}).status, 404);
  EXPECT_EQ(Send("GET", "/assets/%2e%2e/index.html", {{"Cookie", cookie}}).status, 404);
}

TEST_F(DashboardTest, LoginsRefuseAnUnknownRole) {
  auto made = dashboard_->HandleLogins(Req(R"({"role":"root"})"));
  EXPECT_EQ(made.status, 400);
  auto extra = dashboard_->HandleLogins(Req(R"({"password":"x"})"));
  EXPECT_EQ(extra.status, 400);
}

TEST_F(DashboardTest, EventsStreamTheAppsStatusUntilTheDashboardStops) {
  std::string cookie = LogIn("viewer");
  HttpConnection c;
  ASSERT_EQ(c.Connect("127.0.0.1", port_), "");
  ASSERT_EQ(c.Send("GET /v1/events?app=web HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n"),
            "");
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    dashboard_->Stop();
  });
  auto res = c.ReadResponse(std::chrono::milliseconds(5000));
  stopper.join();
  EXPECT_EQ(res.status, 200) << res.error;
  EXPECT_EQ(res.Header("Content-Type"), "text/event-stream");
  EXPECT_NE(res.body.find("event: status\ndata: {"), std::string::npos) << res.error << res.body;
}

}  // namespace
}  // namespace lastgood::ui
