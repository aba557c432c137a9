// `lastgood apply`: validate a manifest, store a version, deploy it and follow it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "artifacts/sha256.h"
#include "base/fd.h"
#include "cli/client.h"
#include "cli/verbs.h"
#include "manifest/parser.h"

namespace lastgood::cli {
namespace {

struct ApplyFlags {
  std::string file;
  std::vector<std::string> params;
  std::string name;
  std::string slot = "production";
  bool whatIf = false;
  bool noWait = false;
  std::string rollbackOnError;
  bool rollbackOnErrorGiven = false;
  bool artifactOnServer = false;
};

// A progress line is shown for files at least this large, on a terminal.
constexpr uint64_t kProgressFromBytes = 16ULL << 20;

std::string Mebibytes(uint64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

// Over --server, run.artifact names the caller's file (docs/security.md): it is sent to the
// controller, unless the controller has its bytes already (asked first by digest), and the
// apply names it by digest. Returns the digest, or "" when the manifest names no artifact.
Result<std::string> SendArtifact(const Globals& g, ApiClient& client, const std::string& text,
                                 const nlohmann::json& params, const std::string& manifest_dir,
                                 bool what_if) {
  std::map<std::string, std::string> values;
  for (const auto& [k, v] : params.items()) values[k] = v.get<std::string>();
  auto parsed = ParseManifest(text, values);
  // The controller says what is wrong with a manifest, in its own words.
  if (!parsed.ok() || parsed->manifest.run.artifact.empty()) return std::string();
  namespace fs = std::filesystem;
  fs::path path(parsed->manifest.run.artifact);
  if (path.is_relative()) path = fs::path(manifest_dir) / path;
  const std::string file = path.lexically_normal().string();
  auto refuse = [&](const std::string& why) {
    return Error::InvalidInput("run.artifact " + file + ": " + why, "run.artifact");
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return refuse(std::strerror(errno));
  Fd closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return refuse("not a regular file");
  auto hex = Sha256Fd(fd);
  if (!hex.ok()) return refuse(hex.error().message);
  auto digest = std::make_optional("sha256:" + *hex);
  if (::lseek(fd, 0, SEEK_SET) != 0) return refuse(std::strerror(errno));

  auto asked = client.Get("/v1/artifacts/" + *digest);
  if (!asked.ok()) return asked.error();
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string name = path.filename().string();
  if (asked->value("stored", false)) {
    if (!g.json())
      std::cerr << "the controller has " << name << " (" << digest->substr(0, 19)
                << "…) already; not sending it\n";
    return *digest;
  }
  // A what-if sends nothing: the digest says whether the content changes.
  if (what_if) return *digest;
  uint64_t limit = asked->value("maxBytes", uint64_t{0});
  if (limit > 0 && size > limit) {
    return refuse("it is " + std::to_string(size) + " bytes, more than the controller takes: " +
                  std::to_string(limit) + " bytes, the limit (serve --max-upload-size)");
  }
  FileBody body{fd, size, {}};
  const bool progress = !g.json() && size >= kProgressFromBytes && ::isatty(2);
  uint64_t shown = 0;
  if (progress) {
    body.progress = [&](uint64_t sent) {
      if (sent != size && sent - shown < size / 100) return;
      shown = sent;
      std::cerr << "\rsending " << name << ": " << (sent * 100 / size) << "% (" << Mebibytes(sent)
                << " of " << Mebibytes(size) << ")" << std::flush;
    };
  }
  std::string target = "/v1/artifacts/" + *digest;
  if (st.st_mode & 0111) target += "?executable=true";
  auto sent = client.PutFile(target, body);
  if (progress) std::cerr << "\n";
  if (!sent.ok()) return sent.error();
  if (!g.json()) std::cerr << "sent " << name << " (" << size << " bytes)\n";
  return *digest;
}

Result<std::string> ReadManifest(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error::InvalidInput("cannot read " + file + ": " + std::strerror(errno), "-f");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > kMaxManifestBytes)
    return Error::InvalidInput(file + " is larger than 1 MiB", "-f");
  return ss.str();
}

int RunApply(const Globals& g, const ApplyFlags& f) {
  auto text = ReadManifest(f.file);
  if (!text.ok()) return Fail(g, text.error());
  nlohmann::json params = nlohmann::json::object();
  for (const auto& kv : f.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(g, Error::InvalidInput("--param '" + kv + "' is not NAME=VALUE", "--param"));
    }
    params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  namespace fs = std::filesystem;
  nlohmann::json body = {{"manifest", *text},
                         {"manifestDir", fs::absolute(f.file).parent_path().string()},
                         {"params", params},
                         {"slot", f.slot},
                         {"whatIf", f.whatIf}};
  if (!f.name.empty()) body["name"] = f.name;
  if (f.rollbackOnErrorGiven)
    body["rollbackOnError"] = f.rollbackOnError.empty() ? "lastSuccessful" : f.rollbackOnError;
  ApiClient client = g.Client();
  if (f.artifactOnServer) {
    body["artifactOnServer"] = true;
  } else if (!g.server.empty()) {
    auto digest = SendArtifact(g, client, *text, params, body["manifestDir"], f.whatIf);
    if (!digest.ok()) return Fail(g, digest.error());
    if (!digest->empty()) body["artifactDigest"] = *digest;
  }
  auto outcome = client.Post("/v1/apply", body);
  if (!outcome.ok()) return Fail(g, outcome.error());
  const auto& o = *outcome;
  std::string headline;
  if (o["deployment"].is_string()) {
    headline = o["app"].get<std::string>() + ": v" + o["version"].dump() + " (new version), " +
               "deployment " + o["deployment"].get<std::string>() + ", " +
               o["strategy"].get<std::string>() + " into " + o["slot"].get<std::string>();
    // Why a deployment was started where one might expect none (a rotated secret).
    if (o.value("message", "") != "") headline += "\n" + o["message"].get<std::string>();
  }
  return ReportOutcome(g, o, f.noWait, headline);
}

}  // namespace

void AddApply(CLI::App& app, Globals& g, int* exit_code) {
  auto f = std::make_shared<ApplyFlags>();
  auto* cmd = app.add_subcommand("apply", "store a new version from a manifest and deploy it");
  cmd->add_option("-f,--file", f->file, "manifest file (YAML)")->required();
  cmd->add_option("--param", f->params, "set a parameter: NAME=VALUE (repeatable)");
  cmd->add_option("--name", f->name, "deployment name (default: generated)");
  cmd->add_option("--slot", f->slot, "slot to deploy into (default production)");
  cmd->add_flag("--what-if", f->whatIf, "print the plan and the diff; change nothing");
  cmd->add_flag("--no-wait", f->noWait, "start the deployment and return");
  auto* roe = cmd->add_option("--rollback-on-error", f->rollbackOnError,
                              "on failure roll back to the last successful deployment, or "
                              "to the named one");
  roe->expected(0, 1);
  cmd->add_flag("--artifact-on-server", f->artifactOnServer,
                "over --server: run.artifact is an absolute path on the controller's host "
                "(admins; deployers under serve --artifact-root), not your file to send");
  cmd->callback([&g, f, exit_code, roe] {
    f->rollbackOnErrorGiven = roe->count() > 0;
    *exit_code = RunApply(g, *f);
  });
}

}  // namespace lastgood::cli
