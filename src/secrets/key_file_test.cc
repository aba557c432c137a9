#include "secrets/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lastgood-key-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = dir_ + "/secrets.key";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(KeyFileTest, TheFirstUseMakesAKeyReadableOnlyByItsOwner) {
  EXPECT_EQ(LoadKey(path_).error().code, ErrorCode::kNotFound);
  auto made = LoadOrCreateKey(path_);
  ASSERT_TRUE(made.ok()) << made.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadKey(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes, made->bytes);
  EXPECT_EQ(LoadOrCreateKey(path_)->bytes, made->bytes);
  // Nothing is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, MakersRacingAgreeOnOneKey) {
  std::vector<std::thread> threads;
  std::vector<SecretKey> keys(8);
  for (size_t i = 0; i < keys.size(); ++i) {
    threads.emplace_back([&, i] {
      auto k = LoadOrCreateKey(path_);
      ASSERT_TRUE(k.ok()) << k.error().message;
      keys[i] = *k;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& k : keys) EXPECT_EQ(k.bytes, keys[0].bytes);
}

TEST_F(KeyFileTest, AKeyOthersMayReadIsRefusedWithWhatToDo) {
  ASSERT_TRUE(LoadOrCreateKey(path_).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto k = LoadKey(path_);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(k.error().message.find("chmod 600"), std::string::npos) << k.error().message;
  EXPECT_NE(k.error().message.find("0644"), std::string::npos) << k.error().message;
}

TEST_F(KeyFileTest, AMalformedFileOrASymlinkIsRefused) {
  std::ofstream(path_) << "not a key\n";
  ::chmod(path_.c_str(), 0600);
  auto k = LoadKey(path_);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("not a lastgood secrets key"), std::string::npos);

  const std::string real = dir_ + "/real.key";
  ASSERT_TRUE(LoadOrCreateKey(real).ok());
  fs::remove(path_);
  fs::create_symlink(real, path_);
  EXPECT_FALSE(LoadKey(path_).ok());
}

TEST_F(KeyFileTest, TheFileTextReadsBackAsTheSameKey) {
  auto key = NewSecretKey();
  ASSERT_TRUE(key.ok());
  std::ofstream(path_) << KeyFileText(*key);
  ::chmod(path_.c_str(), 0600);
  auto read = LoadKey(path_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->Id(), key->Id());
  EXPECT_EQ(KeyFileText(*key).rfind("lastgood-secrets-key v1 ", 0), 0u);
}

}  // namespace
}  // namespace lastgood
