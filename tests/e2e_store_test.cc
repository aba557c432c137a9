// End-to-end: the store as one file (backup, restore) and nothing running off the record.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;

TEST(Store, BackupWhileRunningAndRestoreBringBackTheHistoryOfThatMoment) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  const std::string file = lg.home() + "/snapshot.db";
  lg.When().Run({"backup", file}).Then().ExitCode(0);
  lg.When().Applied({"--param", "label=v2"}).Then().HistorySize(2);

  // A running controller holds the store: restore refuses and changes nothing.
  lg.When().Run({"restore", file, "-o", "json"}).Then().ExitCode(3).Error("conflict");
  lg.Then().HistorySize(2);

  lg.Given().KillController(SIGTERM);
  lg.When().Run({"restore", file}).Then().ExitCode(0).OutputHas("restored");
  lg.When().StartController().WaitForIdle();
  lg.Then().HistorySize(1).VersionCount(1).Serves("v1");
  // v2's instances ran off the restored record: they were stopped, nothing runs unrecorded.
  EXPECT_EQ(lg.InstancePids().size(), 1u);
}

TEST(Store, RestoreRefusesAFileThatIsNotAnIntactLastgoodStore) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().KillController(SIGTERM);
  const std::string garbage = lg.home() + "/garbage.db";
  std::ofstream(garbage) << "this is not a database";
  lg.When().Run({"restore", garbage, "-o", "json"}).Then().ExitCode(2).Error("invalid_input");
  lg.When().Run({"restore", lg.home() + "/missing.db", "-o", "json"}).Then().ExitCode(4);
  lg.When().StartController().Then().HistorySize(1);
}

// The snapshot holds the whole history, the audit and the tokens' hashes: its file is the
// owner's alone, whether the controller sent it or the CLI took it with none running.
TEST(Store, BackupIsWrittenForItsOwnerOnlyWithOrWithoutARunningController) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  const std::string online = lg.home() + "/online.db", offline = lg.home() + "/offline.db";
  ::umask(022);
  lg.When().Run({"backup", online}).Then().ExitCode(0);
  auto audit = lg.Json({"audit"});
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0].value("action", ""), "POST /v1/backup") << audit.dump(2);
  EXPECT_EQ(audit[0].value("status", 0), 200);
  lg.Given().KillController(SIGTERM);
  lg.When().Run({"backup", offline}).Then().ExitCode(0);
  for (const auto& file : {online, offline}) {
    auto perms = std::filesystem::status(file).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << file;
  }
  // Both are whole snapshots that restore.
  for (const auto& file : {online, offline}) {
    lg.When().Run({"restore", file}).Then().ExitCode(0);
  }
  lg.When().StartController().Then().HistorySize(1).Serves("v1");
}

TEST(Store, BackupNeverOverwritesAFile) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  const std::string file = lg.home() + "/taken.db";
  std::ofstream(file) << "keep me";
  lg.When().Run({"backup", file, "-o", "json"}).Then().ExitCode(2).Error("invalid_input");
  std::ifstream in(file);
  std::string kept;
  std::getline(in, kept);
  EXPECT_EQ(kept, "keep me");
}

}  // namespace
