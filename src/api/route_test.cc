#include "api/route.h"

#include <gtest/gtest.h>

#include <set>

#include "api/verbs.h"

namespace lastgood {
namespace {

using auth::Role;

ApiResponse Named(const char* name) { return {200, name}; }

std::vector<ApiRoute> Table() {
  return {
      {"GET", "/v1/apps", Role::kViewer, [](const RouteCall&) { return Named("apps"); }},
      {"GET", "/v1/apps/{app}", Role::kViewer, [](const RouteCall&) { return Named("app"); }},
      {"POST", "/v1/apps/{app}/rollback", Role::kDeployer,
       [](const RouteCall&) { return Named("rollback"); }},
  };
}

const ApiRoute* Match(const std::vector<ApiRoute>& t, const std::string& method,
                      const std::string& target, std::map<std::string, std::string>* path = nullptr,
                      std::map<std::string, std::string>* query = nullptr) {
  std::map<std::string, std::string> p, q;
  const ApiRoute* r = MatchRoute(t, method, target, path ? path : &p, query ? query : &q);
  return r;
}

TEST(MatchRoute, FindsTheRouteByMethodAndPatternAndFillsItsNames) {
  auto t = Table();
  std::map<std::string, std::string> path, query;
  const ApiRoute* r = Match(t, "POST", "/v1/apps/web/rollback?x=1&y=&z", &path, &query);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->pattern, "/v1/apps/{app}/rollback");
  EXPECT_EQ(path["app"], "web");
  EXPECT_EQ(query["x"], "1");
  EXPECT_EQ(query["y"], "");
  EXPECT_TRUE(query.count("z"));
}

TEST(MatchRoute, MatchesNothingForAnotherMethodOrAnEmptyOrExtraSegment) {
  auto t = Table();
  EXPECT_EQ(Match(t, "GET", "/v1/apps/web/rollback"), nullptr);
  EXPECT_EQ(Match(t, "POST", "/v1/apps//rollback"), nullptr);
  EXPECT_EQ(Match(t, "GET", "/v1/apps/web/x/y"), nullptr);
  EXPECT_EQ(Match(t, "GET", "v1/apps"), nullptr);
  EXPECT_EQ(Match(t, "GET", ""), nullptr);
  EXPECT_NE(Match(t, "GET", "/v1/apps/"), nullptr);  // a trailing slash is the same route
}

TEST(MatchRoute, TheFirstOfARepeatedQueryKeyWins) {
  auto t = Table();
  std::map<std::string, std::string> path, query;
  ASSERT_NE(Match(t, "GET", "/v1/apps?limit=1&limit=2", &path, &query), nullptr);
  EXPECT_EQ(query["limit"], "1");
}

// The access rule of docs/security.md, checked over the whole table: viewers read everything
// but tokens and secrets' names, deployers also change apps and list those names, and
// everything else is for admins.
TEST(DomainRoutes, GiveEachRouteTheRoleTheSecurityDocumentPromises) {
  for (const ApiRoute& r : DomainRoutes()) {
    bool tokens = r.pattern.rfind("/v1/tokens", 0) == 0;
    bool secrets = r.pattern.find("/secrets") != std::string::npos;
    bool artifacts = r.pattern.rfind("/v1/artifacts/", 0) == 0;
    Role expected = Role::kAdmin;
    if (r.method == "GET" && secrets) {
      expected = Role::kDeployer;  // names of an app's secrets: for those who deploy it
    } else if (r.method == "GET" && (artifacts || r.pattern == "/v1/apps/{app}/logs")) {
      expected = Role::kDeployer;  // the first step of a remote apply's upload
    } else if (r.method == "GET" && !tokens) {
      expected = Role::kViewer;
    } else if (r.method == "POST" &&
               (r.pattern == "/v1/apply" || r.pattern.rfind("/v1/apps/{app}/", 0) == 0)) {
      expected = Role::kDeployer;
    }
    EXPECT_EQ(r.role, expected) << r.method << " " << r.pattern;
  }
}

TEST(DomainRoutes, HaveOneRoutePerMethodAndPatternAndAHandlerEach) {
  std::set<std::string> seen;
  for (const ApiRoute& r : DomainRoutes()) {
    EXPECT_TRUE(seen.insert(r.method + " " + r.pattern).second) << r.method << " " << r.pattern;
    EXPECT_TRUE(static_cast<bool>(r.handler)) << r.pattern;
  }
  EXPECT_GE(seen.size(), 20u);
}

}  // namespace
}  // namespace lastgood
