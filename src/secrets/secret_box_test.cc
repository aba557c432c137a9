#include "secrets/secret_box.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "secrets/key_file.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SecretBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lastgood-secrets-XXXXXX").string();
    home_ = mkdtemp(pattern.data());
    auto store = OpenSqliteStore(home_ + "/lastgood.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    box_ = std::make_unique<SecretBox>(store_.get(), home_ + "/secrets.key", Clock::Real());
  }
  void TearDown() override {
    box_.reset();
    store_.reset();
    fs::remove_all(home_);
  }
  std::string home_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SecretBox> box_;
};

TEST_F(SecretBoxTest, ASetValueIsRevealedButTheStoreFileHoldsItNowhere) {
  const std::string value = "Recognisable-Secret-7f3a9c";
  auto set = box_->Set("web", "db-password", value, "local:test");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_FALSE(set->has_value());  // it was not set before
  auto revealed = box_->Reveal("web", "db-password");
  ASSERT_TRUE(revealed.ok()) << revealed.error().message;
  EXPECT_EQ(*revealed, value);

  store_.reset();  // folds the WAL into the file
  for (const auto& e : fs::directory_iterator(home_)) {
    if (e.path().filename() == "secrets.key") continue;
    EXPECT_EQ(ReadAll(e.path()).find(value), std::string::npos) << e.path();
  }
}

TEST_F(SecretBoxTest, ListingShowsNamesAndTimesAndASecondSetSaysWhenTheFirstWas) {
  ASSERT_TRUE(box_->Set("web", "db-password", "one", "local:a").ok());
  auto first = box_->List("web");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  auto again = box_->Set("web", "db-password", "two", "token:b");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ(**again, (*first)[0].setAt);
  auto list = box_->List("web");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "db-password");
  EXPECT_EQ((*list)[0].setBy, "token:b");
  EXPECT_EQ(*box_->Reveal("web", "db-password"), "two");
}

TEST_F(SecretBoxTest, AMissingSecretIsNotFoundWithTheCommandThatSetsIt) {
  auto r = box_->Reveal("web", "db-password");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("`lastgood secret set web db-password`"), std::string::npos)
      << r.error().message;
  ASSERT_TRUE(box_->Set("web", "db-password", "x", "a").ok());
  ASSERT_TRUE(box_->Remove("web", "db-password").ok());
  EXPECT_EQ(box_->Reveal("web", "db-password").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(box_->Remove("web", "db-password").error().code, ErrorCode::kNotFound);
}

TEST_F(SecretBoxTest, BadNamesAndValuesAreRefusedWithoutEchoingTheValue) {
  EXPECT_EQ(box_->Set("web", "DB_PASSWORD", "x", "a").error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(box_->Set("web", "../x", "x", "a").error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(box_->Set("web", "a", "", "a").error().field, "value");
  auto big = box_->Set("web", "a", std::string(kMaxSecretBytes + 1, 'q'), "a");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("at most 65536 bytes"), std::string::npos);
  EXPECT_EQ(big.error().message.find("qqqq"), std::string::npos);
  auto nul = box_->Set("web", "a", std::string("ab\0cd", 5), "a");
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.error().message.find("NUL"), std::string::npos);
  EXPECT_TRUE(box_->Set("web", "a", std::string(kMaxSecretBytes, 'q'), "a").ok());
}

TEST_F(SecretBoxTest, WithoutItsKeyFileAStoreWithSecretsSaysWhatIsMissing) {
  ASSERT_TRUE(box_->Set("web", "db-password", "value", "a").ok());
  fs::remove(home_ + "/secrets.key");
  SecretBox fresh(store_.get(), home_ + "/secrets.key", Clock::Real());
  auto r = fresh.Reveal("web", "db-password");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("secrets.key"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("is missing"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fresh.RevealAll("web").empty());
}

// A lost key file must not be replaced in silence by the next `secret set`: the new key
// would leave every older value unopenable until an instance fails to start.
TEST_F(SecretBoxTest, ASetWithoutTheKeyOfStoredSecretsIsRefusedAndMakesNoNewKey) {
  ASSERT_TRUE(box_->Set("not-deployed-yet", "db-password", "value", "a").ok());
  fs::remove(home_ + "/secrets.key");
  SecretBox fresh(store_.get(), home_ + "/secrets.key", Clock::Real());
  auto r = fresh.Set("web", "api-key", "other", "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("is missing"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(home_ + "/secrets.key"));
  auto listed = fresh.List("web");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(SecretBoxTest, AKeyFromAnotherHomeIsReportedAsSuch) {
  ASSERT_TRUE(box_->Set("web", "db-password", "value", "a").ok());
  fs::remove(home_ + "/secrets.key");
  ASSERT_TRUE(LoadOrCreateKey(home_ + "/secrets.key").ok());  // a new, different key
  SecretBox fresh(store_.get(), home_ + "/secrets.key", Clock::Real());
  auto r = fresh.Reveal("web", "db-password");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("was sealed with key"), std::string::npos) << r.error().message;
}

TEST_F(SecretBoxTest, RevealAllGivesEveryValueOfTheAppForRedaction) {
  ASSERT_TRUE(box_->Set("web", "a", "one", "x").ok());
  ASSERT_TRUE(box_->Set("web", "b", "two", "x").ok());
  ASSERT_TRUE(box_->Set("api", "c", "three", "x").ok());
  auto all = box_->RevealAll("web");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].value, "one");
  EXPECT_EQ(all[1].value, "two");
}

}  // namespace
}  // namespace lastgood
