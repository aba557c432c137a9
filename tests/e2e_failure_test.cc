// End-to-end: deployments that fail (issue 2, items 4-6): an instance that crashes at start,
// an argv[0] that does not exist, readiness that never passes before the progress deadline;
// the automatic rollback they cause (rollback.onError, apply --rollback-on-error[=NAME]) and
// the reason recorded. Real controller and sample instances (tests/testutil/lastgood.h).
#include <gtest/gtest.h>

#include "testutil/lastgood.h"

namespace {

using lastgood::testutil::Lastgood;
using lastgood::testutil::SampleApp;
using nlohmann::json;

bool Has(const json& j, const std::string& key, const std::string& text) {
  return j[key].is_string() && j[key].get<std::string>().find(text) != std::string::npos;
}

// Expects history (newest first) to end with: deploy of `bad` Failed, then an automatic
// rollback to `good` that Succeeded, and returns the failed deployment's reason.
std::string ExpectFailedAndRolledBack(Lastgood& lg, int bad, int good) {
  auto h = lg.History();
  if (h.size() < 2) {
    ADD_FAILURE() << "history too short:\n" << h.dump(2);
    return "";
  }
  const json& rollback = h[0];
  const json& failed = h[1];
  EXPECT_EQ(failed["version"], bad) << h.dump(2);
  EXPECT_EQ(failed["kind"], "deploy") << h.dump(2);
  EXPECT_EQ(failed["state"], "Failed") << h.dump(2);
  EXPECT_EQ(rollback["kind"], "rollback") << h.dump(2);
  EXPECT_EQ(rollback["trigger"], "auto") << h.dump(2);
  EXPECT_EQ(rollback["version"], good) << h.dump(2);
  EXPECT_EQ(rollback["state"], "Succeeded") << h.dump(2);
  EXPECT_TRUE(Has(rollback, "reason", failed["name"].get<std::string>()))
      << "the automatic rollback names the deployment that failed:\n"
      << h.dump(2);
  lg.Then().Verdict(bad, "bad").Verdict(good, "good");
  return failed["reason"].get<std::string>();
}

TEST(Failure, CrashOnStartFailsTheDeploymentAndRollsBackToTheLastGoodVersion) {
  Lastgood lg;
  lg.Given().App(SampleApp().Replicas(2)).Applied().Applied({"--param", "label=v2"});

  lg.When().Apply({"--param", "label=v3", "--param", "crashOnStart=true"});

  lg.Then().ExitCode(1).OutputHas("Failed").OutputHas("rollback");
  std::string reason = ExpectFailedAndRolledBack(lg, 3, 2);
  EXPECT_NE(reason.find("instance web-production-v3-"), std::string::npos) << reason;
  lg.Then().Serves("v2", 2).VersionCount(3);
  EXPECT_EQ(lg.InstancePids().size(), 2u) << "no instance of v3 is left";
}

TEST(Failure, MissingProgramFailsTheDeploymentWithAReasonNamingIt) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().Program("./no-such-program").Label("v2"));

  lg.When().Apply();

  lg.Then().ExitCode(1);
  std::string reason = ExpectFailedAndRolledBack(lg, 2, 1);
  EXPECT_NE(reason.find("no-such-program"), std::string::npos) << reason;
  EXPECT_NE(reason.find("instance web-production-v2-"), std::string::npos) << reason;
  lg.Then().Serves("v1", 1);
}

TEST(Failure, ReadinessThatNeverPassesFailsAtTheProgressDeadlineNamingInstanceProbeAndResult) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().ProgressDeadline("1s"));

  lg.When().Apply({"--param", "label=v2", "--param", "healthy=false"});

  lg.Then().ExitCode(1);
  std::string reason = ExpectFailedAndRolledBack(lg, 2, 1);
  EXPECT_NE(reason.find("progress deadline"), std::string::npos) << reason;
  EXPECT_NE(reason.find("instance web-production-v2-"), std::string::npos) << reason;
  EXPECT_NE(reason.find("readiness probe"), std::string::npos) << reason;
  EXPECT_NE(reason.find("/healthz"), std::string::npos) << reason;
  EXPECT_NE(reason.find("500"), std::string::npos) << "the probe's last result:\n" << reason;
  lg.Then().Serves("v1", 1);
}

TEST(Failure, FirstDeploymentThatFailsHasNothingToRollBackTo) {
  Lastgood lg;
  lg.Given().App(SampleApp().CrashOnStart());

  lg.When().Apply();

  lg.Then().ExitCode(1);
  auto h = lg.History();
  ASSERT_EQ(h.size(), 1u) << h.dump(2);
  EXPECT_EQ(h[0]["state"], "Failed");
  lg.Then().Verdict(1, "bad");
  EXPECT_TRUE(lg.InstancePids().empty());
}

TEST(Failure, OnErrorNoneLeavesTheFailedDeploymentWithoutRollback) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().OnError("none"));

  lg.When().Apply({"--param", "label=v2", "--param", "crashOnStart=true"});

  lg.Then().ExitCode(1);
  auto h = lg.History();
  ASSERT_EQ(h.size(), 2u) << "no rollback was recorded:\n" << h.dump(2);
  EXPECT_EQ(h[0]["version"], 2);
  EXPECT_EQ(h[0]["state"], "Failed");
  for (const auto& d : h) EXPECT_NE(d["kind"], "rollback") << h.dump(2);
  lg.Then().Verdict(2, "bad");
}

TEST(Failure, RollbackOnErrorNameRollsBackToThatDeploymentsVersion) {
  Lastgood lg;
  lg.Given().App(SampleApp().OnError("none")).Applied({"--name", "first"});
  lg.Given().Applied({"--param", "label=v2", "--name", "second"});

  lg.When().Apply(
      {"--param", "label=v3", "--param", "crashOnStart=true", "--rollback-on-error=first"});

  lg.Then().ExitCode(1);
  ExpectFailedAndRolledBack(lg, 3, 1);
  lg.Then().Serves("v1", 1);
}

TEST(Failure, RollbackOnErrorWithoutNameOverridesOnErrorNone) {
  Lastgood lg;
  lg.Given().App(SampleApp().OnError("none")).Applied();

  lg.When().Apply({"--param", "label=v2", "--param", "crashOnStart=true", "--rollback-on-error"});

  lg.Then().ExitCode(1);
  ExpectFailedAndRolledBack(lg, 2, 1);
  lg.Then().Serves("v1", 1);
}

TEST(Failure, RollbackOnErrorNamingAnUnknownDeploymentIsRefusedAndChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();

  lg.When().Apply({"--param", "label=v2", "--rollback-on-error=nope", "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input", "--rollback-on-error");
  lg.Then().VersionCount(1).HistorySize(1).Serves("v1");
}

TEST(Failure, InstanceFailingReadinessDuringBakeFailsTheDeployment) {
  Lastgood lg;
  // Ready while the flag file is absent; the test creates it during the bake, in the app's
  // state folder: the one place of the home its probe can see.
  std::string flag = lg.home() + "/state/web/unhealthy";
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(
      SampleApp().Bake("5s").Readiness("{ exec: [\"/usr/bin/test\", \"!\", \"-e\", \"" + flag +
                                       "\"], interval: 100ms, timeout: 1s, failureThreshold: 2 }"));

  lg.When().Run({"apply", "-f", lg.home() + "/web.yaml", "--param", "label=v2", "--no-wait"});
  lg.Then().ExitCode(0);
  lg.WaitForStep("bake");
  std::ofstream(flag) << "x";
  lg.WaitForIdle();

  ExpectFailedAndRolledBack(lg, 2, 1);
  lg.Then().Serves("v1", 1);
}

}  // namespace
