#include "process/path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lastgood {
namespace {

namespace fs = std::filesystem;

TEST(ResolveCommand, APathWithASlashIsTakenAsWritten) {
  EXPECT_EQ(ResolveCommand("./web", "/usr/bin", "/nowhere"), "./web");
  EXPECT_EQ(ResolveCommand("/bin/sh", "", ""), "/bin/sh");
}

TEST(ResolveCommand, ABareNameIsTheFirstExecutableFileOnPath) {
  EXPECT_EQ(ResolveCommand("sh", "/no/such/dir:/bin:/usr/bin", ""), "/bin/sh");
  EXPECT_EQ(ResolveCommand("no-such-command-anywhere", kDefaultPath, ""), std::nullopt);
  EXPECT_EQ(ResolveCommand("", kDefaultPath, ""), std::nullopt);
}

// A program that lives only in an sbin folder (nginx, sshd) is found as under systemd.
TEST(ResolveCommand, TheDefaultPathFindsProgramsInSbinAsSystemdDoes) {
  ASSERT_TRUE(std::filesystem::exists("/usr/sbin/nologin"));
  EXPECT_EQ(ResolveCommand("nologin", kDefaultPath, ""), "/usr/sbin/nologin");
}

TEST(ResolveCommand, RelativeEntriesAreTakenFromTheChildsDirectory) {
  std::string tmpl = (fs::temp_directory_path() / "lg-path-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  fs::create_directories(dir + "/bin");
  std::ofstream(dir + "/bin/tool") << "#!/bin/sh\n";
  std::ofstream(dir + "/bin/plain") << "not executable\n";
  chmod((dir + "/bin/tool").c_str(), 0755);
  EXPECT_EQ(ResolveCommand("tool", "bin:/usr/bin", dir), "bin/tool");
  EXPECT_EQ(ResolveCommand("plain", "bin", dir), std::nullopt) << "not executable";
  EXPECT_EQ(ResolveCommand("bin", ":/usr/bin", dir), std::nullopt) << "a folder is no command";
  fs::remove_all(dir);
}

TEST(EnvBuilder, ALaterValueReplacesAnEarlierOneInPlace) {
  EnvBuilder env;
  env.Set("PATH", "/bin").Set("HOME", "/").Set("PATH", "/usr/bin");
  std::vector<std::string> built = env.Build();
  EXPECT_EQ(built, (std::vector<std::string>{"PATH=/usr/bin", "HOME=/"}));
  EXPECT_EQ(EnvValue(built, "PATH"), "/usr/bin");
  EXPECT_EQ(EnvValue(built, "PAT"), "");
  EXPECT_EQ(EnvValue(built, "NOPE"), "");
}

}  // namespace
}  // namespace lastgood
