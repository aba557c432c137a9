// `lastgood apply`: validate a manifest, store a version, deploy it and follow it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

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
};

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
  auto outcome = g.Client().Post("/v1/apply", body);
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
  cmd->callback([&g, f, exit_code, roe] {
    f->rollbackOnErrorGiven = roe->count() > 0;
    *exit_code = RunApply(g, *f);
  });
}

}  // namespace lastgood::cli
