// `lastgood token create|list|revoke`: the bearer tokens of the TCP API (admin only).
#include <iostream>

#include "base/names.h"
#include "cli/verbs.h"

namespace lastgood::cli {

namespace {

std::string OrDash(const nlohmann::json& j) { return j.is_null() ? "-" : ShortTime(j); }

}  // namespace

void AddTokenVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto* token = app.add_subcommand("token", "manage the bearer tokens of the TCP API (admin)");
  token->require_subcommand(1);

  struct CreateFlags {
    std::string name;
    std::string role;
    std::string expires;
  };
  auto cf = std::make_shared<CreateFlags>();
  auto* create =
      token->add_subcommand("create", "make a token and print it once; only its hash is kept");
  create->add_option("--name", cf->name, "the token's name, e.g. ci-bot")->required();
  create->add_option("--role", cf->role, "viewer, deployer or admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "deployer", "admin"}));
  create->add_option("--expires", cf->expires,
                     "how long it works: days like 90d, or 12h, 30m (default: until revoked)");
  create->callback([&g, cf, exit_code] {
    if (auto s = ValidateName(cf->name, "token name", "name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    nlohmann::json body = {{"name", cf->name}, {"role", cf->role}};
    if (!cf->expires.empty()) body["expiresIn"] = cf->expires;
    auto r = g.Client().Post("/v1/tokens", body);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    // The token alone on stdout, so that `lastgood token create … > file` keeps only it.
    std::cout << (*r)["token"].get<std::string>() << "\n";
    std::string until =
        (*r)["expiresAt"].is_null() ? "" : ", valid until " + ShortTime((*r)["expiresAt"]);
    std::cerr << "token " << cf->name << " (" << cf->role << until
              << ") created; it is shown this once: store it now\n";
  });

  auto* list = token->add_subcommand("list", "the tokens, their roles and last use (no secrets)");
  list->callback([&g, exit_code] {
    auto r = g.Client().Get("/v1/tokens");
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "ROLE", "STATE", "CREATED", "LAST USED", "EXPIRES", "REVOKED"}};
    for (const auto& t : *r) {
      rows.push_back({t["name"], t["role"], t["state"], OrDash(t["createdAt"]),
                      OrDash(t["lastUsedAt"]), OrDash(t.value("expiresAt", nlohmann::json())),
                      OrDash(t["revokedAt"])});
    }
    PrintTable(rows);
  });

  auto name = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand("revoke", "revoke a token: it stops working at once");
  revoke->add_option("name", *name, "the token's name")->required();
  revoke->callback([&g, name, exit_code] {
    if (auto s = ValidateName(*name, "token name"); !s.ok())
      return void(*exit_code = Fail(g, s.error()));
    auto r = g.Client().Delete("/v1/tokens/" + *name);
    if (!r.ok()) return void(*exit_code = Fail(g, r.error()));
    if (g.json()) return PrintJson(*r);
    std::cout << "revoked token " << *name << "\n";
  });
}

}  // namespace lastgood::cli
