#include "router/table.h"

#include <gtest/gtest.h>

namespace lastgood {
namespace {

RoutingTable Sample() {
  RoutingTable t;
  t.generation = 7;
  RouteApp app;
  app.name = "web";
  app.slots.push_back({"production",
                       {{3, 90, {{"i1", "127.0.0.1:4001"}, {"i2", "127.0.0.1:4002"}}},
                        {4, 10, {{"i3", "[::1]:4003"}}}}});
  app.slots.push_back({"staging", {{4, 100, {{"i4", "127.0.0.1:4004"}}}}});
  app.split["staging"] = 5;
  t.apps.push_back(app);
  t.listeners.push_back({"127.0.0.1:8080", "", "web", "production"});
  t.listeners.push_back({"127.0.0.1:8080", "web.example.com", "web", "production"});
  t.listeners.push_back({"127.0.0.1:8081", "", "web", "staging"});
  return t;
}

TEST(Table, SurvivesAJsonRoundTrip) {
  auto back = TableFromJson(TableToJson(Sample()));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, Sample());
}

TEST(Table, AcceptsAnEmptyTable) {
  auto t = TableFromJson("{}");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->apps.empty());
}

// Each bad table names the field at fault.
struct BadCase {
  std::string json;
  std::string field;
};

class TableRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(TableRejects, NamingTheField) {
  auto t = TableFromJson(GetParam().json);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(t.error().field, GetParam().field) << t.error().message;
}

constexpr const char* kApp =
    R"({"name":"web","slots":[{"name":"production","versions":[{"version":1,"weight":100,)"
    R"("backends":[{"id":"a","address":"127.0.0.1:9000"}]}]}]})";

INSTANTIATE_TEST_SUITE_P(
    Table, TableRejects,
    ::testing::Values(
        BadCase{"[1]", ""}, BadCase{"not json", ""}, BadCase{R"({"generation":-1})", "generation"},
        BadCase{R"({"apps":[{"name":"Web","slots":[]}]})", "apps[0].name"},
        BadCase{
            R"({"apps":[{"name":"web","slots":[{"name":"production","versions":[{"version":1,"weight":101}]}]}]})",
            "apps[0].slots[0].versions[0].weight"},
        BadCase{
            R"({"apps":[{"name":"web","slots":[{"name":"production","versions":[{"version":0,"weight":1}]}]}]})",
            "apps[0].slots[0].versions[0].version"},
        BadCase{
            R"({"apps":[{"name":"web","slots":[{"name":"production","versions":[{"version":1,"weight":1,"backends":[{"id":"a","address":"localhost:80"}]}]}]}]})",
            "apps[0].slots[0].versions[0].backends[0].address"},
        BadCase{
            R"({"apps":[{"name":"web","slots":[{"name":"production","versions":[{"version":1,"weight":1,"backends":[{"id":"a b","address":"127.0.0.1:80"}]}]}]}]})",
            "apps[0].slots[0].versions[0].backends[0].id"},
        BadCase{R"({"apps":[{"name":"web","slots":[{"name":"a"},{"name":"a"}]}]})",
                "apps[0].slots[1].name"},
        BadCase{R"({"apps":[{"name":"web","slots":[{"name":"a"}],"split":{"b":10}}]})",
                "apps[0].split.b"},
        BadCase{
            R"({"apps":[{"name":"web","slots":[{"name":"a"},{"name":"b"},{"name":"c"}],"split":{"b":60,"c":50}}]})",
            "apps[0].split"},
        BadCase{
            std::string(R"({"apps":[)") + kApp +
                R"(],"listeners":[{"address":"127.0.0.1:80","app":"api","slot":"production"}]})",
            "listeners[0].app"},
        BadCase{std::string(R"({"apps":[)") + kApp +
                    R"(],"listeners":[{"address":"127.0.0.1:80","app":"web","slot":"staging"}]})",
                "listeners[0].slot"},
        BadCase{std::string(R"({"apps":[)") + kApp +
                    R"(],"listeners":[{"address":"127.0.0.1","app":"web","slot":"production"}]})",
                "listeners[0].address"},
        BadCase{
            std::string(R"({"apps":[)") + kApp +
                R"(],"listeners":[{"address":"127.0.0.1:80","app":"web","slot":"production"},{"address":"127.0.0.1:80","app":"web","slot":"production"}]})",
            "listeners[1].host"},
        BadCase{
            std::string(R"({"apps":[)") + kApp +
                R"(],"listeners":[{"address":"127.0.0.1:80","host":"Web.Example.com","app":"web","slot":"production"}]})",
            "listeners[0].host"}));

}  // namespace
}  // namespace lastgood
