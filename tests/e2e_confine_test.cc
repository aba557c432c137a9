// End-to-end: deployed code is confined (issue 11 B, docs/security.md). The attack of issue
// 11 item 2 — a deployer's manifest whose code tries to mint an admin token through the API
// socket, read the store and another app's release, and signal another app — performed by a
// real controller's instance, as root and as an unprivileged user (a controller started
// with setpriv under a uid of its own, its home given to that uid).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "testutil/lastgood.h"
#include "testutil/remote.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::LastAudit;
using lastgood::testutil::Lastgood;
using lastgood::testutil::MakeToken;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::Remote;
using lastgood::testutil::RemoteRun;
using lastgood::testutil::SampleApp;
using lastgood::testutil::ServedUrl;
using lastgood::testutil::WaitUntil;

// The controller of the unprivileged case runs as this uid (no user of the machine needed).
constexpr unsigned kTestUid = 64711;

// Each line the attacking instance writes to its state folder says what it managed; then it
// stays up, as a real instance would. `victim` is the pid of another app's instance as the
// host sees it (from `status`), `other` a file of that app's release, `api` the --listen URL.
std::string AttackManifest(const std::string& api, int victim, const std::string& other) {
  std::string script = R"SH([ -n "$LASTGOOD_STATE_DIR" ] || exit 1
out=$LASTGOOD_STATE_DIR/attack
{
  curl -s -m 3 --unix-socket ../../../api.sock -d '{"name":"pwn","role":"admin"}' http://x/v1/tokens >/dev/null 2>&1 && echo 'unix socket: reached' || echo 'unix socket: refused'
  echo "tcp: $(curl -s -m 3 -o /dev/null -w '%{http_code}' -d '{"name":"pwn","role":"admin"}' API/v1/tokens)"
  cat ../../../lastgood.db >/dev/null 2>&1 && echo 'store: read' || echo 'store: refused'
  cat OTHER >/dev/null 2>&1 && echo 'other release: read' || echo 'other release: refused'
  kill -TERM VICTIM 2>/dev/null && echo 'signal: sent' || echo 'signal: refused'
  echo "state folder: $(echo ok > $LASTGOOD_STATE_DIR/w && cat $LASTGOOD_STATE_DIR/w)"
} > $out.tmp 2>&1
mv $out.tmp $out
exec sleep 600
)SH";
  auto put = [&script](const std::string& name, const std::string& value) {
    script.replace(script.find(name), name.size(), value);
  };
  put("API", api);
  put("OTHER", other);
  put("VICTIM", std::to_string(victim));
  std::string yaml = "app: pwn\nrun:\n  command:\n    - /bin/sh\n    - -c\n    - |\n";
  for (size_t at = 0; at < script.size();) {
    size_t end = script.find('\n', at);
    yaml += "      " + script.substr(at, end - at) + "\n";
    at = end + 1;
  }
  return yaml + "  stopGrace: 1s\n";
}

constexpr const char* kRefused =
    "unix socket: refused\n"
    "tcp: 401\n"
    "store: refused\n"
    "other release: refused\n"
    "signal: refused\n"
    "state folder: ok\n";

void DeployerCannotBecomeAdminThroughItsCode(bool as_root) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  if (!as_root) lg.AsUser(kTestUid);
  lg.Given().App(SampleApp().App("victim"), "victim").Applied();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  auto victims = lg.Instances("victim");
  ASSERT_EQ(victims.size(), 1u);
  std::string other = lg.home() + "/releases/victim/1/lastgood-sample";
  ASSERT_TRUE(std::filesystem::exists(other));
  std::ofstream(lg.home() + "/pwn.yaml") << AttackManifest(url, victims[0].pid, other);

  RemoteRun applied = Remote(lg, url, deployer, {"apply", "-f", lg.home() + "/pwn.yaml"});
  ASSERT_EQ(applied.code, 0) << applied.out << applied.err;
  std::string report = lg.home() + "/state/pwn/attack";
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(report); }, 15s, 20ms))
      << "the attack never reported";
  EXPECT_EQ(ReadFile(report), kRefused);

  // No token was minted; the one request that reached the API was refused and audited.
  for (const auto& t : lg.Json({"token", "list"})) EXPECT_NE(t.value("name", ""), "pwn");
  auto audited = LastAudit(lg, "POST /v1/tokens");
  ASSERT_TRUE(audited.is_object()) << "the refused mint is not in the audit";
  EXPECT_EQ(audited["status"], 401);
  EXPECT_EQ(audited["actor"], "anonymous");
  // The other app was not signalled: it serves, never restarted.
  lg.Then().Serves("v1", 1, "victim");
  EXPECT_EQ(lg.Instances("victim")[0].restarts, 0);
  EXPECT_EQ(lg.Instances("victim")[0].pid, victims[0].pid);

  auto status = lg.Json({"status", "pwn"});
  EXPECT_EQ(status["confinement"]["mode"], as_root ? "app-users" : "user-namespaces")
      << status.dump();
}

TEST(Confinement, AsRootADeployersCodeCannotMintATokenReadTheStoreOrTouchAnotherApp) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  DeployerCannotBecomeAdminThroughItsCode(true);
}

TEST(Confinement, AsAnUnprivilegedUserADeployersCodeCannotMintATokenReadTheStoreOrTouchAnotherApp) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to start a controller as another uid";
  DeployerCannotBecomeAdminThroughItsCode(false);
}

TEST(Confinement, AsRootEachAppRunsAsAUidOfItsOwnAndStatusSaysSo) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  lg.Given().App(SampleApp().App("api"), "api").Applied();
  auto uid_of = [](int pid) {
    // The instance's program is the only child of its init.
    std::string children =
        ReadFile("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    int program = std::atoi(children.c_str());
    std::string status = ReadFile("/proc/" + std::to_string(program) + "/status");
    size_t at = status.find("Uid:\t");
    return at == std::string::npos ? -1 : std::atoi(status.c_str() + at + 5);
  };
  int web = uid_of(lg.Instances("web")[0].pid);
  int api = uid_of(lg.Instances("api")[0].pid);
  EXPECT_GE(web, 400000);
  EXPECT_GE(api, 400000);
  EXPECT_NE(web, api);
  auto status = lg.Json({"status", "web"});
  EXPECT_EQ(status["confinement"]["mode"], "app-users");
  EXPECT_EQ(status["confinement"]["runsAs"], "uid " + std::to_string(web));
  lg.Run({"status", "web"}).OutputHas("confinement: app-users, runs as uid " + std::to_string(web));
  // Its state folder is its own and outlives a new version.
  EXPECT_TRUE(std::filesystem::is_directory(lg.home() + "/state/web"));
  lg.Applied({"--param", "label=v2"});
  EXPECT_EQ(uid_of(lg.Instances("web")[0].pid), web) << "a new version keeps the app's uid";
}

TEST(Confinement, RunUserMustBeAllowedByTheAdminAndNeverRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Lastgood lg;
  lg.ServeArgs({"--run-users", "nobody"});
  lg.Given();
  auto with_user = [&](const std::string& user) -> Lastgood& {
    std::string yaml = SampleApp().Yaml();
    yaml.replace(yaml.find("  stopGrace:"), 0, "  user: " + user + "\n");
    lg.Manifest(yaml);
    return lg.Apply({"-o", "json"});
  };
  with_user("root").Then().ExitCode(2).Error("invalid_input", "run.user");
  with_user("daemon").Then().ExitCode(2).Error("invalid_input", "run.user");
  lg.Then().StderrHas("--run-users daemon");
  with_user("no-such-user-here").Then().ExitCode(2).Error("invalid_input", "run.user");
  with_user("nobody").Then().ExitCode(0);
  auto status = lg.Json({"status", "web"});
  EXPECT_EQ(status["confinement"]["runsAs"], "nobody");
}

// `lastgood token create` run as `uid` (0: as the test runs) with `env` added, over the unix
// socket; returns its exit code.
int MintOverTheSocket(const Lastgood& lg, std::map<std::string, std::string> env,
                      std::optional<unsigned> uid = std::nullopt) {
  ProcessOptions o;
  o.argv = {
      lastgood::testutil::kLastgoodBinary, "token", "create", "--name", "pwn", "--role", "admin"};
  if (uid) {
    o.argv.insert(o.argv.begin(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(*uid),
                                   "--regid=" + std::to_string(*uid), "--clear-groups", "--"});
  }
  env["LASTGOOD_HOME"] = lg.home();
  o.env = std::move(env);
  o.unset_env = {"LASTGOOD_SERVER", "LASTGOOD_TOKEN"};
  o.stdout_path = o.stderr_path = lg.home() + "/mint.log";
  auto st = Process(o).Wait(20s);
  return st && st->exited() ? st->code : -1;
}

TEST(Confinement, TheSocketMakesAdminOnlyTheHomesOwnerAndNeverDeployedCode) {
  Lastgood lg;
  lg.Given();
  // A process that carries an instance's marker (as unconfined deployed code would) is
  // refused, and audited with why.
  EXPECT_EQ(MintOverTheSocket(lg, {{"LASTGOOD_INSTANCE", "web-production-v1-ab12"}}), 5)
      << ReadFile(lg.home() + "/mint.log");
  auto refused = LastAudit(lg, "POST /v1/tokens");
  ASSERT_TRUE(refused.is_object());
  EXPECT_EQ(refused["status"], 401);
  EXPECT_NE(refused.value("from", "").find("LASTGOOD_INSTANCE=web-production-v1-ab12"),
            std::string::npos)
      << refused.dump();
  for (const auto& t : lg.Json({"token", "list"})) EXPECT_NE(t.value("name", ""), "pwn");
  // The owner itself is the admin.
  EXPECT_EQ(MintOverTheSocket(lg, {}), 0) << ReadFile(lg.home() + "/mint.log");
}

TEST(Confinement, WithAControllerThatIsNotRootTheSocketRefusesAnotherUidEvenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to start a controller as another uid";
  Lastgood lg;
  lg.AsUser(kTestUid).Given();
  EXPECT_EQ(MintOverTheSocket(lg, {}), 5) << "root is not the home's owner";
  auto refused = LastAudit(lg, "POST /v1/tokens");
  ASSERT_TRUE(refused.is_object());
  EXPECT_NE(refused.value("from", "").find("uid 0 does not own the home"), std::string::npos)
      << refused.dump();
  EXPECT_EQ(MintOverTheSocket(lg, {}, kTestUid), 0) << ReadFile(lg.home() + "/mint.log");
}

TEST(Confinement, TheSweepAtStartStopsAnUnrecordedInstanceButNeverAnOperatorsShellInARelease) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  int unrecorded = lg.Instances()[0].pid;
  // An operator's shell that sits in the release folder, in a session of its own.
  ProcessOptions o;
  o.argv = {"/usr/bin/setsid", "/bin/sh", "-c", "exec sleep 600"};
  o.cwd = lg.home() + "/releases/web/1";
  Process shell(o);
  ASSERT_GT(shell.pid(), 0) << shell.error();
  // The controller dies and its store forgets the instance, as after a crash between an
  // instance's start and its record, or a restore of an older backup.
  lg.KillController(SIGKILL);
  ProcessOptions forget;
  forget.argv = {"/usr/bin/sqlite3", lg.home() + "/lastgood.db", "DELETE FROM instances;"};
  ASSERT_EQ(Process(forget).Wait(10s)->code, 0);

  lg.StartController();

  EXPECT_TRUE(WaitUntil([&] { return ::kill(unrecorded, 0) != 0; }, 10s, 20ms))
      << "the instance no record knows still runs";
  EXPECT_TRUE(shell.Running()) << "the operator's shell was stopped";
  lg.WaitForIdle();
  lg.Then().Serves("v1", 1);
}

}  // namespace
