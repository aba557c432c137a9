#include "secrets/sealing.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

SecretKey Key() {
  auto k = NewSecretKey();
  EXPECT_TRUE(k.ok());
  return *k;
}

TEST(Sealing, ASealedValueOpensForTheSameAppAndName) {
  SecretKey key = Key();
  auto sealed = Seal(key, "web", "db-password", "hunter2-é\n");
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  auto opened = Unseal(key, "web", "db-password", *sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2-é\n");
}

TEST(Sealing, TheSealedTextHoldsNeitherTheValueNorItsHexAndNamesTheKey) {
  SecretKey key = Key();
  const std::string value = "CorrectHorseBatteryStaple";
  auto sealed = Seal(key, "web", "db-password", value);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(value), std::string::npos);
  EXPECT_EQ(sealed->find("436f7272656374"), std::string::npos);  // "Correct" in hex
  EXPECT_EQ(sealed->rfind("lgs1:" + key.Id() + ":", 0), 0u) << *sealed;
}

TEST(Sealing, SealingTwiceGivesDifferentTextsWithFreshNonces) {
  SecretKey key = Key();
  EXPECT_NE(*Seal(key, "web", "a", "same"), *Seal(key, "web", "a", "same"));
}

TEST(Sealing, AValueMovedToAnotherAppOrNameDoesNotOpen) {
  SecretKey key = Key();
  auto sealed = Seal(key, "web", "db-password", "value");
  ASSERT_TRUE(sealed.ok());
  for (auto [app, name] : {std::pair{"api", "db-password"}, std::pair{"web", "api-key"},
                           std::pair{"webd", "b-password"}}) {
    auto opened = Unseal(key, app, name, *sealed);
    ASSERT_FALSE(opened.ok()) << app << "/" << name;
    EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(opened.error().message.find("does not open"), std::string::npos);
  }
}

TEST(Sealing, AnAlteredByteIsRefused) {
  SecretKey key = Key();
  std::string sealed = *Seal(key, "web", "a", "value");
  sealed.back() = sealed.back() == '0' ? '1' : '0';
  EXPECT_FALSE(Unseal(key, "web", "a", sealed).ok());
  EXPECT_FALSE(Unseal(key, "web", "a", sealed.substr(0, 30)).ok());
  EXPECT_FALSE(Unseal(key, "web", "a", "plain text").ok());
}

TEST(Sealing, AnotherKeyIsNamedInTheErrorAndDoesNotOpen) {
  SecretKey key = Key(), other = Key();
  auto sealed = Seal(key, "web", "a", "value");
  auto opened = Unseal(other, "web", "a", *sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(key.Id()), std::string::npos);
  EXPECT_NE(opened.error().message.find(other.Id()), std::string::npos);
  EXPECT_EQ(opened.error().message.find("value"), std::string::npos);
}

}  // namespace
}  // namespace lastgood
