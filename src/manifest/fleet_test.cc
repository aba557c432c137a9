#include "manifest/fleet.h"

#include <gtest/gtest.h>

#include "manifest/canonical.h"
#include "manifest/testing.h"

namespace lastgood {
namespace {

using namespace manifest_testing;

TEST(FleetSection, AbsentMeansThisMachineAndLeavesTheCanonicalFormAsItWas) {
  Manifest m = Parse(kMinimalManifest);
  EXPECT_FALSE(m.fleet.enabled());
  EXPECT_EQ(ToCanonicalYaml(m).find("hosts"), std::string::npos);
}

TEST(FleetSection, ReadsAListWavesAndLimitsAndWritesThemBackCanonically) {
  Manifest m =
      Parse(With("hosts: [web1, web2, web3]\nwaves: [1, 50%, 100%]\n"
                 "maxFailedHosts: 1\nmaxParallel: 2\n"));
  EXPECT_EQ(m.fleet.hosts, (std::vector<std::string>{"web1", "web2", "web3"}));
  ASSERT_EQ(m.fleet.waves.size(), 3u);
  EXPECT_EQ(m.fleet.waves[1], (HostCount{50, true}));
  EXPECT_EQ(m.fleet.maxFailedHosts, (HostCount{1, false}));
  EXPECT_EQ(m.fleet.maxParallel, 2);
  Manifest again = Parse(ToCanonicalYaml(m));
  EXPECT_EQ(again.fleet, m.fleet);
}

TEST(FleetSection, ReadsASelectorWithDefaults) {
  Manifest m = Parse(With("hosts: { selector: { role: web, zone: a } }\n"));
  EXPECT_EQ(m.fleet.selector.at("role"), "web");
  EXPECT_TRUE(m.fleet.waves.empty());
  EXPECT_EQ(m.fleet.maxFailedHosts, (HostCount{0, false}));
  EXPECT_EQ(m.fleet.maxParallel, kDefaultMaxParallel);
  EXPECT_EQ(Parse(ToCanonicalYaml(m)).fleet, m.fleet);
}

TEST(FleetSection, RefusesWhatCannotBeAFleetWithFieldAndLine) {
  Error e = ParseError(With("waves: [1, 100%]\n"));
  EXPECT_EQ(e.field, "waves");
  EXPECT_EQ(e.line, 4);
  e = ParseError(With("hosts: [web1, web1]\n"));
  EXPECT_EQ(e.field, "hosts[1]");
  e = ParseError(With("hosts: [web1]\nwaves: [2, 1]\n"));
  EXPECT_EQ(e.field, "waves[1]");
  EXPECT_EQ(e.line, 5);
  e = ParseError(With("hosts: [web1]\nwaves: [1, 120%]\n"));
  EXPECT_EQ(e.field, "waves[1]");
  e = ParseError(With("hosts: [web1]\nmaxFailedHosts: -1\n"));
  EXPECT_EQ(e.field, "maxFailedHosts");
  e = ParseError(With("hosts: [web1]\nmaxParallel: 0\n"));
  EXPECT_EQ(e.field, "maxParallel");
  e = ParseError(With("hosts: { selector: {} }\n"));
  EXPECT_EQ(e.field, "hosts.selector");
  e = ParseError(With("hosts: { role: web }\n"));
  EXPECT_EQ(e.field, "hosts.role");
  e = ParseError(With("hosts: [Web_1]\n"));
  EXPECT_EQ(e.field, "hosts[0]");
}

TEST(FleetSection, ARollingAnalysisIsReadForAFleetAndWrittenBackOnlyWhenSet) {
  const std::string rolling =
      "strategy:\n  type: rolling\n  rolling:\n    maxSurge: 1\n"
      "    analysis: { window: 5s, minRequests: 30, maxErrorRate: 0.02 }\n";
  Manifest m = Parse(With(rolling + "hosts: [web1, web2]\n"));
  ASSERT_TRUE(m.strategy.rolling.analysis.has_value());
  EXPECT_EQ(m.strategy.rolling.analysis->window, Millis(5000));
  EXPECT_EQ(m.strategy.rolling.analysis->minRequests, 30);
  EXPECT_EQ(Parse(ToCanonicalYaml(m)).strategy, m.strategy);
  // Absent, the canonical form is what it always was.
  Manifest plain = Parse(With("hosts: [web1, web2]\n"));
  EXPECT_EQ(ToCanonicalYaml(plain).find("analysis"), std::string::npos);
}

TEST(FleetSection, ARollingAnalysisNeedsHostsTheRollingStrategyAndTheThresholdJudge) {
  Error e =
      ParseError(With("strategy:\n  type: rolling\n  rolling:\n    analysis: { window: 5s }\n"));
  EXPECT_EQ(e.field, "strategy.rolling.analysis");
  EXPECT_NE(e.message.find("hosts"), std::string::npos) << e.message;
  e =
      ParseError(With("strategy:\n  type: recreate\n  rolling:\n    analysis: { window: 5s }\n"
                      "hosts: [web1]\n"));
  EXPECT_EQ(e.field, "strategy.rolling.analysis");
  e =
      ParseError(With("strategy:\n  type: rolling\n  rolling:\n"
                      "    analysis: { judge: sequential }\nhosts: [web1]\n"));
  EXPECT_EQ(e.field, "strategy.rolling.analysis.judge");
}

TEST(FleetSection, ParametersReachTheFleetFields) {
  Manifest m = Parse(
      "app: web\nparameters:\n  first: { default: \"2\" }\nrun:\n  command: [x]\n"
      "hosts: [a, b, c]\nwaves: [\"${params.first}\", 100%]\n");
  EXPECT_EQ(m.fleet.waves[0], (HostCount{2, false}));
}

TEST(FleetRules, ASelectorPicksTheHostsWithEveryLabelAndAListKeepsItsOrder) {
  std::vector<SelectableHost> reg = {{"a", {{"role", "web"}, {"zone", "1"}}},
                                     {"b", {{"role", "db"}}},
                                     {"c", {{"role", "web"}, {"zone", "2"}}}};
  FleetSpec sel;
  sel.selector = {{"role", "web"}};
  EXPECT_EQ(*SelectHosts(sel, reg), (std::vector<std::string>{"a", "c"}));
  sel.selector["zone"] = "2";
  EXPECT_EQ(*SelectHosts(sel, reg), (std::vector<std::string>{"c"}));
  sel.selector["zone"] = "9";
  EXPECT_EQ(SelectHosts(sel, reg).error().code, ErrorCode::kNotFound);
  FleetSpec list;
  list.hosts = {"c", "a"};
  EXPECT_EQ(*SelectHosts(list, reg), (std::vector<std::string>{"c", "a"}));
  list.hosts = {"c", "z"};
  EXPECT_EQ(SelectHosts(list, reg).error().field, "hosts[1]");
}

TEST(FleetRules, WavesAreCumulativeAndPercentsRoundUp) {
  std::vector<std::string> five = {"h1", "h2", "h3", "h4", "h5"};
  auto w = PlanWaves(five, {{1, false}, {50, true}, {100, true}});
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0], (std::vector<std::string>{"h1"}));
  EXPECT_EQ((*w)[1], (std::vector<std::string>{"h2", "h3"}));  // 50% of 5 = 3 in all
  EXPECT_EQ((*w)[2], (std::vector<std::string>{"h4", "h5"}));
  // No waves: one of every host; a last wave short of all hosts: the rest follow.
  EXPECT_EQ(PlanWaves(five, {})->size(), 1u);
  auto short_last = PlanWaves(five, {{2, false}});
  ASSERT_EQ(short_last->size(), 2u);
  EXPECT_EQ(short_last->back().size(), 3u);
  // A wave that adds nothing (10% of 5 after 1) is refused naming it.
  auto none = PlanWaves(five, {{1, false}, {10, true}, {100, true}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "waves[1]");
}

TEST(FleetRules, AFailureToleranceInPercentRoundsDown) {
  EXPECT_EQ(MaxFailedHosts({0, false}, 5), 0);
  EXPECT_EQ(MaxFailedHosts({2, false}, 5), 2);
  EXPECT_EQ(MaxFailedHosts({25, true}, 5), 1);
  EXPECT_EQ(MaxFailedHosts({10, true}, 5), 0);
}

}  // namespace
}  // namespace lastgood
