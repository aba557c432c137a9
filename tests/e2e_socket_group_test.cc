// End-to-end: `serve --socket-group GROUP` (issue 15 §3, docs/security.md). As root, the test
// makes a scratch group and three scratch users — one whose primary group it is, one with it
// as a supplementary group, one outside it — and removes them by name when it ends, failed or
// not. Members run the CLI through api.sock as admins; anyone else is refused, even a process
// that was handed the group's gid without being a member of it, and so is a member's process
// in a pid namespace of its own (deployed code is never admitted by the socket).
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testutil/lastgood.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::kLastgoodBinary;
using lastgood::testutil::Lastgood;
using lastgood::testutil::Process;
using lastgood::testutil::ProcessOptions;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;

// Runs a system tool (no shell); its exit code, or -1.
int RunTool(std::vector<std::string> argv) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.stdout_path = "/dev/null";
  o.stderr_path = "/dev/null";
  Process p(o);
  auto st = p.Wait(20s);
  return st && st->exited() ? st->code : -1;
}

// The scratch group and users; removed by name in the destructor.
struct ScratchAccounts {
  std::string group, primary, supplementary, outsider;
  gid_t gid = 0;
  ScratchAccounts() {
    std::string tag = std::to_string(::getpid());
    group = "lg-e2e-g" + tag;
    primary = "lg-e2e-p" + tag;
    supplementary = "lg-e2e-s" + tag;
    outsider = "lg-e2e-o" + tag;
    Remove();  // left over from a run that was killed
    ok = RunTool({"/usr/sbin/groupadd", group}) == 0 &&
         RunTool({"/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-g", group,
                  primary}) == 0 &&
         RunTool({"/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", group,
                  supplementary}) == 0 &&
         RunTool({"/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", outsider}) == 0;
    if (struct group* g = ::getgrnam(group.c_str())) gid = g->gr_gid;
  }
  ~ScratchAccounts() { Remove(); }
  void Remove() {
    for (const auto& user : {primary, supplementary, outsider})
      RunTool({"/usr/sbin/userdel", user});
    RunTool({"/usr/sbin/groupdel", group});
  }
  bool ok = false;
};

struct GroupRun {
  int code = -1;
  std::string out, err;
};

// `lastgood args...` against `lg`'s home, as `user` with the credentials setpriv gives
// (`groups`: its supplementary groups, "" none), inside `prefix` (e.g. unshare).
GroupRun RunAsUser(const Lastgood& lg, const std::string& user, const std::string& groups,
                   std::vector<std::string> args, std::vector<std::string> prefix = {}) {
  passwd* pw = ::getpwnam(user.c_str());
  GroupRun r;
  if (pw == nullptr) return r;
  ProcessOptions o;
  o.argv = std::move(prefix);
  std::vector<std::string> setpriv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(pw->pw_uid),
                                      "--regid=" + std::to_string(pw->pw_gid)};
  if (groups.empty()) {
    setpriv.push_back("--clear-groups");
  } else {
    setpriv.push_back("--groups=" + groups);
  }
  setpriv.insert(setpriv.end(), {"--", kLastgoodBinary});
  o.argv.insert(o.argv.end(), setpriv.begin(), setpriv.end());
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {{"LASTGOOD_HOME", lg.home()}, {"HOME", "/"}};
  o.unset_env = {"LASTGOOD_SERVER", "LASTGOOD_TOKEN"};
  static int n = 0;
  std::string base =
      "/tmp/lg-e2e-socket-group." + std::to_string(::getpid()) + "." + std::to_string(++n);
  o.stdout_path = base + ".out";
  o.stderr_path = base + ".err";
  Process p(o);
  auto st = p.Wait(30s);
  if (st && st->exited()) r.code = st->code;
  r.out = ReadFile(o.stdout_path);
  r.err = ReadFile(o.stderr_path);
  ::unlink(o.stdout_path.c_str());
  ::unlink(o.stderr_path.c_str());
  return r;
}

TEST(SocketGroup, MembersUseTheSocketAsAdminsAndNobodyElseDoes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: makes a scratch group and users";
  ScratchAccounts accounts;
  ASSERT_TRUE(accounts.ok) << "groupadd/useradd failed";
  Lastgood lg;
  lg.ServeArgs({"--socket-group", accounts.group});
  lg.Given().App(SampleApp()).Applied();

  struct stat socket_stat {
  }, home_stat{};
  ASSERT_EQ(::stat((lg.home() + "/api.sock").c_str(), &socket_stat), 0);
  EXPECT_EQ(socket_stat.st_mode & 07777, 0660u);
  EXPECT_EQ(socket_stat.st_gid, accounts.gid);
  ASSERT_EQ(::stat(lg.home().c_str(), &home_stat), 0);
  EXPECT_EQ(home_stat.st_mode & 07777, 0710u);
  EXPECT_EQ(home_stat.st_gid, accounts.gid);

  // A member by its primary group, and one by a supplementary group whose process does not
  // carry it (membership is the system's record, not the process's groups).
  GroupRun primary = RunAsUser(lg, accounts.primary, "", {"status", "web"});
  EXPECT_EQ(primary.code, 0) << primary.err;
  EXPECT_NE(primary.out.find("production"), std::string::npos) << primary.out;
  GroupRun supplementary =
      RunAsUser(lg, accounts.supplementary, std::to_string(accounts.gid), {"status", "web"});
  EXPECT_EQ(supplementary.code, 0) << supplementary.err;
  // As admins: they manage tokens, and the audit names them.
  GroupRun token = RunAsUser(lg, accounts.supplementary, std::to_string(accounts.gid),
                             {"token", "create", "--name", "ops-bot", "--role", "viewer"});
  EXPECT_EQ(token.code, 0) << token.err;
  auto audit = lg.Json({"audit"});
  bool named = false;
  for (const auto& e : audit)
    named = named || e.value("actor", "") == "local:" + accounts.supplementary;
  EXPECT_TRUE(named) << audit.dump(2);

  // Outside the group: the socket's mode keeps it out.
  GroupRun outsider = RunAsUser(lg, accounts.outsider, "", {"status", "web"});
  EXPECT_EQ(outsider.code, 5) << outsider.err;
  // Handed the group's gid by root (setgroups), it passes the socket's mode; the controller
  // still refuses it: it is not a member by the system's record.
  GroupRun handed =
      RunAsUser(lg, accounts.outsider, std::to_string(accounts.gid), {"status", "web"});
  EXPECT_EQ(handed.code, 5) << handed.err;
  EXPECT_NE(handed.err.find("401"), std::string::npos) << handed.err;

  // A member's process in a pid namespace of its own is taken for deployed code.
  GroupRun confined = RunAsUser(lg, accounts.primary, "", {"status", "web"},
                                {"/usr/bin/unshare", "--pid", "--fork", "--"});
  EXPECT_EQ(confined.code, 5) << confined.err;
}

TEST(SocketGroup, AnUnknownGroupIsRefusedAtStart) {
  Lastgood lg;
  ProcessOptions o;
  o.argv = {kLastgoodBinary,  "serve",           "--ui", "off", "--no-router",
            "--socket-group", "lg-no-such-group"};
  o.env = {{"LASTGOOD_HOME", lg.home()}};
  o.stdout_path = lg.home() + "/serve.out";
  o.stderr_path = lg.home() + "/serve.err";
  Process p(o);
  auto st = p.Wait(20s);
  ASSERT_TRUE(st && st->exited());
  EXPECT_EQ(st->code, 2);
  EXPECT_NE(ReadFile(o.stderr_path).find("no such group"), std::string::npos);
}

}  // namespace
