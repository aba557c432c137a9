// The Debian package (`make deb`, scripts/deb): built from this build's binaries, unpacked
// into a scratch root, and checked as an installed system would use it — its files, its
// binary running from /usr/bin with the page found in /usr/share, its man page rendering
// without a warning, its completions parsing, its units passing systemd-analyze.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "testutil/process.h"
#include "testutil/wait.h"

namespace lastgood::testutil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran RunIn(const std::vector<std::string>& argv, const fs::path& scratch,
          std::chrono::milliseconds timeout = 60s) {
  static int serial = 0;
  std::string base = (scratch / ("run-" + std::to_string(++serial))).string();
  ProcessOptions o;
  o.argv = argv;
  o.stdout_path = base + ".out";
  o.stderr_path = base + ".err";
  Process p(o);
  Ran r;
  auto status = p.Wait(timeout);
  if (status && status->exited()) r.code = status->code;
  r.out = ReadFile(o.stdout_path);
  r.err = ReadFile(o.stderr_path);
  return r;
}

class Package : public ::testing::Test {
 protected:
  // ctest runs each test in a process of its own: the package is built once per build of
  // the binary (under a lock, in the build folder) and unpacked by each process.
  static void SetUpTestSuite() {
    scratch_ = new fs::path(fs::temp_directory_path() /
                            ("lastgood-package-" + std::to_string(::getpid())));
    fs::create_directories(*scratch_);
    deb_ = new std::string();
    build_error_ = new std::string();
    fs::path shared = fs::path(LASTGOOD_BUILD_DIR) / "package-test";
    fs::create_directories(shared);
    int lock = ::open((shared / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ::flock(lock, LOCK_EX);
    std::error_code ec;
    auto binary_time = fs::last_write_time(fs::path(LASTGOOD_BUILD_DIR) / "lastgood", ec);
    for (const auto& e : fs::directory_iterator(shared, ec))
      if (e.path().extension() == ".deb" && e.last_write_time() > binary_time) *deb_ = e.path();
    if (deb_->empty()) {
      for (const auto& e : fs::directory_iterator(shared, ec))
        if (e.path().extension() == ".deb") fs::remove(e.path(), ec);
      Ran built = RunIn({LASTGOOD_SOURCE_DIR "/scripts/deb", LASTGOOD_BUILD_DIR, shared.string()},
                        *scratch_, 180s);
      *deb_ = built.out.substr(0, built.out.find('\n'));
      if (built.code != 0)
        *build_error_ = "scripts/deb failed (exit " + std::to_string(built.code) + "):\n" +
                        built.out + built.err;
    }
    ::close(lock);
    if (build_error_->empty())
      RunIn({"/usr/bin/dpkg-deb", "-x", *deb_, (*scratch_ / "root").string()}, *scratch_);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*scratch_, ec);
    delete scratch_;
    delete deb_;
    delete build_error_;
  }
  void SetUp() override { ASSERT_TRUE(build_error_->empty()) << *build_error_; }
  static fs::path Root() { return *scratch_ / "root"; }
  static Ran Run(const std::vector<std::string>& argv) { return RunIn(argv, *scratch_); }

  static fs::path* scratch_;
  static std::string* deb_;
  static std::string* build_error_;
};

fs::path* Package::scratch_ = nullptr;
std::string* Package::deb_ = nullptr;
std::string* Package::build_error_ = nullptr;

TEST_F(Package, HoldsTheBinaryThePageTheUnitsTheManPageAndTheCompletions) {
  EXPECT_TRUE(std::regex_search(*deb_, std::regex(R"(lastgood_[0-9.]+(\+git[0-9]+)?_\w+\.deb$)")))
      << *deb_;
  for (const char* path :
       {"usr/bin/lastgood", "usr/share/lastgood/ui/index.html",
        "lib/systemd/system/lastgood.service", "lib/systemd/system/lastgood-node.service",
        "usr/share/man/man1/lastgood.1.gz", "usr/share/bash-completion/completions/lastgood",
        "usr/share/zsh/vendor-completions/_lastgood", "usr/share/doc/lastgood/copyright",
        "usr/share/doc/lastgood/changelog.gz", "usr/share/doc/lastgood/cli.md"})
    EXPECT_TRUE(fs::is_regular_file(Root() / path)) << path;
  Ran control = Run({"/usr/bin/dpkg-deb", "-f", *deb_, "Package", "Depends"});
  EXPECT_NE(control.out.find("Package: lastgood"), std::string::npos) << control.out;
  EXPECT_NE(control.out.find("libc6 (>="), std::string::npos) << control.out;
}

TEST_F(Package, ThePackagedBinaryRunsAndFindsItsPageUnderUsrShare) {
  std::string bin = (Root() / "usr/bin/lastgood").string();
  EXPECT_EQ(Run({bin, "--help"}).code, 0);
  // The packaged binary says which release it is, and it is the one the package names.
  Ran version = Run({bin, "--version"});
  EXPECT_EQ(version.code, 0) << version.err;
  Ran control = Run({"/usr/bin/dpkg-deb", "-f", *deb_, "Version"});
  // The package's version is the VERSION file's, with "+gitN" when built between releases.
  std::string packaged = control.out.substr(0, control.out.find_first_of("+\n"));
  EXPECT_FALSE(packaged.empty()) << control.out;
  EXPECT_EQ(version.out.rfind("lastgood " + packaged + " (", 0), 0u)
      << version.out << " / " << control.out;
  fs::path home = *scratch_ / "home";
  ProcessOptions o;
  o.argv = {bin, "serve", "--home", home.string(), "--ui", "127.0.0.1:0", "--no-router"};
  o.stderr_path = (*scratch_ / "serve.err").string();
  o.stdout_path = (*scratch_ / "serve.out").string();
  Process serve(o);
  std::string expected = "(assets " + (Root() / "usr/share/lastgood/ui").string() + ";";
  bool found =
      WaitUntil([&] { return ReadFile(o.stderr_path).find(expected) != std::string::npos; }, 10s);
  serve.Kill(SIGTERM);
  serve.Wait(10s);
  EXPECT_TRUE(found) << "serve did not use the packaged page:\n" << ReadFile(o.stderr_path);
}

TEST_F(Package, TheManPageRendersWithoutAWarningAndNamesEveryVerb) {
  Ran page = Run({"/bin/sh", "-c", "zcat \"$0\" | groff -man -Tutf8 -ww -z",
                  (Root() / "usr/share/man/man1/lastgood.1.gz").string()});
  EXPECT_EQ(page.code, 0);
  EXPECT_EQ(page.err, "") << "groff warned";
  Ran text =
      Run({"/bin/sh", "-c", "zcat \"$0\"", (Root() / "usr/share/man/man1/lastgood.1.gz").string()});
  for (const char* verb : {"apply", "rollback", "rollforward", "promote", "history", "swap",
                           "traffic", "token create", "completion"})
    EXPECT_NE(text.out.find(std::string(".SS \"lastgood ") + verb + "\""), std::string::npos)
        << verb;
}

TEST_F(Package, TheCompletionsParseInTheirShells) {
  EXPECT_EQ(
      Run({"/bin/bash", "-n", (Root() / "usr/share/bash-completion/completions/lastgood").string()})
          .code,
      0);
  Ran zsh =
      Run({"/usr/bin/zsh", "-n", (Root() / "usr/share/zsh/vendor-completions/_lastgood").string()});
  EXPECT_EQ(zsh.code, 0) << zsh.err;
}

// systemd-analyze checks the units as systemd would load them: every directive known and
// well-formed, the ExecStart binary there and executable (pointed at the unpacked one).
TEST_F(Package, TheUnitsPassSystemdAnalyzeVerify) {
  for (const char* unit : {"lastgood.service", "lastgood-node.service"}) {
    std::string text = ReadFile((Root() / "lib/systemd/system" / unit).string());
    ASSERT_NE(text.find("KillMode=process"), std::string::npos)
        << unit << ": a restart must not kill the router and the instances";
    text = std::regex_replace(text, std::regex("/usr/bin/lastgood"),
                              (Root() / "usr/bin/lastgood").string());
    fs::path copy = *scratch_ / unit;
    std::ofstream(copy) << text;
    Ran verify = Run({"/usr/bin/systemd-analyze", "verify", "--man=no", copy.string()});
    EXPECT_EQ(verify.code, 0) << verify.err;
    EXPECT_EQ(verify.err, "") << unit;
  }
}

}  // namespace
}  // namespace lastgood::testutil
