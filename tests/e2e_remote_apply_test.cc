// End-to-end: `lastgood apply` over --server sends the artifact its manifest names (issue 15
// §1 "Deploy from anywhere"): from a scratch folder on the caller's side, relative to the
// manifest as locally; not again when the controller has its bytes; refused past serve
// --max-upload-size with the limit named; checked against its digest; audited without its
// content. A controller's own file is named only with --artifact-on-server.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testutil/http.h"
#include "testutil/lastgood.h"
#include "testutil/remote.h"

namespace {

using namespace std::chrono_literals;
using lastgood::testutil::HttpConnection;
using lastgood::testutil::kSampleBinary;
using lastgood::testutil::LastAudit;
using lastgood::testutil::Lastgood;
using lastgood::testutil::MakeToken;
using lastgood::testutil::PortOf;
using lastgood::testutil::ReadFile;
using lastgood::testutil::Remote;
using lastgood::testutil::SampleApp;
using lastgood::testutil::ServedUrl;
namespace fs = std::filesystem;

// A folder outside the home holding the sample app's binary and a manifest naming it
// relatively, as a CI job's checkout would.
struct Scratch {
  std::string dir;
  explicit Scratch(const Lastgood& lg) : dir(lg.home() + "-scratch") {
    fs::create_directories(dir);
    fs::copy_file(kSampleBinary, dir + "/lastgood-sample", fs::copy_options::overwrite_existing);
    std::string yaml = SampleApp().Yaml();
    yaml.replace(yaml.find(kSampleBinary), std::string(kSampleBinary).size(), "./lastgood-sample");
    std::ofstream(dir + "/web.yaml") << yaml;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

size_t StoredObjects(const Lastgood& lg) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(lg.home() + "/artifacts/sha256", ec)) {
    if (e.path().filename().string().rfind(".upload-", 0) != 0) ++n;
  }
  return n;
}

TEST(RemoteApply, FromAScratchFolderSendsARelativeArtifactThenSkipsItWhenTheControllerHasIt) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});  // no --artifact-root at all
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  Scratch scratch(lg);

  auto first = Remote(lg, url, deployer, {"apply", "-f", "web.yaml"}, scratch.dir);
  ASSERT_EQ(first.code, 0) << first.Context();
  EXPECT_NE(first.err.find("sent lastgood-sample (" + std::to_string(fs::file_size(kSampleBinary)) +
                           " bytes)"),
            std::string::npos)
      << first.Context();
  lg.Then().Serves("v1");
  EXPECT_EQ(StoredObjects(lg), 1u);

  // The upload is audited by digest and size, as the deployer's; never its bytes.
  auto put = LastAudit(lg, "PUT /v1/artifacts/" + lg.Versions().at(0).value("digest", ""));
  ASSERT_TRUE(put.is_object()) << lg.Json({"audit"}).dump();
  EXPECT_EQ(put["status"], 200);
  EXPECT_EQ(put.value("actor", ""), "token:ci");
  EXPECT_NE(put.value("message", "")
                .find("received " + std::to_string(fs::file_size(kSampleBinary)) + " bytes"),
            std::string::npos)
      << put.dump();

  // The same artifact again, with another label: asked about, not sent.
  auto second =
      Remote(lg, url, deployer, {"apply", "-f", "web.yaml", "--param", "label=v2"}, scratch.dir);
  ASSERT_EQ(second.code, 0) << second.Context();
  EXPECT_NE(second.err.find("the controller has lastgood-sample"), std::string::npos)
      << second.Context();
  EXPECT_EQ(second.err.find("sent "), std::string::npos) << second.Context();
  lg.Then().Serves("v2");
  EXPECT_EQ(StoredObjects(lg), 1u);
}

// The controller's peak memory (VmHWM of /proc/PID/status), in KiB.
long PeakKib(int pid) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("VmHWM:");
  return at == std::string::npos ? -1 : std::stol(status.substr(at + 6));
}

TEST(RemoteApply, AnArtifactLargerThanARequestIsStreamedThroughWithoutBeingHeldInMemory) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  Scratch scratch(lg);
  // 64 MiB more after the program: it still runs, and it is 32 times a request body's limit.
  {
    std::ofstream grow(scratch.dir + "/lastgood-sample", std::ios::binary | std::ios::app);
    std::string mib(1 << 20, 'z');
    for (int i = 0; i < 64; ++i) grow << mib;
  }
  auto health = lastgood::testutil::HttpGet("127.0.0.1", PortOf(url), "/v1/health",
                                            {{"Authorization", "Bearer " + deployer}});
  int pid = nlohmann::json::parse(health.body, nullptr, false).value("pid", 0);
  ASSERT_GT(pid, 0) << health.body;
  long before = PeakKib(pid);

  auto r = Remote(lg, url, deployer, {"apply", "-f", "web.yaml"}, scratch.dir, 60s);
  ASSERT_EQ(r.code, 0) << r.Context();
  EXPECT_NE(r.err.find("sent lastgood-sample (" +
                       std::to_string(fs::file_size(scratch.dir + "/lastgood-sample")) + " bytes)"),
            std::string::npos)
      << r.Context();
  lg.Then().Serves("v1");
  EXPECT_LT(PeakKib(pid) - before, 32 * 1024) << "the controller's peak memory grew by more "
                                                 "than half the artifact";
}

TEST(RemoteApply, AnArtifactOverTheUploadLimitIsRefusedNamingTheLimitAndNothingIsStored) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off", "--max-upload-size", "64KiB"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  Scratch scratch(lg);  // the sample binary is larger than 64 KiB
  ASSERT_GT(fs::file_size(kSampleBinary), 65536u);

  auto refused = Remote(lg, url, deployer, {"apply", "-f", "web.yaml"}, scratch.dir);
  EXPECT_EQ(refused.code, 2) << refused.Context();
  EXPECT_NE(refused.err.find("65536 bytes, the limit (serve --max-upload-size)"), std::string::npos)
      << refused.Context();
  EXPECT_TRUE(lg.Json({"apps"}).empty());

  // A client that sends it anyway is stopped by its Content-Length, before a byte is stored.
  std::string digest = "sha256:" + std::string(64, 'a');
  HttpConnection c;
  ASSERT_EQ(c.Connect("127.0.0.1", PortOf(url)), "");
  ASSERT_EQ(
      c.Send("PUT /v1/artifacts/" + digest + " HTTP/1.1\r\nHost: x\r\n" + "Authorization: Bearer " +
             deployer + "\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'x')),
      "");
  auto r = c.ReadResponse();
  EXPECT_EQ(r.status, 413) << r.error << r.body;
  EXPECT_NE(r.body.find("serve --max-upload-size"), std::string::npos) << r.body;
  EXPECT_EQ(StoredObjects(lg), 0u);
}

TEST(RemoteApply, AnUploadIsStoredOnlyUnderItsOwnDigestAndOnlyForADeployer) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  std::string viewer = MakeToken(lg, "dash", "viewer");
  auto put = [&](const std::string& token, const std::string& digest, const std::string& body) {
    HttpConnection c;
    EXPECT_EQ(c.Connect("127.0.0.1", PortOf(url)), "");
    EXPECT_EQ(c.Send("PUT /v1/artifacts/" + digest + " HTTP/1.1\r\nHost: x\r\n" +
                     "Authorization: Bearer " + token +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body),
              "");
    return c.ReadResponse();
  };
  // The digest of "hello\n", and bytes that are not those.
  const std::string hello =
      "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  auto lie = put(deployer, hello, "goodbye\n");
  EXPECT_EQ(lie.status, 400) << lie.body;
  EXPECT_NE(lie.body.find("not to " + hello), std::string::npos) << lie.body;
  EXPECT_EQ(StoredObjects(lg), 0u);

  auto viewer_put = put(viewer, hello, "hello\n");
  EXPECT_EQ(viewer_put.status, 403) << viewer_put.body;
  auto anonymous = put("lgt_nothing", hello, "hello\n");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(StoredObjects(lg), 0u);

  auto fine = put(deployer, hello, "hello\n");
  EXPECT_EQ(fine.status, 200) << fine.body;
  EXPECT_EQ(StoredObjects(lg), 1u);
  EXPECT_EQ(ReadFile(lg.home() + "/artifacts/sha256/" + hello.substr(7)), "hello\n");
}

// Over --server a path in run.artifact is the caller's file, absolute or not: the controller's
// own files are named only with --artifact-on-server (and for a deployer only under serve
// --artifact-root: Hostile.ADeployerCannotHaveAFileOfTheHome*).
TEST(RemoteApply, AnAbsoluteArtifactIsTheCallersFileUnlessArtifactOnServerIsGiven) {
  Lastgood lg;
  lg.ServeArgs({"--listen", "127.0.0.1:0", "--ui", "off"});
  lg.Given();
  std::string url = ServedUrl(lg);
  ASSERT_FALSE(url.empty());
  std::string deployer = MakeToken(lg, "ci", "deployer");
  lg.Manifest(SampleApp().Yaml(), "absolute");  // names the sample binary by absolute path

  auto on_server = Remote(lg, url, deployer,
                          {"apply", "-f", lg.home() + "/absolute.yaml", "--artifact-on-server"});
  EXPECT_EQ(on_server.code, 2) << on_server.Context();
  EXPECT_NE(on_server.err.find("serve --artifact-root"), std::string::npos) << on_server.Context();

  auto sent = Remote(lg, url, deployer, {"apply", "-f", lg.home() + "/absolute.yaml"});
  EXPECT_EQ(sent.code, 0) << sent.Context();
  EXPECT_NE(sent.err.find("sent lastgood-sample"), std::string::npos) << sent.Context();
  lg.Then().Serves("v1");
}

}  // namespace
