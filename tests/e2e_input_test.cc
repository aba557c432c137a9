// End-to-end: bad input (issue 2, item 6). Every manifest in examples/bad/, undefined and
// unknown parameters, a bad app name, a missing file: exit 2 with the field path and line in
// the -o json error, and nothing changed. Also: no controller → exit 5.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "testutil/lastgood.h"

namespace {

using lastgood::testutil::Lastgood;
using lastgood::testutil::ReadFile;
using lastgood::testutil::SampleApp;

const std::string kBadDir = LASTGOOD_SOURCE_DIR "/examples/bad";

// What line 1 of an examples/bad file promises: "expect field F at line N", or "expect "TEXT"
// at line N", or only a line.
struct Promise {
  std::string field, text;
  int line = 0;
};

Promise PromiseOf(const std::string& file) {
  std::string first = ReadFile(file).substr(0, ReadFile(file).find('\n'));
  Promise p;
  std::smatch m;
  if (std::regex_search(first, m, std::regex("field (\\S+) at line (\\d+)"))) {
    p.field = m[1];
    p.line = std::stoi(m[2]);
  } else if (std::regex_search(first, m, std::regex("expect \"(.*)\" at line (\\d+)"))) {
    p.text = m[1];
    p.line = std::stoi(m[2]);
  }
  return p;
}

class BadManifest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadManifest, IsRefusedWithExitTwoFieldAndLineAndChangesNothing) {
  const std::string file = kBadDir + "/" + GetParam() + ".yaml";
  Promise p = PromiseOf(file);
  Lastgood lg;

  lg.Given().When().Run({"apply", "-f", file, "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input", p.field, p.line);
  auto e = lg.last().ErrorJson();
  ASSERT_TRUE(e.is_object()) << lg.last().err;
  EXPECT_GT(e.value("line", 0), 0) << "every manifest error has a line: " << e.dump();
  if (!p.text.empty()) lg.Then().StderrHas(p.text);
  EXPECT_TRUE(lg.Json({"apps"}).empty()) << "nothing was stored";

  lg.When().Run({"apply", "-f", file});  // text form: says where, on stderr
  lg.Then().ExitCode(2).StderrHas("line");
}

std::vector<std::string> BadManifests() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kBadDir)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(ExamplesBad, BadManifest, ::testing::ValuesIn(BadManifests()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(Input, ThereIsABadExampleForEachKindOfMistake) { EXPECT_GE(BadManifests().size(), 8u); }

TEST(Input, UndefinedParameterIsRefusedWithItsFieldAndLine) {
  Lastgood lg;
  std::string yaml = SampleApp().Yaml();
  const std::string used = "\"${params.healthy}\"]";
  ASSERT_NE(yaml.find(used), std::string::npos);
  yaml.replace(yaml.find(used), used.size(), "\"${params.nope}\"]");
  lg.Given().Manifest(yaml);

  lg.When().Apply({"-o", "json"});

  // run.command is on line 10 of SampleApp's YAML; "${params.nope}" is its 13th word.
  lg.Then().ExitCode(2).Error("invalid_input", "run.command[12]", 10).StderrHas("nope");
  EXPECT_TRUE(lg.Json({"apps"}).empty());
}

TEST(Input, UnknownParamIsRefusedAndChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();

  lg.When().Apply({"--param", "colour=blue", "-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input").StderrHas("colour").VersionCount(1).HistorySize(1);
}

TEST(Input, ParamThatIsNotNameEqualsValueIsRefused) {
  Lastgood lg;
  lg.Given().App(SampleApp());
  lg.When().Apply({"--param", "label", "-o", "json"});
  lg.Then().ExitCode(2).Error("invalid_input", "--param");
}

TEST(Input, AppNameThatIsNotAPlainNameIsRefusedWithFieldApp) {
  Lastgood lg;
  lg.Given().App(SampleApp().App("Web_1"));

  lg.When().Apply({"-o", "json"});

  lg.Then().ExitCode(2).Error("invalid_input", "app", 1);
  EXPECT_TRUE(lg.Json({"apps"}).empty());
}

TEST(Input, MissingManifestFileIsRefused) {
  Lastgood lg;
  lg.Given().When().Run({"apply", "-f", lg.home() + "/absent.yaml", "-o", "json"});
  lg.Then().ExitCode(2).Error("invalid_input", "-f").StderrHas("absent.yaml");
}

TEST(Input, ApplyWithoutFileIsAUsageError) {
  Lastgood lg;
  lg.Given().When().Run({"apply"});
  lg.Then().ExitCode(2);
}

TEST(Input, ParameterValuesReachTheProgramAsOneArgumentNeverThroughAShell) {
  Lastgood lg;
  // In the app's state folder, where the app could write if a shell ever ran its argv.
  const std::string marker = lg.home() + "/state/web/pwned";
  const std::string label = "a b; touch " + marker + " $(touch " + marker + ") `id` 'q\"";
  lg.Given().App(SampleApp());

  lg.When().Apply({"--param", "label=" + label});

  lg.Then().ExitCode(0).Serves(label);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

// A taken name was once refused only after the new version was stored.
TEST(Input, DuplicateDeploymentNameIsRefusedAndChangesNothing) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied({"--name", "release-1"});

  lg.When().Apply({"--param", "label=v2", "--name", "release-1", "-o", "json"});

  lg.Then().Error("conflict").StderrHas("release-1").HistorySize(1).Serves("v1");
  EXPECT_EQ(lg.last().code, 3);
  lg.Then().VersionCount(1);
}

TEST(Input, BadDeploymentNameOrSlotIsRefused) {
  Lastgood lg;
  lg.Given().App(SampleApp());
  lg.When()
      .Apply({"--name", "Bad Name", "-o", "json"})
      .Then()
      .ExitCode(2)
      .Error("invalid_input", "--name");
  lg.When()
      .Apply({"--slot", "../etc", "-o", "json"})
      .Then()
      .ExitCode(2)
      .Error("invalid_input", "--slot");
  EXPECT_TRUE(lg.Json({"apps"}).empty());
}

TEST(Input, ManifestLargerThanOneMebibyteIsRefused) {
  Lastgood lg;
  lg.Given().App(SampleApp().Extra("# " + std::string(1100 * 1024, 'x')));
  lg.When().Apply({"-o", "json"}).Then().ExitCode(2).Error("invalid_input", "-f");
}

TEST(Input, UnknownAppVersionOrDeploymentIsNotFound) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  for (std::vector<std::string> args : {std::vector<std::string>{"status", "nosuchapp"},
                                        {"history", "nosuchapp"},
                                        {"versions", "nosuchapp"},
                                        {"show", "web", "9"},
                                        {"diff", "web", "1", "9"},
                                        {"deployment", "web", "nope"},
                                        {"rollforward", "web", "--to", "9"}}) {
    args.insert(args.end(), {"-o", "json"});
    lg.When().Run(args).Then().ExitCode(4).Error("not_found");
  }
}

TEST(Input, UnknownVerbIsAUsageError) {
  Lastgood lg;
  lg.Given().When().Run({"deploy-everything"}).Then().ExitCode(2);
}

TEST(Input, ControllerThatDoesNotRunIsUnreachable) {
  Lastgood lg;  // no Given(): no controller in this home

  lg.When().Run({"status", "web", "-o", "json"});

  lg.Then().ExitCode(5).Error("unavailable");
  lg.When().Run({"history", "web"}).Then().ExitCode(5).StderrHas("api.sock");
}

// One raw HTTP exchange with the controller's API over its unix socket; returns the response.
std::string ApiExchange(const Lastgood& lg, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = lg.home() + "/api.sock";
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
  }
  ::close(fd);
  return response;
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Found by fuzz/api_body.cc: the error body quoted the path, nlohmann::json threw on the
// byte that is not UTF-8, and the uncaught exception ended the controller.
TEST(Input, RequestPathThatIsNotUtf8IsAnsweredAndTheControllerLivesOn) {
  Lastgood lg;
  lg.Given();

  std::string response =
      ApiExchange(lg, "GET /v1/apps/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("invalid_input"), std::string::npos) << response;
  lg.When().Run({"apps"}).Then().ExitCode(0);
}

// Found by the api_body fuzz target: a number too large for the field's type (or a fraction)
// was converted anyway — undefined behaviour. Each is refused, naming the field.
TEST(Input, ApiRefusesNumbersThatAreNotWholeNumbersOfTheFieldsRange) {
  Lastgood lg;
  lg.Given().App(SampleApp()).Applied();
  for (const std::string& to :
       std::vector<std::string>{"1.5", "3" + std::string(64, '6'), "-1e300", "4294967297"}) {
    std::string response = ApiExchange(lg, Post("/v1/apps/web/rollback", "{\"to\": " + to + "}"));
    EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << to << "\n" << response;
    EXPECT_NE(response.find("field 'to' must be a whole number"), std::string::npos) << response;
  }
  std::string response =
      ApiExchange(lg, Post("/v1/apps/web/traffic", "{\"shares\": {\"staging\": 1e99}}"));
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("field 'shares.staging' must be a whole number"), std::string::npos)
      << response;
  lg.Then().HistorySize(1).Serves("v1");
}

TEST(Input, ApiRefusesDeepNestingUnknownFieldsAndOversizedBodies) {
  Lastgood lg;
  lg.Given();

  std::string deep = "{\"to\": " + std::string(40, '[') + std::string(40, ']') + "}";
  std::string response = ApiExchange(lg, Post("/v1/apps/web/rollback", deep));
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("nested more than 32 levels"), std::string::npos) << response;

  response = ApiExchange(lg, Post("/v1/apps/web/rollback", "{\"force\": true, \"forse\": 1}"));
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("unknown field 'forse'"), std::string::npos) << response;

  // Refused on its Content-Length, before the body is read.
  response = ApiExchange(lg, "POST /v1/apply HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                 std::to_string(3 << 20) + "\r\n\r\n{");
  EXPECT_EQ(response.rfind("HTTP/1.1 413", 0), 0u) << response.substr(0, 200);
  lg.When().Run({"apps"}).Then().ExitCode(0);
  EXPECT_TRUE(lg.Json({"apps"}).empty());
}

// Found by fuzz/manifest.cc: yaml-cpp's LoadAll never returned on a stray ',' and grew
// memory until the controller died.
TEST(Input, StrayCommaInAManifestIsASyntaxErrorNotAHang) {
  Lastgood lg;
  lg.Given().Manifest("app: web\n,\n");

  lg.When().Run({"apply", "-f", lg.home() + "/web.yaml", "-o", "json"},
                std::chrono::milliseconds(10000));

  lg.Then().ExitCode(2).Error("invalid_input", "", 2);
  lg.When().Run({"apps"}).Then().ExitCode(0);
}

}  // namespace
