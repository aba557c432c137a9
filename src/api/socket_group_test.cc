#include "api/socket_group.h"

#include <gtest/gtest.h>
#include <pwd.h>

namespace lastgood {
namespace {

TEST(SocketGroup, ResolvesAGroupByNameAndRefusesAnUnknownOneNamingTheFlag) {
  auto root = ResolveSocketGroup("root");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(*root, 0u);
  auto unknown = ResolveSocketGroup("lg-no-such-group");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(unknown.error().field, "socket-group");
  EXPECT_NE(unknown.error().message.find("no such group"), std::string::npos);
}

TEST(SocketGroup, AUserIsAMemberOfItsPrimaryGroupByThePasswdRecord) {
  passwd* root = ::getpwuid(0);
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(IsGroupMember(0, root->pw_gid));
}

TEST(SocketGroup, AUidWithoutAPasswdEntryIsAMemberOfNothing) {
  constexpr uid_t kNobodyKnows = 3'999'999'999u;
  ASSERT_EQ(::getpwuid(kNobodyKnows), nullptr);
  EXPECT_FALSE(IsGroupMember(kNobodyKnows, 0));
}

}  // namespace
}  // namespace lastgood
