// `lastgood node`, the agent of a fleet host (docs/fleets.md), driven through its own API on
// its unix socket, as the controller drives it over the socket ssh forwards: it keeps its
// instances and its router's table across its own SIGKILL, refuses an artifact whose digest
// is not the one named, and its binary runs on a host without any -dev package.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/unix_http.h"
#include "testutil/http.h"
#include "testutil/lastgood.h"
#include "testutil/process.h"
#include "testutil/wait.h"

namespace lastgood::testutil {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A node home in a temporary folder; the destructor kills (by pid) what the test started
// there: the node, its router, its instances — every process whose command line or
// working directory names the home.
class NodeHome {
 public:
  NodeHome() {
    dir_ = fs::temp_directory_path() /
           ("lastgood-node-" + std::to_string(::getpid()) + "-" + std::to_string(++serial_));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~NodeHome() {
    for (int pid : ProcessesOf()) ::kill(pid, SIGKILL);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path() const { return dir_.string(); }
  std::string socket() const { return path() + "/node.sock"; }

  // Runs `lastgood node --home DIR args…`, returns its exit code and output.
  std::pair<int, std::string> Run(std::vector<std::string> args,
                                  const std::string& stdin_file = "") {
    std::vector<std::string> argv = {kLastgoodBinary, "node", "--home", path()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = path() + "/.out";
    ProcessOptions o;
    o.argv = argv;
    o.stdout_path = out;
    o.stderr_path = out + ".err";
    if (!stdin_file.empty()) {
      // posix_spawn has no stdin redirection in our helper: go through `sh -c` with the
      // path as a positional argument, never spliced into the script.
      o.argv = {"/bin/sh", "-c", "exec \"$@\" < \"$0\"", stdin_file};
      o.argv.insert(o.argv.end(), argv.begin(), argv.end());
    }
    Process p(o);
    auto status = p.Wait(std::chrono::seconds(30));
    return {status && status->exited() ? status->code : -1, ReadFile(out) + ReadFile(out + ".err")};
  }

  json Call(const std::string& method, const std::string& target, const json& body = nullptr,
            int* status = nullptr) {
    auto reply =
        UnixHttpCall(socket(), method, target, body.is_null() ? "" : body.dump(), Millis(15'000));
    EXPECT_TRUE(reply.ok()) << (reply.ok() ? "" : reply.error().message);
    if (!reply.ok()) return nullptr;
    if (status) *status = reply->status;
    return json::parse(reply->body, nullptr, false);
  }

  // Pids of processes whose command line or working directory is inside the home.
  std::set<int> ProcessesOf() const {
    std::set<int> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
      int pid = std::atoi(e.path().filename().c_str());
      if (pid <= 0 || pid == ::getpid()) continue;
      std::string cmd = ReadFile(e.path().string() + "/cmdline");
      std::error_code ec;
      std::string cwd = fs::read_symlink(e.path() / "cwd", ec).string();
      if (cmd.find(path()) != std::string::npos || (!ec && cwd.rfind(path(), 0) == 0))
        out.insert(pid);
    }
    return out;
  }

 private:
  static inline int serial_ = 0;
  fs::path dir_;
};

std::string Sha256Of(const std::string& file) {
  std::string out = file + ".sha";
  ProcessOptions o;
  o.argv = {"/usr/bin/sha256sum", file};
  o.stdout_path = out;
  Process p(o);
  p.Wait(std::chrono::seconds(30));
  std::string text = ReadFile(out);
  fs::remove(out);
  return "sha256:" + text.substr(0, 64);
}

TEST(Node, TheBinaryNeedsOnlyGlibcAndTheCompilersRuntime) {
  std::string out = fs::temp_directory_path() / ("lastgood-readelf-" + std::to_string(::getpid()));
  ProcessOptions o;
  o.argv = {"/usr/bin/readelf", "-d", kLastgoodBinary};
  o.stdout_path = out;
  Process p(o);
  auto status = p.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(status && status->code == 0) << "readelf failed";
  std::string text = ReadFile(out);
  fs::remove(out);
  const std::set<std::string> allowed = {"libc.so.6",
                                         "libm.so.6",
                                         "libpthread.so.0",
                                         "libdl.so.2",
                                         "librt.so.1",
                                         "libstdc++.so.6",
                                         "libgcc_s.so.1",
                                         "ld-linux-x86-64.so.2",
                                         "ld-linux-aarch64.so.1"};
  std::istringstream lines(text);
  std::string line;
  int needed = 0;
  while (std::getline(lines, line)) {
    if (line.find("(NEEDED)") == std::string::npos) continue;
    ++needed;
    auto open = line.find('['), close = line.find(']');
    ASSERT_NE(open, std::string::npos) << line;
    std::string lib = line.substr(open + 1, close - open - 1);
    EXPECT_TRUE(allowed.count(lib))
        << kLastgoodBinary << " needs " << lib << ", which a bare Debian host does not have";
  }
  EXPECT_GT(needed, 0) << "no dynamic section read:\n" << text;
}

TEST(Node, RefusesAnArtifactWhoseDigestIsNotTheOneNamed) {
  NodeHome home;
  std::string file = home.path() + "/payload";
  { std::ofstream(file) << "the bytes that left the controller\n"; }
  std::string right = Sha256Of(file);
  std::string wrong = "sha256:" + std::string(64, 'a');
  auto [code, out] = home.Run({"--receive-artifact", wrong}, file);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("not " + wrong), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(home.path() + "/artifacts/" + wrong.substr(7)));
  auto [ok_code, ok_out] = home.Run({"--receive-artifact", right}, file);
  EXPECT_EQ(ok_code, 0) << ok_out;
}

TEST(Node, KeepsItsInstancesAndItsRoutersTableAcrossItsOwnSigkill) {
  NodeHome home;
  // The sample app travels as an artifact, checked by digest, into a release directory.
  std::string digest = Sha256Of(kSampleBinary);
  auto [pushed, push_out] = home.Run({"--receive-artifact", digest, "--executable"}, kSampleBinary);
  ASSERT_EQ(pushed, 0) << push_out;
  auto [started, start_out] = home.Run({"--detach"});
  ASSERT_EQ(started, 0) << start_out;
  json info = home.Call("GET", "/v1/node");
  ASSERT_TRUE(info.is_object()) << info;
  int node_pid = info["pid"];
  EXPECT_FALSE(info["buildId"].get<std::string>().empty());

  json release =
      home.Call("POST", "/v1/releases",
                {{"app", "web"}, {"version", 1}, {"digest", digest}, {"name", "lastgood-sample"}});
  ASSERT_TRUE(release.contains("dir")) << release;
  json spec = {{"id", "web-production-1-a"},
               {"argv", {"./lastgood-sample", "--port", "${PORT}", "--label", "v1"}},
               {"cwd", release["dir"]}};
  json handle = home.Call("PUT", "/v1/instances/web-production-1-a", spec);
  ASSERT_TRUE(handle.contains("pid")) << handle;
  // Asked again (a controller re-running its step after a crash): the same process.
  json again = home.Call("PUT", "/v1/instances/web-production-1-a", spec);
  EXPECT_EQ(again["pid"], handle["pid"]) << "an ensure started a second process";

  int listen = FreePort();
  json table = {{"generation", 7},
                {"listeners",
                 {{{"address", "127.0.0.1:" + std::to_string(listen)},
                   {"host", ""},
                   {"app", "web"},
                   {"slot", "production"}}}},
                {"apps",
                 {{{"name", "web"},
                   {"split", json::object()},
                   {"slots",
                    {{{"name", "production"},
                      {"versions",
                       {{{"version", 1},
                         {"weight", 100},
                         {"backends",
                          {{{"id", "web-production-1-a"},
                            {"address",
                             "127.0.0.1:" + std::to_string(handle["port"].get<int>())}}}}}}}}}}}}}};
  int status = 0;
  home.Call("PUT", "/v1/router/table", table, &status);
  ASSERT_EQ(status, 200);
  auto served = [&] {
    auto r = HttpGet("127.0.0.1", listen, "/");
    return r.error.empty() && r.status == 200 && r.body.rfind("v1\n", 0) == 0;
  };
  ASSERT_TRUE(WaitUntil(served, 10s)) << "the node's router does not serve its table";

  // The node and its router die at once; the instance does not.
  json router_health = json::parse(
      UnixHttpCall(home.path() + "/router.sock", "GET", "/v1/health", "", Millis(5000))->body);
  ::kill(node_pid, SIGKILL);
  ::kill(router_health["pid"].get<int>(), SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return ::kill(node_pid, 0) != 0; }, 5s));

  auto [restarted, restart_out] = home.Run({"--detach"});
  ASSERT_EQ(restarted, 0) << restart_out;
  json state = home.Call("GET", "/v1/instances/web-production-1-a");
  EXPECT_EQ(state["alive"], true) << state;
  EXPECT_EQ(state["handle"]["pid"], handle["pid"]) << "the instance was not re-adopted";
  EXPECT_TRUE(WaitUntil(served, 10s)) << "the restarted router did not restore its table";
  std::string log = ReadFile(home.path() + "/logs/node.log");
  EXPECT_NE(log.find("re-adopted instance web-production-1-a"), std::string::npos) << log;

  // An instance stopped through the API is gone and forgotten.
  home.Call("DELETE", "/v1/instances/web-production-1-a", nullptr, &status);
  EXPECT_EQ(status, 200);
  // Gone, or a zombie its new parent (init, since the node that started it died) reaps soon.
  auto gone = [pid = handle["pid"].get<int>()] {
    std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return stat.empty() || (paren != std::string::npos && stat.substr(paren + 2, 1) == "Z");
  };
  EXPECT_TRUE(WaitUntil(gone, 5s)) << "the instance still runs";
  home.Call("GET", "/v1/instances/web-production-1-a", nullptr, &status);
  EXPECT_EQ(status, 404);
}

TEST(Node, RefusesToRunAnInstanceOutsideItsReleaseDirectories) {
  NodeHome home;
  auto [started, out] = home.Run({"--detach"});
  ASSERT_EQ(started, 0) << out;
  int status = 0;
  json refused =
      home.Call("PUT", "/v1/instances/evil",
                {{"id", "evil"}, {"argv", {"/bin/sleep", "100"}}, {"cwd", "/etc"}}, &status);
  EXPECT_EQ(status, 400) << refused;
  json escape = home.Call(
      "PUT", "/v1/instances/evil",
      {{"id", "evil"}, {"argv", {"/bin/sleep", "100"}}, {"cwd", home.path() + "/releases/../.."}},
      &status);
  EXPECT_EQ(status, 400) << escape;
  EXPECT_EQ(home.Call("GET", "/v1/node")["instances"], 0);
  struct stat st {};
  ASSERT_EQ(::stat(home.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the node's socket is open to other users";
}

TEST(Node, RefusesASecondNodeOnTheSameHome) {
  NodeHome home;
  auto [first, out] = home.Run({"--detach"});
  ASSERT_EQ(first, 0) << out;
  auto [second, out2] = home.Run({"--detach"});
  EXPECT_EQ(second, 3) << out2;
}

}  // namespace
}  // namespace lastgood::testutil
