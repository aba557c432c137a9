#include "auth/auth.h"

#include <gtest/gtest.h>

namespace lastgood::auth {
namespace {

TEST(Roles, PrintAndParseRoundTrip) {
  for (Role role : {Role::kViewer, Role::kDeployer, Role::kAdmin}) {
    auto parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, role);
  }
}

TEST(Roles, UnknownRoleIsInvalidInputNamingTheChoices) {
  auto parsed = ParseRole("root");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(parsed.error().message.find("viewer, deployer or admin"), std::string::npos);
}

TEST(Tokens, AreFreshPrefixedAndRecognisable) {
  auto a = NewToken();
  auto b = NewToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("lgt_", 0), 0u);
  EXPECT_TRUE(LooksLikeToken(*a));
  EXPECT_FALSE(LooksLikeToken(a->substr(0, a->size() - 1)));
  EXPECT_FALSE(LooksLikeToken("Bearer " + *a));
  EXPECT_FALSE(LooksLikeToken("lgt_" + std::string(64, 'G')));
}

TEST(Tokens, HashIsSha256HexAndNotTheToken) {
  // SHA-256("abc"), a published test vector.
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto token = NewToken();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(TokenHash(*token).size(), 64u);
  EXPECT_EQ(TokenHash(*token).find(token->substr(4)), std::string::npos);
}

TEST(Tokens, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abcd", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abce"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(LocalAdmin, IsNamedAfterTheUserAndIsAdmin) {
  Principal root = LocalAdmin(0);
  EXPECT_EQ(root.name, "local:root");
  EXPECT_EQ(root.role, Role::kAdmin);
  EXPECT_EQ(root.from, "unix");
}

}  // namespace
}  // namespace lastgood::auth
