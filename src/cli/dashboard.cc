// `lastgood dashboard`: a one-time login link to the controller's web page (docs/dashboard.md).
// The link carries a token that works once, for 10 minutes; the controller keeps only its
// hash. Made over the unix socket, i.e. by the local admin, who may make viewer links too.
#include "cli/verbs.h"

namespace lastgood::cli {

void AddDashboard(CLI::App& app, Globals& g, int* exit_code) {
  auto* cmd = app.add_subcommand("dashboard", "print a one-time login link to the web dashboard");
  auto role = std::make_shared<std::string>("admin");
  auto name = std::make_shared<std::string>();
  cmd->add_option("--role", *role, "what the session may do: viewer, deployer or admin")
      ->check(CLI::IsMember({"viewer", "deployer", "admin"}))
      ->capture_default_str();
  cmd->add_option("--name", *name, "who the session is recorded as (default: you)");
  cmd->callback([&g, exit_code, role, name] {
    nlohmann::json body = {{"role", *role}};
    if (!name->empty()) body["name"] = *name;
    auto out = g.Client().Post("/v1/ui/logins", body);
    if (!out.ok()) {
      Error e = out.error();
      if (e.code == ErrorCode::kNotFound)
        e.message =
            "this controller serves no dashboard (was it started with --ui off?): " + e.message;
      *exit_code = Fail(g, e);
      return;
    }
    if (g.json()) {
      PrintJson(*out);
    } else {
      std::printf("Open this link within 10 minutes; it logs in once, as %s (%s):\n\n  %s\n\n",
                  out->value("name", "").c_str(), out->value("role", "").c_str(),
                  out->value("url", "").c_str());
    }
    *exit_code = 0;
  });
}

}  // namespace lastgood::cli
