#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/store.h"

namespace lastgood {
namespace {

class HostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "lastgood-hosts-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto s = OpenSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(HostsTest, AHostIsKeptWithItsLabelsAndListedByName) {
  HostRecord web2{
      "web2", "deploy@10.0.0.6", {{"role", "web"}, {"zone", "b"}}, "/srv/node", "", 1000, 0};
  HostRecord web1{"web1", "web1", {{"role", "web"}}, "/var/lib/lastgood-node", "", 900, 0};
  ASSERT_TRUE(store_->AddHost(web2).ok());
  ASSERT_TRUE(store_->AddHost(web1).ok());
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].name, "web1");
  EXPECT_EQ((*hosts)[1].ssh, "deploy@10.0.0.6");
  EXPECT_EQ((*hosts)[1].labels.at("zone"), "b");
  EXPECT_EQ((*hosts)[1].nodeHome, "/srv/node");
}

TEST_F(HostsTest, ANameIsTakenOnceAndAnUnknownHostIsNotFound) {
  ASSERT_TRUE(store_->AddHost({"web1", "a", {}, "/n", "", 1, 0}).ok());
  auto again = store_->AddHost({"web1", "b", {}, "/n", "", 2, 0});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->RemoveHost("web9").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->TouchHost("web9", 5, "x").error().code, ErrorCode::kNotFound);
}

TEST_F(HostsTest, TouchRecordsWhenTheNodeAnsweredAndItsBuild) {
  ASSERT_TRUE(store_->AddHost({"web1", "a", {}, "/n", "", 1, 0}).ok());
  ASSERT_TRUE(store_->TouchHost("web1", 12345, "abc123").ok());
  auto hosts = store_->ListHosts();
  EXPECT_EQ((*hosts)[0].lastSeen, 12345);
  EXPECT_EQ((*hosts)[0].nodeBuild, "abc123");
  ASSERT_TRUE(store_->RemoveHost("web1").ok());
  EXPECT_TRUE(store_->ListHosts()->empty());
}

}  // namespace
}  // namespace lastgood
