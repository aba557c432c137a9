// End-to-end: authentication, roles and audit on the TCP API (issue 5, items 3 and 4). A
// real controller serves `--listen 127.0.0.1:0`; tokens are made with the CLI over the unix
// socket (the local admin); the CLI then talks to the TCP address with LASTGOOD_SERVER and
// LASTGOOD_TOKEN, as a CI job would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "testutil/http.h"
#include "testutil/lastgood.h"
#include "testutil/remote.h"
#include "testutil/tls.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::HttpGet;
using lastgood::testutil::LastAudit;
using lastgood::testutil::Lastgood;
using lastgood::testutil::MakeSelfSignedCertificate;
using lastgood::testutil::MakeToken;
using lastgood::testutil::PortOf;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::Remote;
using lastgood::testutil::RemoteRun;
using lastgood::testutil::SampleApp;
using lastgood::testutil::ServedUrl;
using lastgood::testutil::WaitUntil;

TEST(Auth, AViewerReadsButCannotRollBackAndTheRefusalIsAudited) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given().App(SampleApp().Label("v1")).Applied();
  lg.App(SampleApp().Label("v2")).Applied();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string viewer = MakeToken(lg, "dash", "viewer");
  std::string deployer = MakeToken(lg, "ci-bot", "deployer");

  RemoteRun status = Remote(lg, url, viewer, {"status", "web", "-o", "json"});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("\"production\""), std::string::npos) << status.out;

  RemoteRun refused = Remote(lg, url, viewer, {"rollback", "web"});
  EXPECT_EQ(refused.code, 5);
  EXPECT_NE(refused.err.find("forbidden"), std::string::npos) << refused.err;
  lg.Then().Serves("v2");
  auto entry = LastAudit(lg, "POST /v1/apps/web/rollback");
  ASSERT_TRUE(entry.is_object()) << lg.Json({"audit"}).dump(2);
  EXPECT_EQ(entry["actor"], "token:dash");
  EXPECT_EQ(entry["status"], 403);
  EXPECT_EQ(entry["app"], "web");
  EXPECT_EQ(entry["from"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << entry.dump();

  RemoteRun rolled = Remote(lg, url, deployer, {"rollback", "web"});
  EXPECT_EQ(rolled.code, 0) << rolled.out << rolled.err;
  lg.Then().Serves("v1");
  auto history = lg.History();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "rollback");
  EXPECT_EQ(history[0]["actor"], "token:ci-bot");
  entry = LastAudit(lg, "POST /v1/apps/web/rollback");
  EXPECT_EQ(entry["actor"], "token:ci-bot");
  EXPECT_EQ(entry["status"], 200);
  EXPECT_NE(entry["message"].get<std::string>().find("rollback"), std::string::npos)
      << entry.dump();

  // Neither a deployer nor a viewer manages tokens.
  RemoteRun minted =
      Remote(lg, url, deployer, {"token", "create", "--name", "x", "--role", "admin"});
  EXPECT_EQ(minted.code, 5) << minted.err;
  // The audit names the local admin for what was done over the unix socket.
  auto applied = LastAudit(lg, "POST /v1/apply");
  ASSERT_TRUE(applied.is_object());
  EXPECT_EQ(applied["actor"].get<std::string>().rfind("local:", 0), 0u);
  EXPECT_EQ(applied["from"], "unix");
}

TEST(Auth, AMissingWrongOrRevokedTokenGets401WithNoDetailAndIsAudited) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string admin = MakeToken(lg, "ops", "admin");

  auto none = HttpGet("127.0.0.1", PortOf(url), "/v1/apps");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, R"({"error":"unauthorized"})");
  auto wrong = HttpGet("127.0.0.1", PortOf(url), "/v1/apps",
                       {{"Authorization", "Bearer lgt_" + std::string(64, '0')}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, R"({"error":"unauthorized"})");
  auto good = HttpGet("127.0.0.1", PortOf(url), "/v1/apps", {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(good.status, 200) << good.body;

  RemoteRun listed = Remote(lg, url, admin, {"token", "list"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("ops"), std::string::npos);
  EXPECT_EQ(listed.out.find(admin.substr(4)), std::string::npos) << "a secret was listed";
  EXPECT_EQ(ReadFile(lg.home() + "/lastgood.db").find(admin), std::string::npos);

  lg.Run({"token", "revoke", "ops"}).ExitCode(0);
  RemoteRun revoked = Remote(lg, url, admin, {"apps"});
  EXPECT_EQ(revoked.code, 5);
  EXPECT_NE(revoked.err.find("401"), std::string::npos) << revoked.err;
  RemoteRun missing = Remote(lg, url, "", {"apps"});
  EXPECT_EQ(missing.code, 5);
  EXPECT_NE(missing.err.find("LASTGOOD_TOKEN"), std::string::npos) << missing.err;

  auto audit = lg.Json({"audit"});
  int unauthorized = 0;
  bool revoked_named = false;
  for (const auto& e : audit) {
    if (e.value("status", 0) != 401) continue;
    unauthorized += e.value("count", 1);  // one address's refusals are one row with a count
    revoked_named = revoked_named || e.value("actor", "") == "token:ops";
    EXPECT_EQ(e["message"].get<std::string>().find("lgt_"), std::string::npos) << e.dump();
  }
  EXPECT_EQ(unauthorized, 3) << audit.dump(2);
  EXPECT_TRUE(revoked_named) << audit.dump(2);
}

// Over TCP the manifest's folder is on the caller's machine: a relative artifact is refused
// (never read from the controller's own disk by the same name); an absolute one is a file
// on the controller's host, named on purpose.
// A file of the controller's host is named over --server only with --artifact-on-server, and
// by its absolute path: a relative one would be relative to a folder of the caller's machine.
TEST(Auth, ARemoteApplyOfAFileOnTheControllerRefusesARelativePath) {
  Lastgood lg;
  // The sample binary's folder is one whose files a deployer may name (issue 11 B4).
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off", "--artifact-root", LASTGOOD_BUILD_DIR});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci-bot", "deployer");
  std::filesystem::copy_file(lastgood::testutil::kSampleBinary, lg.home() + "/lastgood-sample");
  std::string yaml = SampleApp().Yaml();
  yaml.replace(yaml.find(lastgood::testutil::kSampleBinary),
               std::string(lastgood::testutil::kSampleBinary).size(), "lastgood-sample");
  lg.Manifest(yaml, "relative");

  RemoteRun refused = Remote(lg, url, deployer,
                             {"apply", "-f", lg.home() + "/relative.yaml", "--artifact-on-server"});
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find("run.artifact"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("by their absolute path"), std::string::npos) << refused.err;
  EXPECT_TRUE(lg.Json({"apps"}).empty()) << "a refused apply recorded something";

  lg.Manifest(SampleApp().Yaml(), "absolute");
  RemoteRun applied = Remote(lg, url, deployer,
                             {"apply", "-f", lg.home() + "/absolute.yaml", "--artifact-on-server"});
  EXPECT_EQ(applied.code, 0) << applied.err;
  EXPECT_EQ(applied.err.find("sent "), std::string::npos) << "nothing is sent" << applied.err;
  // The same relative manifest is fine through the unix socket, on the controller's host.
  lg.Run({"apply", "-f", lg.home() + "/relative.yaml"}).ExitCode(0);
}

TEST(Auth, ATokenWithALifetimeWorksUntilItExpiresThenGets401AndItsNameIsFree) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  lg.Run({"token", "create", "--name", "ci", "--role", "viewer", "--expires", "soon"})
      .ExitCode(2)
      .StderrHas("give days like 90d");
  lg.Run({"token", "create", "--name", "ci", "--role", "viewer", "--expires", "2s"})
      .ExitCode(0)
      .StderrHas("valid until");
  std::string token = lg.last().out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  auto now = HttpGet("127.0.0.1", PortOf(url), "/v1/apps", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(now.status, 200) << now.body;
  EXPECT_EQ(lg.Json({"token", "list"})[0].value("state", ""), "valid");

  std::this_thread::sleep_for(2100ms);
  auto later =
      HttpGet("127.0.0.1", PortOf(url), "/v1/apps", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(later.status, 401);
  EXPECT_EQ(later.body, R"({"error":"unauthorized"})");
  auto listed = lg.Json({"token", "list"});
  EXPECT_EQ(listed[0].value("state", ""), "expired") << listed.dump(2);
  EXPECT_FALSE(listed[0]["expiresAt"].is_null()) << listed.dump(2);
  auto refused = LastAudit(lg, "GET /v1/apps");
  EXPECT_EQ(refused.value("actor", ""), "token:ci") << refused.dump(2);
  EXPECT_NE(refused.value("message", "").find("expired token"), std::string::npos)
      << refused.dump(2);
  // An expired token's name may be given to a new token, as a revoked one's may.
  lg.Run({"token", "create", "--name", "ci", "--role", "viewer", "--expires", "90d"}).ExitCode(0);
}

TEST(Auth, TlsServesWithAGivenCertificateAndTheClientChecksIt) {
  Lastgood lg;
  std::string cert = lg.home() + "/cert.pem", key = lg.home() + "/key.pem";
  ASSERT_EQ(MakeSelfSignedCertificate(cert, key, lg.home() + "/openssl.log"), "");

  lg.ServeArgs({"--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_EQ(url.rfind("https://", 0), 0u) << url;
  std::string viewer = MakeToken(lg, "dash", "viewer");

  RemoteRun trusted = Remote(lg, url, viewer, {"--cacert", cert, "apps", "-o", "json"});
  EXPECT_EQ(trusted.code, 0) << trusted.err;
  RemoteRun untrusted = Remote(lg, url, viewer, {"apps"});
  EXPECT_EQ(untrusted.code, 5);
  EXPECT_NE(untrusted.err.find("TLS"), std::string::npos) << untrusted.err;
  auto plain =
      HttpGet("127.0.0.1", PortOf(url), "/v1/apps", {{"Authorization", "Bearer " + viewer}});
  EXPECT_NE(plain.status, 200) << "plain HTTP must not be served on a TLS listener";
}

TEST(Auth, ServeRefusesACertificateWithoutAKey) {
  Lastgood lg;
  ProcessOptions o;
  o.argv = {lastgood::testutil::kLastgoodBinary,
            "serve",
            "--no-router",
            "--ui",
            "off",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            lg.home() + "/cert.pem"};
  o.env = {{"LASTGOOD_HOME", lg.home()}};
  o.stdout_path = o.stderr_path = lg.home() + "/serve.log";
  Process serve(o);
  auto st = serve.Wait(10s);
  ASSERT_TRUE(st && st->exited()) << ReadFile(o.stderr_path);
  EXPECT_EQ(st->code, 2);
  EXPECT_NE(ReadFile(o.stderr_path).find("--tls-key"), std::string::npos)
      << ReadFile(o.stderr_path);
}

}  // namespace
