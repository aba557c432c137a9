#include "process/confinement.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

Confinement AppUsers(bool node, std::vector<std::string> run_users = {}) {
  ConfinementOptions o;
  o.home = "/nonexistent-lastgood-home";
  o.run_users = std::move(run_users);
  o.node = node;
  return Confinement(o, Sandbox::Kind::kAppUser);
}

TEST(Confinement, AControllerRunsAnAppAsAnotherUserOnlyWhenTheAdminAllowedIt) {
  Confinement c = AppUsers(false, {"nobody"});
  EXPECT_TRUE(c.CheckRunUser("nobody").ok());
  auto daemon = c.CheckRunUser("daemon");
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.error().message.find("--run-users daemon"), std::string::npos);
  EXPECT_FALSE(c.CheckRunUser("root").ok());
  auto ghost = c.CheckRunUser("lg-no-such-user");
  ASSERT_FALSE(ghost.ok());
  EXPECT_NE(ghost.error().message.find("not a user of this machine"), std::string::npos);
}

TEST(Confinement, ForAFleetAppTheControllerChecksOnlyTheAdminsAllowanceNotItsOwnUsers) {
  Confinement c = AppUsers(false, {"lg-only-on-the-hosts"});
  EXPECT_TRUE(c.CheckRunUserAllowed("").ok());
  EXPECT_TRUE(c.CheckRunUserAllowed("lg-only-on-the-hosts").ok());
  auto other = c.CheckRunUserAllowed("nobody");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().field, "run.user");
  EXPECT_NE(other.error().message.find("--run-users nobody"), std::string::npos);
  EXPECT_FALSE(AppUsers(false, {"root"}).CheckRunUserAllowed("root").ok()) << "never root";
}

TEST(Confinement, ANodeRunsAnAppAsAnyUserOfItsHostButRoot) {
  Confinement c = AppUsers(true);
  EXPECT_TRUE(c.CheckRunUser("nobody").ok()) << "the controller held it to its --run-users";
  EXPECT_TRUE(c.CheckRunUser("daemon").ok());
  EXPECT_FALSE(c.CheckRunUser("root").ok());
  auto ghost = c.CheckRunUser("lg-no-such-user");
  ASSERT_FALSE(ghost.ok());
  EXPECT_EQ(ghost.error().message, "run.user 'lg-no-such-user' is not a user of this host");
}

}  // namespace
}  // namespace lastgood
