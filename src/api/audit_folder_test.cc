#include "api/audit_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "api/handlers.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class AuditFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lg-audit-fold-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    auto store = OpenSqliteStore((dir_ / "lastgood.db").string());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  static AuditEntry Refusal(int64_t at, const std::string& from, int status = 401) {
    return {0, at, "anonymous", from, "GET /v1/apps", "", status, "unauthorized: no bearer token"};
  }
  std::vector<AuditEntry> Rows() { return *store_->ListAudit("", 0); }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(AuditFolderTest, RepeatedRefusalsFromOneAddressWithinAMinuteAreOneRowWithACount) {
  AuditFolder folder(store_.get());
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(folder.Refused(Refusal(1000 + i, "10.0.0.1:" + std::to_string(40000 + i))).ok());
  folder.Flush(2000);
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 50);
  EXPECT_EQ(rows[0].lastAt, 1049);
  EXPECT_EQ(rows[0].from, "10.0.0.1:40000");  // the first one's
}

TEST_F(AuditFolderTest, AnotherAddressStatusOrMinuteIsARowOfItsOwn) {
  AuditFolder folder(store_.get());
  ASSERT_TRUE(folder.Refused(Refusal(1000, "10.0.0.1:1")).ok());
  ASSERT_TRUE(folder.Refused(Refusal(1001, "10.0.0.2:1")).ok());
  ASSERT_TRUE(folder.Refused(Refusal(1002, "10.0.0.1:2", 403)).ok());
  ASSERT_TRUE(folder.Refused(Refusal(1000 + kFoldWindowMillis, "10.0.0.1:3")).ok());
  folder.Flush(INT64_MAX);
  EXPECT_EQ(Rows().size(), 4u);
}

TEST_F(AuditFolderTest, CountsAreWrittenAtMostOnceASecondUntilFlushed) {
  AuditFolder folder(store_.get());
  ASSERT_TRUE(folder.Refused(Refusal(1000, "10.0.0.1:1")).ok());
  ASSERT_TRUE(folder.Refused(Refusal(1100, "10.0.0.1:1")).ok());
  EXPECT_EQ(Rows()[0].count, 1);  // not yet written
  ASSERT_TRUE(folder.Refused(Refusal(2100, "10.0.0.1:1")).ok());
  EXPECT_EQ(Rows()[0].count, 3);
}

TEST_F(AuditFolderTest, AFloodFromManyAddressesMakesAtMostTwentyRowsASecondAndCountsTheRest) {
  AuditFolder folder(store_.get());
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(folder
                    .Refused(Refusal(5000, "10.0." + std::to_string(i / 250) + "." +
                                               std::to_string(i % 250) + ":1"))
                    .ok());
  folder.Flush(INT64_MAX);
  auto rows = Rows();
  ASSERT_EQ(rows.size(), static_cast<size_t>(kMaxNewRefusalRowsPerSecond) + 1);
  EXPECT_EQ(rows[0].from, kManyAddresses);
  EXPECT_EQ(rows[0].count, 500 - kMaxNewRefusalRowsPerSecond);
}

TEST_F(AuditFolderTest, AddressOfTakesThePortOff) {
  EXPECT_EQ(AddressOf("127.0.0.1:5555"), "127.0.0.1");
  EXPECT_EQ(AddressOf("[::1]:5555"), "[::1]");
  EXPECT_EQ(AddressOf("unix"), "unix");
  EXPECT_EQ(AddressOf("dashboard"), "dashboard");
}

TEST_F(AuditFolderTest, HousekeepPrunesByAgeOnlyWhenAskedAndAuditsThePruning) {
  const int64_t day = 86'400'000, now = 400 * day;
  for (int64_t at : {now - 100 * day, now - 95 * day, now - 10 * day})
    ASSERT_TRUE(
        store_->AppendAudit({0, at, "local:root", "unix", "POST /v1/apply", "web", 200, ""}).ok());
  ApiOptions all;
  Api keep_all(nullptr, store_.get(), all);
  keep_all.Housekeep(now);
  EXPECT_EQ(Rows().size(), 3u);
  ApiOptions ninety;
  ninety.auditKeep = Millis(90 * day);
  Api keep_90d(nullptr, store_.get(), ninety);
  keep_90d.Housekeep(now);
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].action, "prune audit");
  EXPECT_EQ(rows[0].actor, "lastgood");
  EXPECT_NE(rows[0].message.find("--audit-keep 90d"), std::string::npos) << rows[0].message;
  EXPECT_NE(rows[0].message.find(": 2 rows"), std::string::npos) << rows[0].message;
}

}  // namespace
}  // namespace lastgood
