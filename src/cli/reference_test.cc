#include "cli/reference.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace lastgood::cli {
namespace {

// A small CLI of the same shape as lastgood's: a global flag, a verb with a positional and
// flags, a verb with sub-verbs, and a hidden verb.
struct SampleCli {
  CLI::App app{"lastgood: a release controller"};
  std::string home, file, name, role, secret;
  std::vector<std::string> params;
  bool force = false;
  SampleCli() {
    app.add_option("--home", home, "state directory")->envname("LASTGOOD_HOME");
    auto* apply = app.add_subcommand("apply", "deploy a manifest");
    apply->add_option("-f,--file", file, "the manifest")->required();
    apply->add_option("--param", params, "K=V: a parameter");
    apply->add_flag("--force", force, "even a bad version");
    auto* token = app.add_subcommand("token", "API tokens");
    auto* create = token->add_subcommand("create", "make a token [printed once]");
    create->add_option("--name", name, "who: 'ci-bot'");
    create->add_option("--role", role, "viewer|deployer|admin");
    token->add_subcommand("list", "the tokens");
    app.add_subcommand("secret-verb", "hidden")->group("");
    app.add_subcommand("status", "an app's slots")->add_option("APP", name, "the app");
  }
};

// Runs `bash -c script` and returns what it printed; the script never comes from a user.
std::string Bash(const std::string& script) {
  std::string path = std::filesystem::temp_directory_path() / "lastgood-reference-test.sh";
  std::ofstream(path) << script;
  std::string out;
  FILE* p = ::popen(("bash " + path + " 2>&1").c_str(), "r");
  std::array<char, 256> buf{};
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (p) ::pclose(p);
  std::filesystem::remove(path);
  return out;
}

TEST(ManPage, ListsEveryVisibleVerbWithItsFlagsAndNoHiddenOne) {
  SampleCli cli;
  std::string page = ManPage(cli.app, "1.2.3");
  EXPECT_NE(page.find(".TH LASTGOOD 1 \"\" \"lastgood 1.2.3\""), std::string::npos);
  EXPECT_NE(page.find("lastgood \\- a release controller"), std::string::npos);
  EXPECT_NE(page.find(".SS \"lastgood apply\""), std::string::npos);
  EXPECT_NE(page.find("\\fB\\-f\\fR, \\fB\\-\\-file\\fR \\fITEXT\\fR"), std::string::npos);
  EXPECT_NE(page.find(".SS \"lastgood token create\""), std::string::npos);
  EXPECT_NE(page.find("\\fIAPP\\fR"), std::string::npos);
  EXPECT_NE(page.find("(environment: \\fBLASTGOOD_HOME\\fR)"), std::string::npos);
  EXPECT_EQ(page.find("secret-verb"), std::string::npos);
  EXPECT_NE(page.find(".SH EXIT STATUS"), std::string::npos);
}

TEST(ManPage, EscapesWhatRoffWouldTakeForARequest) {
  CLI::App app{"lastgood: x"};
  app.add_subcommand("v", ".starts with a dot\\and a backslash");
  std::string page = ManPage(app, "");
  EXPECT_NE(page.find("\\&.starts with a dot\\eand a backslash"), std::string::npos) << page;
}

TEST(ManPage, WritesCharactersBeyondAsciiByTheirCodePoint) {
  CLI::App app{"lastgood: back — at once"};
  app.add_subcommand("v", "p99 ≤ 250ms");
  std::string page = ManPage(app, "");
  EXPECT_NE(page.find("back \\[u2014] at once"), std::string::npos) << page;
  EXPECT_NE(page.find("p99 \\[u2264] 250ms"), std::string::npos) << page;
}

TEST(BashCompletion, CompletesVerbsSubVerbsFlagsAndFilesAfterAFlagWithAValue) {
  SampleCli cli;
  std::string script = BashCompletion(cli.app);
  auto complete = [&](const std::string& words, int cword) {
    return Bash(script + "\nCOMP_WORDS=(" + words + ")\nCOMP_CWORD=" + std::to_string(cword) +
                "\n_lastgood\necho \"${COMPREPLY[*]}\"\n");
  };
  EXPECT_EQ(complete("lastgood ap ''", 1), "apply\n");
  EXPECT_EQ(complete("lastgood token c", 2), "create\n");
  EXPECT_EQ(complete("lastgood token create --r", 3), "--role\n");
  EXPECT_EQ(complete("lastgood apply --fo", 2), "--force\n");
  EXPECT_EQ(complete("lastgood apply --h", 2), "--home\n");  // global flags after the verb
  // After -f comes a file name: the script's own folder lists this test's temp file.
  std::string files =
      complete("lastgood apply -f " + std::filesystem::temp_directory_path().string() + "/", 3);
  EXPECT_EQ(files.find("--force"), std::string::npos) << files;
  EXPECT_EQ(complete("lastgood secret-v", 1), "\n");
}

TEST(ZshCompletion, IsValidZshWithEveryVerbDescribed) {
  SampleCli cli;
  std::string script = ZshCompletion(cli.app);
  EXPECT_EQ(script.rfind("#compdef lastgood\n", 0), 0u);
  EXPECT_NE(script.find("'token:API tokens'"), std::string::npos);
  EXPECT_NE(script.find("'create:make a token \\[printed once\\]'"), std::string::npos);
  EXPECT_NE(script.find("'--name[who\\: '\\''ci-bot'\\'']:TEXT:_files' \\"), std::string::npos)
      << script;
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/zsh")) << "scripts/setup installs zsh";
  std::string path = std::filesystem::temp_directory_path() / "_lastgood_test";
  std::ofstream(path) << script;
  int rc = std::system(("/usr/bin/zsh -n " + path).c_str());
  std::filesystem::remove(path);
  EXPECT_EQ(WEXITSTATUS(rc), 0);
}

}  // namespace
}  // namespace lastgood::cli
