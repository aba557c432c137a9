#include "targets/remote/node_wire.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

using json = nlohmann::json;

TEST(NodeWire, ASpecTravelsWhole) {
  InstanceSpec spec;
  spec.id = "web-production-3-a1b2";
  spec.argv = {"./web", "--port", "${PORT}"};
  spec.env = {{"GREETING", "hello"}, {"EMPTY", ""}, {"DB_PASSWORD", "pa${X}ss"}};
  spec.verbatimEnv = {"DB_PASSWORD"};
  spec.cwd = "/var/lib/lastgood-node/releases/web/3";
  spec.port = 10234;
  spec.stopGrace = Millis(2500);
  auto back = SpecFromJson(json::parse(SpecToJson(spec).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->id, spec.id);
  EXPECT_EQ(back->argv, spec.argv);
  EXPECT_EQ(back->env, spec.env);
  EXPECT_EQ(back->verbatimEnv, spec.verbatimEnv);
  EXPECT_EQ(back->cwd, spec.cwd);
  EXPECT_EQ(back->port, 10234);
  EXPECT_EQ(back->stopGrace.count(), 2500);
  EXPECT_EQ(back->app, "");
  EXPECT_EQ(back->runUser, "");
}

TEST(NodeWire, ASpecCarriesItsAppAndRunUserForTheNodesConfinement) {
  InstanceSpec spec;
  spec.id = "web-production-3-a1b2";
  spec.argv = {"./web"};
  spec.cwd = "/var/lib/lastgood-node/releases/web/3";
  spec.app = "web";
  spec.runUser = "www-data";
  auto back = SpecFromJson(json::parse(SpecToJson(spec).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->app, "web");
  EXPECT_EQ(back->runUser, "www-data");

  for (auto [field, value] : {std::pair{"app", "../web"}, std::pair{"runUser", "a b"},
                              std::pair{"runUser", "-oops"}, std::pair{"runUser", "root;rm"}}) {
    json j = SpecToJson(spec);
    j[field] = value;
    auto bad = SpecFromJson(j);
    ASSERT_FALSE(bad.ok()) << field << "=" << value;
    EXPECT_EQ(bad.error().field, field);
  }
  ProbeSpec probe;
  probe.kind = ProbeSpec::Kind::kExec;
  probe.command = {"./check"};
  probe.cwd = spec.cwd;
  probe.app = "web";
  probe.runUser = "www-data";
  auto probe_back = ProbeFromJson(json::parse(ProbeToJson(probe).dump()));
  ASSERT_TRUE(probe_back.ok()) << probe_back.error().message;
  EXPECT_EQ(probe_back->app, "web");
  EXPECT_EQ(probe_back->runUser, "www-data");

  json no_app = SpecToJson(spec);
  no_app.erase("app");
  EXPECT_FALSE(SpecFromJson(no_app).ok()) << "a run.user with no app to confine";
}

TEST(NodeWire, ANodeNamesItsReleaseBuildAndCommitAndOneOfAnEarlierBuildItsReleaseAndBuild) {
  NodeInfo info{"3f1c", "0.10.0", "9a2e", "x86_64", 42, 3, "", ""};
  auto back = NodeInfoFromJson(json::parse(NodeInfoToJson(info).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->version, "0.10.0");
  EXPECT_EQ(back->buildId, "3f1c");
  EXPECT_EQ(back->commit, "9a2e");
  EXPECT_EQ(back->instances, 3);
  json earlier = NodeInfoToJson(info);
  earlier.erase("commit");
  back = NodeInfoFromJson(earlier);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->commit, "");
  EXPECT_EQ(back->version, "0.10.0");
}

TEST(NodeWire, ANodeSaysHowItConfinesDeployedCodeAndOneOfAnEarlierBuildSaysNothing) {
  NodeInfo info{"3f1c", "0.10.0", "9a2e", "x86_64", 42, 3, "none", "no user namespaces here"};
  auto back = NodeInfoFromJson(json::parse(NodeInfoToJson(info).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->confinement, "none");
  EXPECT_EQ(back->confinementDetail, "no user namespaces here");
  json earlier = NodeInfoToJson(info);
  earlier.erase("confinement");
  back = NodeInfoFromJson(earlier);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->confinement, "");
  json mistyped = NodeInfoToJson(info);
  mistyped["confinement"]["mode"] = 7;
  EXPECT_EQ(NodeInfoFromJson(mistyped).error().field, "confinement.mode");
  mistyped["confinement"] = "none";
  EXPECT_EQ(NodeInfoFromJson(mistyped).error().field, "confinement");
}

TEST(NodeWire, ASpecOverItsLimitsOrMistypedIsRefusedNamingTheField) {
  json base = {{"id", "a"}, {"argv", {"x"}}, {"cwd", "/r"}};
  auto with = [&](const char* k, json v) {
    json j = base;
    j[k] = std::move(v);
    return SpecFromJson(j);
  };
  EXPECT_EQ(with("argv", json::array()).error().field, "argv");
  EXPECT_EQ(with("argv", {1}).error().field, "argv");
  EXPECT_EQ(with("port", 70000).error().field, "port");
  EXPECT_EQ(with("port", 1.5).error().field, "port");
  EXPECT_EQ(with("stopGraceMs", -1).error().field, "stopGraceMs");
  EXPECT_EQ(with("env", {{{"name", "A=B"}, {"value", "x"}}}).error().field, "env");
  EXPECT_EQ(with("cwd", std::string("a\0b", 3)).error().field, "cwd");
  json many = base;
  many["argv"] = json::array();
  for (size_t i = 0; i <= kMaxSpecArgs; ++i) many["argv"].push_back("x");
  EXPECT_FALSE(SpecFromJson(many).ok());
  EXPECT_FALSE(SpecFromJson(json::array()).ok());
}

TEST(NodeWire, StatusAndInfoTravelWhole) {
  InstanceStatus s{true, 2, "exited with status 1", {"web-1", 42, 123456789012ULL, 8080}};
  auto back = InstanceStatusFromJson(json::parse(InstanceStatusToJson(s).dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->alive);
  EXPECT_EQ(back->restarts, 2);
  EXPECT_EQ(back->lastExit, "exited with status 1");
  EXPECT_EQ(back->handle.startTime, 123456789012ULL);
  NodeInfo info{"abc", "dev", "", "x86_64", 7, 3, "", ""};
  auto i = NodeInfoFromJson(NodeInfoToJson(info));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->buildId, "abc");
  EXPECT_EQ(i->instances, 3);
}

}  // namespace
}  // namespace lastgood
