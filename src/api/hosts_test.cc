#include "api/hosts.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

Deployment Running(const std::string& app, const std::string& name,
                   const std::vector<std::string>& hosts) {
  Deployment d;
  d.app = app;
  d.name = name;
  for (const auto& h : hosts) {
    Operation op;
    op.host = h;
    d.operations.push_back(op);
  }
  return d;
}

TEST(HostRoutes, OnlyAnAdminChangesHostsAndAViewerListsThem) {
  for (const ApiRoute& r : HostRoutes(nullptr)) {
    EXPECT_EQ(r.role, r.method == "GET" ? auth::Role::kViewer : auth::Role::kAdmin)
        << r.method << " " << r.pattern;
  }
}

TEST(HostRoutes, UpgradingANodeIsARouteOfItsHost) {
  bool found = false;
  for (const ApiRoute& r : HostRoutes(nullptr))
    found = found || (r.method == "POST" && r.pattern == "/v1/hosts/{host}/upgrade");
  EXPECT_TRUE(found);
}

TEST(RefuseNodeUpgradeDuring, ADeploymentActingOnTheHostRefusesItNamingTheDeployment) {
  auto s = RefuseNodeUpgradeDuring({Running("web", "two", {"", "h1", "h2"})}, "h2");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_NE(s.error().message.find("deployment two of web"), std::string::npos)
      << s.error().message;
}

TEST(RefuseNodeUpgradeDuring, DeploymentsOnOtherHostsOrOnTheControllersMachineDoNot) {
  EXPECT_TRUE(RefuseNodeUpgradeDuring(
                  {Running("web", "two", {"", "h1"}), Running("api", "one", {"", ""})}, "h2")
                  .ok());
  EXPECT_TRUE(RefuseNodeUpgradeDuring({}, "h2").ok());
}

}  // namespace
}  // namespace lastgood
