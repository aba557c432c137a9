#include "ui/sessions.h"

#include <gtest/gtest.h>

namespace lastgood::ui {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowMillis() override { return now; }
  std::chrono::steady_clock::time_point Steady() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now));
  }
  int64_t now = 1'800'000'000'000;
};

TEST(Sessions, ALoginLinkWorksOnceAndOpensASessionWithItsRole) {
  FakeClock clock;
  Sessions sessions(&clock);
  auto login = sessions.CreateLogin("local:alice", auth::Role::kViewer);
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->token.size(), 64u);
  auto opened = sessions.Redeem(login->token);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->session.role, auth::Role::kViewer);
  EXPECT_EQ(opened->session.name, "local:alice");
  auto again = sessions.Redeem(login->token);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  auto found = sessions.Find(opened->cookie);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->csrf, opened->session.csrf);
}

TEST(Sessions, ALoginLinkExpiresAfterTenMinutes) {
  FakeClock clock;
  Sessions sessions(&clock);
  auto login = sessions.CreateLogin("local:alice", auth::Role::kAdmin);
  ASSERT_TRUE(login.ok());
  clock.now += kLoginTtlMillis;
  EXPECT_FALSE(sessions.Redeem(login->token).ok());
}

TEST(Sessions, ASessionEndsAtItsExpiryAndAtLogout) {
  FakeClock clock;
  Sessions sessions(&clock);
  auto a = sessions.Redeem(sessions.CreateLogin("a", auth::Role::kAdmin)->token);
  auto b = sessions.Redeem(sessions.CreateLogin("b", auth::Role::kAdmin)->token);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  sessions.End(a->cookie);
  EXPECT_FALSE(sessions.Find(a->cookie).has_value());
  EXPECT_TRUE(sessions.Find(b->cookie).has_value());
  clock.now += kSessionTtlMillis;
  EXPECT_FALSE(sessions.Find(b->cookie).has_value());
}

TEST(Sessions, UnknownTokensAndCookiesOpenNothing) {
  FakeClock clock;
  Sessions sessions(&clock);
  ASSERT_TRUE(sessions.CreateLogin("a", auth::Role::kAdmin).ok());
  EXPECT_FALSE(sessions.Redeem("").ok());
  EXPECT_FALSE(sessions.Redeem(std::string(64, '0')).ok());
  EXPECT_FALSE(sessions.Find(std::string(64, '0')).has_value());
  EXPECT_FALSE(sessions.Find("short").has_value());
}

TEST(Sessions, CsrfTokenMustMatchExactly) {
  FakeClock clock;
  Sessions sessions(&clock);
  auto opened = sessions.Redeem(sessions.CreateLogin("a", auth::Role::kAdmin)->token);
  ASSERT_TRUE(opened.ok());
  const Session& s = opened->session;
  EXPECT_TRUE(Sessions::CsrfMatches(s, s.csrf));
  EXPECT_FALSE(Sessions::CsrfMatches(s, ""));
  EXPECT_FALSE(Sessions::CsrfMatches(s, s.csrf.substr(1)));
  std::string wrong = s.csrf;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(Sessions::CsrfMatches(s, wrong));
  // Each session has its own token.
  auto other = sessions.Redeem(sessions.CreateLogin("b", auth::Role::kAdmin)->token);
  EXPECT_NE(other->session.csrf, s.csrf);
}

TEST(Sessions, TooManyPendingLoginsDropTheOldest) {
  FakeClock clock;
  Sessions sessions(&clock);
  auto first = sessions.CreateLogin("a", auth::Role::kAdmin);
  ASSERT_TRUE(first.ok());
  for (size_t i = 0; i < kMaxPendingLogins; ++i) {
    clock.now += 1;
    ASSERT_TRUE(sessions.CreateLogin("a", auth::Role::kAdmin).ok());
  }
  EXPECT_FALSE(sessions.Redeem(first->token).ok());
}

}  // namespace
}  // namespace lastgood::ui
