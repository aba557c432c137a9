// Lastgood: an end-to-end scenario in Given/When/Then style (STYLE.md rule 10). It owns a
// temporary LASTGOOD_HOME, runs the real `lastgood serve` there, runs CLI verbs as real
// processes (argv, never a shell) with a timeout, parses their `-o json` output, and reaches
// instances over loopback HTTP on the addresses `status` reports.
//
//   Lastgood lg;
//   lg.Given().App(SampleApp().Label("v1")).Applied();
//   lg.When().Apply({"--param", "label=v2"});
//   lg.Then().ExitCode(0).Serves("v2");
//
// Given() starts the controller (once). When()/Then()/And() only make a test read well.
// Expectations are non-fatal gtest failures that quote the last command and its output.
// Teardown (the destructor): SIGTERM to the controller (SIGKILL after 10s), then SIGKILL to
// every process whose working directory is inside the home (the instances) or whose command
// line names it (the router) — both outlive the controller by design — then the home is
// removed (kept when the test failed). Nothing started by a scenario outlives it.
//
// Thread-safety: a Lastgood is owned by one test thread.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testutil/http.h"
#include "testutil/process.h"
#include "testutil/wait.h"

namespace lastgood::testutil {

using namespace std::chrono_literals;

inline constexpr char kLastgoodBinary[] = LASTGOOD_BUILD_DIR "/lastgood";
inline constexpr char kSampleBinary[] = LASTGOOD_BUILD_DIR "/lastgood-sample";
inline constexpr std::chrono::milliseconds kCommandTimeout{30'000};
inline constexpr std::chrono::milliseconds kControllerStartTimeout{10'000};

// A manifest of the sample app (examples/sample.yaml, made fast): its knobs become parameter
// defaults, so `--param label=v2` works as with the example; the artifact is the sample binary
// of this build, by absolute path.
struct SampleApp {
  std::string app = "web";
  std::string label = "v1";
  std::string failRate = "0";
  std::string startupMs = "0";
  bool crashOnStart = false;
  bool healthy = true;
  int replicas = 1;
  std::string strategy = "rolling";  // rolling | recreate
  std::string bake = "0";
  std::string progressDeadline = "10s";
  std::string onError = "lastSuccessful";
  std::string keepPrevious;                   // rollback.keepPrevious, when given
  std::string program = "./lastgood-sample";  // argv[0]
  std::string readiness = "{ http: /healthz, interval: 100ms, timeout: 1s, failureThreshold: 3 }";
  std::string extra;         // YAML appended as is
  std::string strategyYaml;  // YAML under `strategy:` after its type (canary steps, …)
  std::string envYaml;       // lines under `run.env:` after GREETING
  std::string paramsYaml;    // more parameters

  SampleApp& App(std::string v) { return app = std::move(v), *this; }
  SampleApp& Label(std::string v) { return label = std::move(v), *this; }
  SampleApp& FailRate(std::string v) { return failRate = std::move(v), *this; }
  SampleApp& StartupMs(int v) { return startupMs = std::to_string(v), *this; }
  SampleApp& CrashOnStart(bool v = true) { return crashOnStart = v, *this; }
  SampleApp& Healthy(bool v) { return healthy = v, *this; }
  SampleApp& Replicas(int v) { return replicas = v, *this; }
  SampleApp& Strategy(std::string v) { return strategy = std::move(v), *this; }
  SampleApp& Bake(std::string v) { return bake = std::move(v), *this; }
  SampleApp& ProgressDeadline(std::string v) { return progressDeadline = std::move(v), *this; }
  SampleApp& OnError(std::string v) { return onError = std::move(v), *this; }
  SampleApp& KeepPrevious(std::string v) { return keepPrevious = std::move(v), *this; }
  SampleApp& Program(std::string v) { return program = std::move(v), *this; }
  SampleApp& Readiness(std::string v) { return readiness = std::move(v), *this; }
  SampleApp& Extra(std::string v) { return extra += v + "\n", *this; }
  SampleApp& StrategyYaml(std::string v) { return strategyYaml += v + "\n", *this; }
  SampleApp& Param(const std::string& name, const std::string& value) {
    return paramsYaml += "  " + name + ": { default: \"" + value + "\" }\n", *this;
  }
  SampleApp& Env(std::string v) { return envYaml += "    " + v + "\n", *this; }

  // The manifest; `run.command` is on line 10 when no Param() was added (tests quote that line).
  std::string Yaml() const {
    std::string y;
    auto line = [&y](const std::string& text) { y += text + "\n"; };
    auto q = [](const std::string& text) { return "\"" + text + "\""; };
    line("app: " + app);
    line("parameters:");
    line("  label: { default: " + q(label) + " }");
    line("  failRate: { default: " + q(failRate) + " }");
    line("  startupMs: { default: " + q(startupMs) + " }");
    line("  crashOnStart: { default: " + q(crashOnStart ? "true" : "false") + " }");
    line("  healthy: { default: " + q(healthy ? "true" : "false") + " }");
    y += paramsYaml;
    line("run:");
    line("  artifact: " + std::string(kSampleBinary));
    line("  command: [" + q(program) +
         ", \"--port\", \"${PORT}\", \"--label\", \"${params.label}\", " +
         "\"--fail-rate\", \"${params.failRate}\", \"--startup-ms\", \"${params.startupMs}\", " +
         "\"--crash-on-start\", \"${params.crashOnStart}\", \"--healthy\", \"${params.healthy}\"]");
    line("  env:");
    line("    GREETING: \"hello ${params.label}\"");
    y += envYaml;
    line("  stopGrace: 2s");
    line("replicas: " + std::to_string(replicas));
    line("health:");
    line("  readiness: " + readiness);
    line("strategy:");
    line("  type: " + strategy);
    if (strategy == "rolling" && strategyYaml.find("  rolling:") == std::string::npos)
      line("  rolling: { maxSurge: 1, maxUnavailable: 0 }");
    y += strategyYaml;
    line("progressDeadline: " + progressDeadline);
    line("bake: " + bake);
    line("rollback:");
    line("  onError: " + onError);
    if (!keepPrevious.empty()) line("  keepPrevious: " + keepPrevious);
    return y + extra;
  }
};

// What one CLI command did.
struct CliResult {
  std::vector<std::string> args;
  int code = -1;  // exit code; -1 when it was killed or timed out
  std::string out, err;
  // stdout parsed as JSON (discarded value when it is not JSON).
  nlohmann::json Json() const { return nlohmann::json::parse(out, nullptr, false); }
  // The {"error": {...}} object that `-o json` prints on stderr (discarded when absent).
  nlohmann::json ErrorJson() const {
    auto j = nlohmann::json::parse(err, nullptr, false);
    return j.is_object() && j.contains("error")
               ? j["error"]
               : nlohmann::json(nlohmann::json::value_t::discarded);
  }
};

// One instance as `status -o json` reports it.
struct Instance {
  std::string id, state;
  int version = 0, pid = 0, restarts = 0, port = 0;
};

class Lastgood {
 public:
  Lastgood() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lg-e2e-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    home_ = pattern;
  }
  ~Lastgood() {
    StopController(SIGTERM);
    KillInstances();
    std::error_code ec;
    if (!::testing::Test::HasFailure())
      std::filesystem::remove_all(home_, ec);
    else
      std::cerr << "lastgood e2e: kept the home of the failed test: " << home_ << "\n";
  }
  Lastgood(const Lastgood&) = delete;
  Lastgood& operator=(const Lastgood&) = delete;

  const std::string& home() const { return home_; }
  const CliResult& last() const { return last_; }

  // --- Given ---------------------------------------------------------------------------
  // Starts the controller unless it runs.
  Lastgood& Given() {
    if (!controller_.Running()) StartController();
    return *this;
  }
  // Writes the manifest to <home>/<name>.yaml; later Apply() calls use it.
  Lastgood& App(const SampleApp& app, const std::string& name = "web") {
    return Manifest(app.Yaml(), name);
  }
  Lastgood& Manifest(const std::string& yaml, const std::string& name = "web") {
    manifest_ = home_ + "/" + name + ".yaml";
    std::ofstream(manifest_) << yaml;
    return *this;
  }
  // Applies the current manifest and expects success.
  Lastgood& Applied(std::vector<std::string> args = {}) {
    return Apply(std::move(args)).ExitCode(0);
  }

  // --- When ----------------------------------------------------------------------------
  Lastgood& When() { return *this; }
  Lastgood& And() { return *this; }
  // `lastgood apply -f <current manifest> args...`
  Lastgood& Apply(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"apply", "-f", manifest_});
    return Run(std::move(args));
  }
  // Runs `lastgood args...` with LASTGOOD_HOME set; the result is last().
  Lastgood& Run(std::vector<std::string> args,
                std::chrono::milliseconds timeout = kCommandTimeout) {
    last_ = Cli(std::move(args), timeout);
    return *this;
  }
  // Runs `lastgood args...` with `input` on its stdin (a secret's value, never in argv).
  Lastgood& RunWithInput(std::vector<std::string> args, const std::string& input) {
    const std::string path = home_ + "/cli.stdin";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << input;
    last_ = Cli(std::move(args), kCommandTimeout, path);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return *this;
  }
  // Extra environment for `lastgood serve` (e.g. LASTGOOD_FAKE_BUILD_ID), from the next
  // StartController on.
  Lastgood& ServeEnv(std::map<std::string, std::string> env) {
    serve_env_ = std::move(env);
    return *this;
  }
  // The lastgood binary that `serve` runs (e.g. testutil/other_build.h's: an upgrade of the
  // controller), from the next StartController on; the CLI stays kLastgoodBinary.
  Lastgood& ServeBinary(std::string path) {
    serve_binary_ = std::move(path);
    return *this;
  }
  // Extra flags for `lastgood serve` (e.g. --listen), from the next StartController on.
  Lastgood& ServeArgs(std::vector<std::string> args) {
    serve_args_ = std::move(args);
    return *this;
  }
  // Runs the controller and every later command as `uid` (setpriv; no supplementary groups;
  // $HOME is the lastgood home), and gives it the home: the case of a controller that is not
  // root, for a test that runs as root. From the next StartController on.
  Lastgood& AsUser(unsigned uid) {
    as_user_ = uid;
    std::error_code ec;
    ::chown(home_.c_str(), uid, uid);
    for (const auto& e : std::filesystem::recursive_directory_iterator(home_, ec)) {
      ::lchown(e.path().c_str(), uid, uid);
    }
    return *this;
  }
  // Starts `lastgood serve` and waits until its API answers.
  Lastgood& StartController() {
    ProcessOptions o;
    o.argv = {serve_binary_, "serve"};
    o.argv.insert(o.argv.end(), serve_args_.begin(), serve_args_.end());
    o.env = serve_env_;
    o.env["LASTGOOD_HOME"] = home_;
    AsUserIfAsked(o);
    o.stdout_path = home_ + "/serve.out";
    o.stderr_path = home_ + "/serve.err." + std::to_string(++serve_runs_);
    controller_ = Process(o);
    EXPECT_GT(controller_.pid(), 0) << controller_.error();
    bool up = WaitUntil([&] { return Cli({"apps"}, 2s).code == 0 || !controller_.Running(); },
                        kControllerStartTimeout, 20ms);
    EXPECT_TRUE(up && controller_.Running()) << "controller did not answer; its log:\n"
                                             << ReadFile(o.stderr_path);
    return *this;
  }
  // Signals the controller and waits (bounded) for it to end; returns its exit status.
  std::optional<ExitStatus> StopController(int sig) {
    if (!controller_.Running()) return controller_.Wait(0ms);
    controller_.Kill(sig);
    auto st = controller_.Wait(10s);
    if (!st) {
      ADD_FAILURE() << "the controller ignored signal " << sig << " for 10s";
      controller_.Kill(SIGKILL);
      st = controller_.Wait(10s);
    }
    return st;
  }
  Lastgood& KillController(int sig) {
    StopController(sig);
    return *this;
  }
  // Waits until `status` names a running deployment whose current step contains `step`.
  Lastgood& WaitForStep(const std::string& step, std::chrono::milliseconds timeout = 15s) {
    bool seen = WaitUntil(
        [&] {
          auto s = Status();
          return s.is_object() && s["deployment"].is_object() &&
                 s["deployment"].value("step", "").find(step) != std::string::npos;
        },
        timeout, 20ms);
    EXPECT_TRUE(seen) << "no running deployment reached step '" << step << "'; status:\n"
                      << Status().dump(2);
    return *this;
  }
  // Waits until no deployment of the app runs.
  Lastgood& WaitForIdle(std::chrono::milliseconds timeout = 20s, const std::string& app = "web") {
    bool idle = WaitUntil(
        [&] {
          auto s = Status(app);
          return s.is_object() && s["deployment"].is_null();
        },
        timeout, 50ms);
    EXPECT_TRUE(idle) << "a deployment still runs; status:\n" << Status(app).dump(2);
    return *this;
  }

  // --- Then ----------------------------------------------------------------------------
  Lastgood& Then() { return *this; }
  Lastgood& ExitCode(int code) {
    EXPECT_EQ(last_.code, code) << Context();
    return *this;
  }
  Lastgood& OutputHas(const std::string& text) {
    EXPECT_NE(last_.out.find(text), std::string::npos)
        << "stdout lacks '" << text << "'" << Context();
    return *this;
  }
  Lastgood& StderrHas(const std::string& text) {
    EXPECT_NE(last_.err.find(text), std::string::npos)
        << "stderr lacks '" << text << "'" << Context();
    return *this;
  }
  // The last command (run with -o json) failed with this error code, field and line
  // (field "" / line 0: not checked).
  Lastgood& Error(const std::string& code, const std::string& field = "", int line = 0) {
    auto e = last_.ErrorJson();
    if (e.is_discarded()) {
      ADD_FAILURE() << "no JSON error on stderr" << Context();
      return *this;
    }
    EXPECT_EQ(e.value("code", ""), code) << Context();
    EXPECT_FALSE(e.value("message", "").empty()) << Context();
    if (!field.empty()) {
      EXPECT_EQ(e.value("field", ""), field) << Context();
    }
    if (line > 0) {
      EXPECT_EQ(e.value("line", 0), line) << Context();
    }
    return *this;
  }
  // Every production instance answers GET / with `label` as its first line, and there are
  // `count` of them (0: at least one).
  Lastgood& Serves(const std::string& label, size_t count = 0, const std::string& app = "web") {
    auto instances = Instances(app);
    if (count > 0) {
      EXPECT_EQ(instances.size(), count) << Status(app).dump(2);
    }
    EXPECT_FALSE(instances.empty()) << Status(app).dump(2);
    for (const auto& i : instances) EXPECT_EQ(Label(i.port), label) << "instance " << i.id;
    return *this;
  }
  Lastgood& VersionCount(size_t n, const std::string& app = "web") {
    EXPECT_EQ(Versions(app).size(), n) << Versions(app).dump(2);
    return *this;
  }
  Lastgood& Verdict(int version, const std::string& verdict, const std::string& app = "web") {
    auto v = Versions(app);
    bool found = false;
    for (const auto& x : v) {
      if (x.value("version", 0) != version) continue;
      found = true;
      EXPECT_EQ(x.value("verdict", ""), verdict) << "v" << version << ":\n" << v.dump(2);
    }
    EXPECT_TRUE(found) << "no v" << version << ":\n" << v.dump(2);
    return *this;
  }
  Lastgood& HistorySize(size_t n, const std::string& app = "web") {
    EXPECT_EQ(History(app).size(), n) << History(app).dump(2);
    return *this;
  }

  // --- Reading state (json arrays/objects, empty array on failure) ----------------------
  nlohmann::json Json(std::vector<std::string> args) {
    args.insert(args.end(), {"-o", "json"});
    auto r = Cli(args, kCommandTimeout);
    auto j = r.Json();
    if (r.code != 0 || j.is_discarded()) return nlohmann::json::array();
    return j;
  }
  nlohmann::json Status(const std::string& app = "web") { return Json({"status", app}); }
  nlohmann::json History(const std::string& app = "web") { return Json({"history", app}); }
  nlohmann::json Versions(const std::string& app = "web") { return Json({"versions", app}); }
  nlohmann::json Deployment(const std::string& name, const std::string& app = "web") {
    return Json({"deployment", app, name});
  }
  // The production slot's instances.
  std::vector<Instance> Instances(const std::string& app = "web") {
    std::vector<Instance> out;
    auto s = Status(app);
    if (!s.is_object() || !s["slots"].contains("production")) return out;
    for (const auto& i : s["slots"]["production"]["instances"]) {
      Instance x{i.value("id", ""), i.value("state", ""),   i.value("version", 0),
                 i.value("pid", 0), i.value("restarts", 0), 0};
      std::string addr = i.value("address", "");
      x.port = std::atoi(addr.substr(addr.rfind(':') + 1).c_str());
      out.push_back(x);
    }
    return out;
  }
  // The first line of GET / on the instance's port, or "" when it does not answer 200.
  static std::string Label(int port) {
    auto r = HttpGet("127.0.0.1", port, "/");
    if (!r.ok() || r.status != 200) return "";
    return r.body.substr(0, r.body.find('\n'));
  }
  // Pids of live processes whose working directory is inside the home and that lead a
  // session: the instances (a confined instance's program runs under its init, which leads
  // the session and is the pid `status` reports).
  std::set<int> InstancePids() const {
    std::set<int> leaders;
    for (int pid : PidsOf(false)) {
      if (::getsid(pid) == pid) leaders.insert(pid);
    }
    return leaders;
  }
  // The last command, its exit code and output, for failure messages.
  std::string Context() const {
    std::string cmd = "lastgood";
    for (const auto& a : last_.args) cmd += " " + a;
    return "\n$ " + cmd + "\nexit " + std::to_string(last_.code) + "\nstdout:\n" + last_.out +
           "stderr:\n" + last_.err;
  }

 private:
  CliResult Cli(std::vector<std::string> args, std::chrono::milliseconds timeout,
                const std::string& stdin_path = "") {
    CliResult r;
    r.args = args;
    ProcessOptions o;
    o.stdin_path = stdin_path;
    o.argv = {kLastgoodBinary};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {{"LASTGOOD_HOME", home_}};
    o.unset_env = {"LASTGOOD_SERVER", "LASTGOOD_TOKEN"};
    AsUserIfAsked(o);
    std::string base = home_ + "/cli." + std::to_string(++cli_runs_);
    o.stdout_path = base + ".out";
    o.stderr_path = base + ".err";
    Process p(o);
    auto st = p.Wait(timeout);
    if (!st)
      r.err = "(timed out after " + std::to_string(timeout.count()) + "ms) ";
    else if (st->exited())
      r.code = st->code;
    r.out = ReadFile(o.stdout_path);
    r.err += ReadFile(o.stderr_path);
    std::error_code ec;
    std::filesystem::remove(o.stdout_path, ec);
    std::filesystem::remove(o.stderr_path, ec);
    return r;
  }

  // Live processes whose working directory is inside the home (instances) or, with
  // `with_router`, whose command line names the home (the router: `router --home H`).
  std::set<int> PidsOf(bool with_router) const {
    std::set<int> pids;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      int pid = std::atoi(e.path().filename().c_str());
      if (pid <= 0 || pid == ::getpid()) continue;
      std::error_code link_ec;
      auto cwd = std::filesystem::read_symlink(e.path() / "cwd", link_ec).string();
      bool mine = !link_ec && (cwd == home_ || cwd.rfind(home_ + "/", 0) == 0);
      if (!mine && with_router) {
        std::string cmdline = ReadFile(e.path().string() + "/cmdline");
        mine = cmdline.find(home_) != std::string::npos;
      }
      if (!mine) continue;
      if (ReadFile(e.path().string() + "/stat").find(") Z") != std::string::npos) continue;
      pids.insert(pid);
    }
    return pids;
  }

  void AsUserIfAsked(ProcessOptions& o) const {
    if (!as_user_) return;
    std::string id = std::to_string(*as_user_);
    o.argv.insert(o.argv.begin(),
                  {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"});
    o.env["HOME"] = home_;
  }

  // The controller is stopped by now, so nothing restarts what is killed here.
  void KillInstances() {
    for (int round = 0; round < 100; ++round) {
      auto pids = PidsOf(true);
      if (pids.empty()) return;
      for (int pid : pids) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "processes of " << home_ << " survived SIGKILL";
  }

  std::string home_;
  std::string manifest_;
  Process controller_;
  CliResult last_;
  int cli_runs_ = 0;
  int serve_runs_ = 0;
  std::vector<std::string> serve_args_;
  std::string serve_binary_ = kLastgoodBinary;
  std::optional<unsigned> as_user_;
  std::map<std::string, std::string> serve_env_;
};

}  // namespace lastgood::testutil
