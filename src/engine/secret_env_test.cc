#include "engine/secret_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "engine/instance_spec.h"
#include "secrets/secret_box.h"

namespace lastgood {
namespace {

Manifest ManifestWith(const std::string& env) {
  auto parsed = ParseManifest("app: web\nrun:\n  command: [./web]\n  env:\n" + env, {});
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  return parsed.ok() ? parsed->manifest : Manifest{};
}

class SecretEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "lg-secenv-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto s = OpenSqliteStore(dir_ + "/lastgood.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    box_ = std::make_unique<SecretBox>(store_.get(), dir_ + "/secrets.key", Clock::Real());
    deps_.store = store_.get();
    deps_.secrets = box_.get();
    deps_.clock = Clock::Real();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SecretBox> box_;
  EngineDeps deps_;
};

TEST_F(SecretEnvTest, ASecretReferenceIsResolvedToItsValueAndMarkedVerbatim) {
  ASSERT_TRUE(box_->Set("web", "db-password", "pa${PORT}ss", "t").ok());
  Manifest m = ManifestWith("    MODE: fast\n    DB_PASSWORD: { secret: db-password }\n");
  auto env = ResolveEnv(deps_, "web", m.run.env);
  ASSERT_TRUE(env.ok()) << env.error().message;
  ASSERT_EQ(env->vars.size(), 2u);
  EXPECT_EQ(env->vars[1], (std::pair<std::string, std::string>{"DB_PASSWORD", "pa${PORT}ss"}));
  EXPECT_EQ(env->secretNames, std::vector<std::string>{"DB_PASSWORD"});
  InstanceSpec spec = SpecFor(m, "web-1", "/r", "/l", 1234, *env);
  EXPECT_EQ(spec.verbatimEnv, std::vector<std::string>{"DB_PASSWORD"});
}

TEST_F(SecretEnvTest, AMissingSecretIsAnErrorNamingTheVariableAndTheCommandThatSetsIt) {
  Manifest m = ManifestWith("    DB_PASSWORD: { secret: db-password }\n");
  auto env = ResolveEnv(deps_, "web", m.run.env);
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("run.env.DB_PASSWORD"), std::string::npos);
  EXPECT_NE(env.error().message.find("`lastgood secret set web db-password`"), std::string::npos);
  EXPECT_EQ(WithoutSecrets(m.run.env).vars.size(), 0u);
}

TEST_F(SecretEnvTest, ApplyIsRefusedAtTheReferencesFieldAndLine) {
  auto parsed = ParseManifest(
      "app: web\nrun:\n  command: [./web]\n  env:\n    DB_PASSWORD: { secret: db-password }\n", {});
  ASSERT_TRUE(parsed.ok());
  Status s = RequireSecrets(deps_, "web", parsed->secrets);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(s.error().field, "run.env.DB_PASSWORD.secret");
  EXPECT_EQ(s.error().line, 5);
  ASSERT_TRUE(box_->Set("web", "db-password", "x", "t").ok());
  EXPECT_TRUE(RequireSecrets(deps_, "web", parsed->secrets).ok());
  EXPECT_TRUE(RequireSecretsOf(deps_, "web", 1, parsed->manifest).ok());
  ASSERT_TRUE(box_->Remove("web", "db-password").ok());
  Status back = RequireSecretsOf(deps_, "web", 1, parsed->manifest);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("v1 needs secret db-password"), std::string::npos);
  EXPECT_NE(back.error().message.find("nothing was changed"), std::string::npos);
}

TEST_F(SecretEnvTest, WithoutASecretBoxAReferenceIsRefusedAndNothingIsRedacted) {
  deps_.secrets = nullptr;
  Manifest m = ManifestWith("    DB_PASSWORD: { secret: db-password }\n");
  EXPECT_EQ(ResolveEnv(deps_, "web", m.run.env).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(RedactSecrets(deps_, "web", "text"), "text");
}

TEST_F(SecretEnvTest, ACommandGetsTheVersionsEnvExpandedButTheSecretByteForByte) {
  ASSERT_TRUE(box_->Set("web", "db-password", "p${MODE}w", "t").ok());
  Manifest m = ManifestWith(
      "    MODE: fast\n    DB_PASSWORD: { secret: db-password }\n"
      "    URL: \"postgres://u:${DB_PASSWORD}@db/${MODE}\"\n    LASTGOOD_APP: spoofed\n");
  std::vector<std::pair<std::string, std::string>> env = {{"LASTGOOD_APP", "web"}};
  ASSERT_TRUE(AddAppEnv(deps_, "web", m, &env).ok());
  std::map<std::string, std::string> got(env.begin(), env.end());
  EXPECT_EQ(got["DB_PASSWORD"], "p${MODE}w");
  EXPECT_EQ(got["URL"], "postgres://u:p${MODE}w@db/fast");
  EXPECT_EQ(got["LASTGOOD_APP"], "web");
  EXPECT_EQ(env.size(), 4u);
}

TEST_F(SecretEnvTest, TextFromDeployedCodeIsRedactedOfTheAppsSecretsOnly) {
  ASSERT_TRUE(box_->Set("web", "db-password", "Recognisable-42", "t").ok());
  ASSERT_TRUE(box_->Set("api", "token", "Other-App-Value", "t").ok());
  EXPECT_EQ(RedactSecrets(deps_, "web", "auth failed: Recognisable-42"),
            "auth failed: [secret db-password]");
  EXPECT_EQ(RedactSecrets(deps_, "api", "auth failed: Recognisable-42"),
            "auth failed: Recognisable-42");
}

TEST_F(SecretEnvTest, AStickySecretStaysWithItsSlotByNameNeverByValue) {
  ASSERT_TRUE(box_->Set("web", "db-password", "Recognisable-42", "t").ok());
  Manifest m = ManifestWith("    DB_PASSWORD: { secret: db-password, sticky: true }\n");
  std::string sticky = StickyJson(m);
  EXPECT_EQ(sticky, R"([{"name":"DB_PASSWORD","secret":"db-password"}])");
  SlotRecord slot;
  slot.slot = "production";
  slot.stickyEnv = sticky;
  Manifest other = ManifestWith("    DB_PASSWORD: { secret: staging-password, sticky: true }\n");
  auto env = EnvFor(other, "production", {slot});
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].secret, "db-password");
  EXPECT_TRUE(env[0].value.empty());
}

TEST_F(SecretEnvTest, ASecretSetAfterTheInstancesStartedIsFound) {
  ASSERT_TRUE(store_->CreateApp("web", 1).ok());
  Manifest m = ManifestWith("    DB_PASSWORD: { secret: db-password }\n");
  ASSERT_TRUE(box_->Set("web", "db-password", "old", "t").ok());
  int64_t now = Clock::Real()->NowMillis();
  InstanceRecord rec{"web-1", "web", "production", 1, 1, 1, 1, InstanceState::kReady, now + 1000,
                     0,       ""};
  ASSERT_TRUE(store_->PutInstance(rec).ok());
  EXPECT_FALSE(SecretRotatedUnder(deps_, "web", "production", 1, m).has_value());
  rec.createdAt = now - 60'000;
  ASSERT_TRUE(store_->PutInstance(rec).ok());
  EXPECT_EQ(SecretRotatedUnder(deps_, "web", "production", 1, m), "db-password");
  EXPECT_FALSE(SecretRotatedUnder(deps_, "web", "staging", 1, m).has_value());
}

}  // namespace
}  // namespace lastgood
