#include "artifacts/artifact_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lg-artifacts-XXXXXX").string();
    home_ = mkdtemp(tmpl.data());
    fs::create_directories(home_ + "/src");
    store_ = std::make_unique<ArtifactStore>(home_ + "/artifacts", home_ + "/releases");
  }
  void TearDown() override { fs::remove_all(home_); }

  std::string Write(const std::string& rel, const std::string& content, mode_t mode = 0644) {
    std::string path = home_ + "/src/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
    return path;
  }
  // Test only: tar through the shell is fine here, never in the product.
  void Tar(const std::string& args) {
    ASSERT_EQ(std::system(("cd '" + home_ + "/src' && tar " + args + " 2>/dev/null").c_str()), 0);
  }
  std::string Objects() { return home_ + "/artifacts/sha256"; }

  std::string home_;
  std::unique_ptr<ArtifactStore> store_;
  ArtifactStore& store() { return *store_; }
};

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

TEST(Sha256, MatchesTheStandardTestVector) {
  EXPECT_EQ(Sha256String("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ArtifactStoreTest, StoresAFileUnderItsDigestAndKnowsIt) {
  std::string path = Write("web.bin", "release one");
  Result<std::string> digest = store().Put(path);
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(*digest, Sha256String("release one"));
  EXPECT_EQ(*digest, *Sha256File(path));
  EXPECT_TRUE(store().Has(*digest));
  std::string object = Objects() + "/" + digest->substr(7);
  EXPECT_EQ(Read(object), "release one");
  EXPECT_EQ(fs::status(object).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_FALSE(store().Has(Sha256String("something else")));
  EXPECT_FALSE(store().Has("sha256:../../etc/passwd"));
}

TEST_F(ArtifactStoreTest, StoresTheSameContentOnce) {
  Result<std::string> a = store().Put(Write("a", "same bytes"));
  Result<std::string> b = store().Put(Write("b", "same bytes"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(Objects())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "one object, no temp files left";
}

TEST_F(ArtifactStoreTest, RefusesWhatIsNotARegularFileOfAcceptableSize) {
  Result<std::string> dir = store().Put(home_ + "/src");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(dir.error().message.find("is not a regular file"), std::string::npos);

  std::string fifo = home_ + "/src/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(store().Put(fifo).error().code, ErrorCode::kInvalidInput);  // and does not hang

  EXPECT_EQ(store().Put(home_ + "/src/missing").error().code, ErrorCode::kInvalidInput);

  std::string huge = Write("huge", "");
  ASSERT_EQ(truncate(huge.c_str(), static_cast<off_t>(kMaxArtifactBytes + 1)), 0);  // sparse
  Result<std::string> too_big = store().Put(huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("the limit is"), std::string::npos);
}

TEST_F(ArtifactStoreTest, ExtractsATarGzIntoTheReleaseDirectory) {
  Write("app/bin/web", "#!/bin/sh\necho hi\n", 0755);
  Write("app/conf/greeting.txt", "hello");
  Tar("-czf web.tar.gz -C app .");
  Result<std::string> digest = store().Put(home_ + "/src/web.tar.gz");
  ASSERT_TRUE(digest.ok()) << digest.error().message;

  Result<std::string> dir = store().EnsureRelease("web", 3, *digest, "web.tar.gz");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_EQ(*dir, home_ + "/releases/web/3");
  EXPECT_EQ(Read(*dir + "/conf/greeting.txt"), "hello");
  EXPECT_TRUE(Executable(*dir + "/bin/web"));
  EXPECT_FALSE(fs::exists(*dir + "/web.tar.gz"));
}

TEST_F(ArtifactStoreTest, CopiesAPlainFileKeepingItsExecutableBit) {
  Result<std::string> bin = store().Put(Write("server", "binary", 0755));
  Result<std::string> conf = store().Put(Write("config.json", "{}", 0644));
  ASSERT_TRUE(bin.ok() && conf.ok());
  Result<std::string> d1 = store().EnsureRelease("web", 1, *bin, "server");
  Result<std::string> d2 = store().EnsureRelease("web", 2, *conf, "config.json");
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(Read(*d1 + "/server"), "binary");
  EXPECT_TRUE(Executable(*d1 + "/server"));
  EXPECT_EQ(Read(*d2 + "/config.json"), "{}");
  EXPECT_FALSE(Executable(*d2 + "/config.json"));
}

TEST_F(ArtifactStoreTest, EnsureReleaseIsIdempotent) {
  Result<std::string> digest = store().Put(Write("server", "v1", 0755));
  ASSERT_TRUE(digest.ok());
  Result<std::string> first = store().EnsureRelease("web", 1, *digest, "server");
  ASSERT_TRUE(first.ok());
  std::ofstream(*first + "/written-by-the-instance") << "state";
  Result<std::string> second = store().EnsureRelease("web", 1, *digest, "server");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(Read(*second + "/written-by-the-instance"), "state") << "not rebuilt";
  int entries = 0;
  for (const auto& e : fs::directory_iterator(home_ + "/releases/web")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "no temp directories left beside it";
}

TEST_F(ArtifactStoreTest, RebuildsAReleaseThatWasNeverCompleted) {
  Result<std::string> digest = store().Put(Write("server", "v1", 0755));
  ASSERT_TRUE(digest.ok());
  fs::create_directories(home_ + "/releases/web/1");  // a crash before the marker
  Result<std::string> dir = store().EnsureRelease("web", 1, *digest, "server");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_EQ(Read(*dir + "/server"), "v1");
}

TEST_F(ArtifactStoreTest, AnEmptyDigestGivesAnEmptyReleaseDirectory) {
  Result<std::string> dir = store().EnsureRelease("web", 1, "", "");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_TRUE(fs::is_directory(*dir));
}

TEST_F(ArtifactStoreTest, RefusesBadNamesAndMissingArtifacts) {
  Result<std::string> digest = store().Put(Write("server", "v1"));
  ASSERT_TRUE(digest.ok());
  for (std::string name : {"../server", "a/b", "..", ""}) {
    Result<std::string> r = store().EnsureRelease("web", 1, *digest, name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << name;
  }
  EXPECT_EQ(store().EnsureRelease("../web", 1, *digest, "server").error().code,
            ErrorCode::kInvalidInput);
  std::string absent = Sha256String("never stored");
  Result<std::string> missing = store().EnsureRelease("web", 1, absent, "server");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "artifact " + absent + " is not in the store");
  EXPECT_FALSE(fs::exists(home_ + "/releases/web/1"));
}

TEST_F(ArtifactStoreTest, RefusesATarWithMembersOutsideTheReleaseDirectory) {
  Write("inside/x", "x");
  Write("escape", "boom");
  Tar("-P -cf dotdot.tar -C inside ../escape");  // -P keeps the '..' in the member name
  Tar("-P -cf absolute.tar '" + home_ + "/src/escape'");
  for (std::string name : {"dotdot.tar", "absolute.tar"}) {
    Result<std::string> digest = store().Put(home_ + "/src/" + name);
    ASSERT_TRUE(digest.ok());
    Result<std::string> r = store().EnsureRelease("web", 1, *digest, name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find("outside its directory"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(home_ + "/releases/web/1"));
  }
  EXPECT_FALSE(fs::exists(home_ + "/releases/escape"));
}

TEST_F(ArtifactStoreTest, RefusesATarThatIsNotATar) {
  Result<std::string> digest = store().Put(Write("broken.tgz", "not gzip at all"));
  ASSERT_TRUE(digest.ok());
  Result<std::string> r = store().EnsureRelease("web", 1, *digest, "broken.tgz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("not a readable tar archive"), std::string::npos);
}

// The marker is written after extraction: a member of that name (a symlink out of the
// directory, which GNU tar creates last) would have made the controller write through it.
TEST_F(ArtifactStoreTest, RefusesATarThatWouldPlaceItsOwnReleaseMarker) {
  const std::string victim = home_ + "/victim";
  std::ofstream(victim) << "precious\n";
  fs::create_directories(home_ + "/src/evil");
  fs::create_symlink(victim, home_ + "/src/evil/.lastgood-release");
  Tar("-cf link.tar -C evil .lastgood-release");
  Tar("-cf dotslash.tar -C evil ./.lastgood-release");
  int version = 0;
  for (std::string name : {"link.tar", "dotslash.tar"}) {
    Result<std::string> digest = store().Put(home_ + "/src/" + name);
    ASSERT_TRUE(digest.ok());
    Result<std::string> r = store().EnsureRelease("web", ++version, *digest, name);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
      EXPECT_NE(r.error().message.find(".lastgood-release"), std::string::npos)
          << r.error().message;
    } else {
      ADD_FAILURE() << name << " was extracted";
    }
    EXPECT_EQ(Read(victim), "precious\n") << name;
    EXPECT_FALSE(fs::exists(home_ + "/releases/web/" + std::to_string(version)));
  }
}

// Symlinks may point anywhere, but the store never follows one out of the release: the
// release is built and the target outside is neither read nor written.
TEST_F(ArtifactStoreTest, ExtractsSymlinksWithoutWritingThroughThem) {
  const std::string outside = home_ + "/outside";
  fs::create_directories(outside);
  fs::create_directories(home_ + "/src/app");
  fs::create_symlink(outside, home_ + "/src/app/out");
  Write("app/out-file", "inside");
  // A member written "through" the link: GNU tar makes the link a placeholder until the end.
  Tar("-cf through.tar -C app out --transform=s,out-file,out/file, out-file");
  Result<std::string> digest = store().Put(home_ + "/src/through.tar");
  ASSERT_TRUE(digest.ok());
  Result<std::string> r = store().EnsureRelease("web", 1, *digest, "through.tar");
  if (r.ok()) {
    EXPECT_TRUE(fs::is_symlink(*r + "/out"));
  }
  EXPECT_FALSE(fs::exists(outside + "/file"));
}

// A tar.gz of a few hundred bytes that unpacks to `gib` GiB (a sparse file, archived as one:
// what its members would write is what counts).
std::string Bomb(const std::string& home, int gib) {
  std::string dir = home + "/src";
  EXPECT_EQ(std::system(("cd '" + dir + "' && truncate -s " + std::to_string(gib) +
                         "G huge && tar --sparse -czf bomb.tar.gz huge && rm huge")
                            .c_str()),
            0);
  return dir + "/bomb.tar.gz";
}

TEST_F(ArtifactStoreTest, ADecompressionBombIsRefusedNamingTheLimitAndItsFlagAndUnpacksNothing) {
  store_ = std::make_unique<ArtifactStore>(home_ + "/artifacts", home_ + "/releases", 16ULL << 20);
  std::string bomb = Bomb(home_, 4);
  Status fits = store().CheckFits(bomb, "bomb.tar.gz");
  ASSERT_FALSE(fits.ok());
  EXPECT_EQ(fits.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(fits.error().field, "run.artifact");
  EXPECT_NE(fits.error().message.find("16 MiB, the limit (serve --max-release-size)"),
            std::string::npos)
      << fits.error().message;
  // Stored anyway (by an older controller with a larger limit): unpacking it is refused too.
  auto digest = store().Put(bomb);
  ASSERT_TRUE(digest.ok());
  auto release = store().EnsureRelease("web", 1, *digest, "bomb.tar.gz");
  ASSERT_FALSE(release.ok());
  EXPECT_NE(release.error().message.find("--max-release-size"), std::string::npos);
  EXPECT_FALSE(fs::exists(home_ + "/releases/web/1"));
  for (const auto& e : fs::directory_iterator(home_ + "/releases/web"))
    ADD_FAILURE() << "left behind: " << e.path();
}

TEST_F(ArtifactStoreTest, APlainArtifactLargerThanTheReleaseLimitIsRefused) {
  store_ = std::make_unique<ArtifactStore>(home_ + "/artifacts", home_ + "/releases", 1000);
  std::string big = Write("big.bin", std::string(2000, 'x'));
  EXPECT_FALSE(store().CheckFits(big, "big.bin").ok());
  EXPECT_TRUE(store().CheckFits(Write("small.bin", "x"), "small.bin").ok());
}

TEST_F(ArtifactStoreTest, InspectGivesPutsDigestAndStoresNothing) {
  std::string file = Write("app.bin", "bits");
  auto inspected = store().Inspect(file);
  ASSERT_TRUE(inspected.ok());
  EXPECT_FALSE(fs::exists(Objects()));
  bool added = false;
  EXPECT_EQ(*store().Put(file, &added), *inspected);
  EXPECT_TRUE(added);
  EXPECT_EQ(*store().Put(file, &added), *inspected);
  EXPECT_FALSE(added);
  store().Remove(*inspected);
  EXPECT_FALSE(store().Has(*inspected));
}

// A rollback taking over stops the unpacking of the release it replaces at once, instead of
// waiting for it (issue 11 A6).
TEST_F(ArtifactStoreTest, CancelReleasesStopsAnUnpackingInProgress) {
  std::string big = Bomb(home_, 64);  // counting 64 GiB would take a minute
  store_ = std::make_unique<ArtifactStore>(home_ + "/artifacts", home_ + "/releases", 64ULL << 30);
  auto digest = store().Put(big);
  ASSERT_TRUE(digest.ok());
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done) {
      store().CancelReleases("web");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto release = store().EnsureRelease("web", 1, *digest, "bomb.tar.gz");
  done = true;
  canceller.join();
  ASSERT_FALSE(release.ok());
  EXPECT_EQ(release.error().code, ErrorCode::kUnavailable) << release.error().message;
  EXPECT_NE(release.error().message.find("took over"), std::string::npos);
  EXPECT_FALSE(fs::exists(home_ + "/releases/web/1"));
}

}  // namespace
}  // namespace lastgood
