#include "node/node_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/sealed_env.h"

namespace lastgood {
namespace {

std::string TempPath(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("lastgood-node-state-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  return (dir / "node-state.json").string();
}

TEST(NodeState, WhatIsSavedIsWhatARestartedNodeLoads) {
  std::string path = TempPath("roundtrip");
  NodeState state(path);
  InstanceSpec spec;
  spec.id = "web-production-1-a";
  spec.argv = {"./web"};
  spec.cwd = "/r/web/1";
  spec.port = 10001;
  state.Put({spec, {"web-production-1-a", 4242, 777, 10001}, {}});
  ASSERT_TRUE(state.Save().ok());
  NodeState again(path);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_EQ(again.instances().size(), 1u);
  const auto& rec = again.instances().at("web-production-1-a");
  EXPECT_EQ(rec.handle.pid, 4242);
  EXPECT_EQ(rec.handle.startTime, 777u);
  EXPECT_EQ(rec.spec.port, 10001);
  again.Remove("web-production-1-a");
  ASSERT_TRUE(again.Save().ok());
  NodeState empty(path);
  ASSERT_TRUE(empty.Load().ok());
  EXPECT_TRUE(empty.instances().empty());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "the temporary file was left";
}

TEST(NodeState, AMissingFileIsAnEmptyStateAndAGarbledOneIsRefused) {
  std::string path = TempPath("garbled");
  std::filesystem::remove(path);
  NodeState none(path);
  EXPECT_TRUE(none.Load().ok());
  { std::ofstream(path) << "{\"instances\": [ {\"spec\": "; }
  NodeState garbled(path);
  auto s = garbled.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a node state file"), std::string::npos);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr char kPassword[] = "hunter2-correct-horse";

// An instance whose DB_PASSWORD is a secret (verbatim), beside a plain variable.
InstanceSpec SpecWithSecret(const std::string& id) {
  InstanceSpec spec;
  spec.id = id;
  spec.argv = {"./web"};
  spec.cwd = "/r/web/1";
  spec.env = {{"GREETING", "hello"}, {"DB_PASSWORD", kPassword}};
  spec.verbatimEnv = {"DB_PASSWORD"};
  return spec;
}

std::string EnvValue(const InstanceSpec& spec, const std::string& name) {
  for (const auto& [k, v] : spec.env) {
    if (k == name) return v;
  }
  return "(absent)";
}

TEST(NodeState, ASecretVariableIsSealedOnDiskAndOpensAgainWithTheNodesKey) {
  std::string path = TempPath("sealed");
  auto key = NewSecretKey();
  ASSERT_TRUE(key.ok());
  NodeState state(path);
  state.UseKey(*key);
  state.Put({SpecWithSecret("web-1"), {"web-1", 4242, 777, 10001}, {}});
  ASSERT_TRUE(state.Save().ok());

  const std::string text = Slurp(path);
  EXPECT_EQ(text.find(kPassword), std::string::npos) << "the value is in clear:\n" << text;
  EXPECT_NE(text.find("lgs1:"), std::string::npos) << text;
  EXPECT_NE(text.find("hello"), std::string::npos) << "plain variables stay readable\n" << text;

  NodeState again(path);
  again.UseKey(*key);
  ASSERT_TRUE(again.Load().ok());
  const auto& rec = again.instances().at("web-1");
  EXPECT_EQ(EnvValue(rec.spec, "DB_PASSWORD"), kPassword);
  EXPECT_EQ(rec.spec.verbatimEnv, std::vector<std::string>{"DB_PASSWORD"});
  EXPECT_TRUE(rec.refusedEnv.empty());
}

TEST(NodeState, ASecretIsNeverWrittenWithoutAKeyToSealIt) {
  std::string path = TempPath("nokey");
  std::filesystem::remove(path);
  NodeState state(path);
  state.Put({SpecWithSecret("web-1"), {"web-1", 4242, 777, 10001}, {}});
  auto s = state.Save();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no key"), std::string::npos) << s.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(s.error().message.find(kPassword), std::string::npos);
}

// Flips one hex digit of the sealed text in the file.
void Tamper(const std::string& path) {
  std::string text = Slurp(path);
  size_t at = text.find("lgs1:");
  ASSERT_NE(at, std::string::npos);
  size_t digit = text.find(':', at + 5) + 10;
  text[digit] = text[digit] == '0' ? '1' : '0';
  std::ofstream(path, std::ios::trunc) << text;
}

TEST(NodeState, ATamperedSealedValueIsRefusedByNameAndNeverOpened) {
  std::string path = TempPath("tampered");
  auto key = NewSecretKey();
  ASSERT_TRUE(key.ok());
  NodeState state(path);
  state.UseKey(*key);
  state.Put({SpecWithSecret("web-1"), {"web-1", 4242, 777, 10001}, {}});
  ASSERT_TRUE(state.Save().ok());
  Tamper(path);

  NodeState again(path);
  again.UseKey(*key);
  ASSERT_TRUE(again.Load().ok()) << "the other instances and variables are still known";
  const auto& rec = again.instances().at("web-1");
  EXPECT_EQ(EnvValue(rec.spec, "DB_PASSWORD"), "(absent)");
  EXPECT_EQ(EnvValue(rec.spec, "GREETING"), "hello");
  ASSERT_EQ(rec.refusedEnv.size(), 1u);
  EXPECT_NE(rec.refusedEnv[0].find("DB_PASSWORD: its sealed value does not open"),
            std::string::npos)
      << rec.refusedEnv[0];
}

TEST(NodeState, ASealedValueMovedToAnotherInstanceOrAnotherNodesKeyDoesNotOpen) {
  std::string path = TempPath("moved");
  auto key = NewSecretKey();
  auto other = NewSecretKey();
  ASSERT_TRUE(key.ok() && other.ok());
  NodeState state(path);
  state.UseKey(*key);
  state.Put({SpecWithSecret("web-1"), {"web-1", 4242, 777, 10001}, {}});
  ASSERT_TRUE(state.Save().ok());
  // The sealed text of web-1 put under the id web-2.
  std::string text = Slurp(path);
  for (size_t at; (at = text.find("web-1")) != std::string::npos;) text.replace(at, 5, "web-2");
  std::ofstream(path, std::ios::trunc) << text;
  NodeState moved(path);
  moved.UseKey(*key);
  ASSERT_TRUE(moved.Load().ok());
  EXPECT_EQ(moved.instances().at("web-2").refusedEnv.size(), 1u);

  NodeState elsewhere(path);
  elsewhere.UseKey(*other);
  ASSERT_TRUE(elsewhere.Load().ok());
  EXPECT_EQ(EnvValue(elsewhere.instances().at("web-2").spec, "DB_PASSWORD"), "(absent)");
}

}  // namespace
}  // namespace lastgood
