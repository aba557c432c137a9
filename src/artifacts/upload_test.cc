#include "artifacts/upload.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <set>

#include "artifacts/artifact_store.h"
#include "testutil/temp_dir.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHour = 3'600'000;

int64_t NowMillis() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

class UploadTest : public ::testing::Test {
 protected:
  std::string Root() const { return dir_.path() + "/artifacts"; }
  // Every file in the objects' folder (temp files included).
  std::set<std::string> Files() const {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(Root() + "/sha256", ec))
      out.insert(e.path().filename().string());
    return out;
  }
  Result<UploadReceipt> Send(const std::string& bytes, const std::string& digest,
                             bool executable = false, uint64_t limit = 1 << 20) {
    auto up = uploads_.Begin(digest, executable, limit);
    if (!up.ok()) return up.error();
    // In pieces, as a connection delivers them.
    for (size_t i = 0; i < bytes.size(); i += 3) {
      if (Status s = (*up)->Write(std::string_view(bytes).substr(i, 3)); !s.ok()) return s.error();
    }
    return (*up)->Commit();
  }

  testutil::TempDir dir_{"lg-upload"};
  ArtifactUploads uploads_{Root()};
};

TEST_F(UploadTest, BytesThatHashToTheirDigestAreStoredReadOnlyAndMarkedUploaded) {
  const std::string digest = Sha256String("hello artifact");
  auto r = Send("hello artifact", digest);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->digest, digest);
  EXPECT_EQ(r->bytes, 14u);
  EXPECT_TRUE(r->stored);
  EXPECT_EQ(Files(), std::set<std::string>{digest.substr(7)}) << "no temp file left";
  struct stat st;
  ASSERT_EQ(stat((Root() + "/sha256/" + digest.substr(7)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_TRUE(uploads_.Uploaded(digest));
  EXPECT_TRUE(ArtifactStore(Root(), dir_.path() + "/releases").Has(digest));
}

TEST_F(UploadTest, AnExecutableUploadIsStoredExecutable) {
  const std::string digest = Sha256String("#!/bin/sh\n");
  ASSERT_TRUE(Send("#!/bin/sh\n", digest, true).ok());
  struct stat st;
  ASSERT_EQ(stat((Root() + "/sha256/" + digest.substr(7)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
}

TEST_F(UploadTest, BytesThatDoNotHashToTheNamedDigestStoreNothing) {
  auto r = Send("what was sent", Sha256String("what was meant"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("hash to " + Sha256String("what was sent")), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(Files().empty());
  EXPECT_FALSE(uploads_.Uploaded(Sha256String("what was meant")));
}

TEST_F(UploadTest, AnUploadCutOffLeavesNothing) {
  {
    auto up = uploads_.Begin(Sha256String("abc"), false, 100);
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Write("ab").ok());
    EXPECT_EQ(Files().size(), 1u) << "the temp file while it arrives";
  }
  EXPECT_TRUE(Files().empty());
}

TEST_F(UploadTest, BytesPastTheLimitAreRefused) {
  auto r = Send("0123456789", Sha256String("0123456789"), false, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("limit of 9 bytes"), std::string::npos) << r.error().message;
  EXPECT_TRUE(Files().empty());
}

TEST_F(UploadTest, AMalformedDigestIsRefusedBeforeAnythingIsWritten) {
  for (const std::string& bad :
       std::vector<std::string>{"sha256:abc", "md5:" + std::string(64, 'a'),
                                "sha256:../../etc/passwd", "sha256:" + std::string(64, 'A')}) {
    auto up = uploads_.Begin(bad, false, 100);
    EXPECT_FALSE(up.ok()) << bad;
  }
  EXPECT_TRUE(Files().empty());
}

TEST_F(UploadTest, TheSameBytesTwiceAreStoredOnce) {
  const std::string digest = Sha256String("same");
  ASSERT_TRUE(Send("same", digest).ok());
  auto again = Send("same", digest);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->stored);
  EXPECT_EQ(Files().size(), 1u);
}

TEST_F(UploadTest, ASweepDeletesOnlyUnusedUploadsPastTheirGrace) {
  const std::string used = Sha256String("used"), unused = Sha256String("unused");
  ASSERT_TRUE(Send("used", used).ok());
  ASSERT_TRUE(Send("unused", unused).ok());
  auto in_use = [&](const std::string& d) { return d == used; };

  EXPECT_EQ(uploads_.Sweep(NowMillis(), kHour, in_use), 0) << "within the grace period";
  EXPECT_TRUE(uploads_.Uploaded(unused));

  EXPECT_EQ(uploads_.Sweep(NowMillis() + 2 * kHour, kHour, in_use), 1);
  EXPECT_FALSE(uploads_.Uploaded(unused));
  EXPECT_FALSE(ArtifactStore(Root(), dir_.path() + "/releases").Has(unused));
  EXPECT_TRUE(uploads_.Uploaded(used)) << "a version uses it";
}

TEST_F(UploadTest, AskingAboutAnUploadStartsItsGraceAgain) {
  const std::string digest = Sha256String("asked");
  ASSERT_TRUE(Send("asked", digest).ok());
  std::string marker = Root() + "/uploads/" + digest.substr(7);
  struct timespec old[2] = {{NowMillis() / 1000 - 7200, 0}, {NowMillis() / 1000 - 7200, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, marker.c_str(), old, 0), 0);
  uploads_.Touch(digest);
  EXPECT_EQ(uploads_.Sweep(NowMillis(), kHour, [](const std::string&) { return false; }), 0);
  EXPECT_TRUE(uploads_.Uploaded(digest));
}

}  // namespace
}  // namespace lastgood
