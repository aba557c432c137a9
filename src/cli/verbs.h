// Each verb registers its subcommand on the CLI11 app. A verb's callback stores its exit
// code in *exit_code. Verbs are thin clients of /v1 (STYLE.md rule 8).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace lastgood::cli {

void AddServe(CLI::App& app, Globals& g, int* exit_code);
void AddRouter(CLI::App& app, Globals& g, int* exit_code);
void AddApply(CLI::App& app, Globals& g, int* exit_code);
void AddRollVerbs(CLI::App& app, Globals& g, int* exit_code);     // rollback, rollforward, promote
void AddHistoryVerbs(CLI::App& app, Globals& g, int* exit_code);  // history, deployment
void AddVersionVerbs(CLI::App& app, Globals& g, int* exit_code);  // versions, show, diff
void AddStatusVerbs(CLI::App& app, Globals& g, int* exit_code);   // status, apps
void AddBackupVerbs(CLI::App& app, Globals& g, int* exit_code);   // backup, restore
void AddTokenVerbs(CLI::App& app, Globals& g, int* exit_code);    // token create|list|revoke
void AddSecretVerbs(CLI::App& app, Globals& g, int* exit_code);   // secret set|list|remove
void AddAuditVerb(CLI::App& app, Globals& g, int* exit_code);     // audit
void AddDashboard(CLI::App& app, Globals& g, int* exit_code);     // dashboard (web login)
void AddHostVerbs(CLI::App& app, Globals& g, int* exit_code);     // host add|remove, hosts
void AddHostUpgrade(CLI::App& host, Globals& g, int* exit_code);  // host upgrade
void AddSlotVerbs(CLI::App& app, Globals& g, int* exit_code);  // swap, traffic, pause|resume|abort
void AddReferenceVerbs(CLI::App& app, Globals& g, int* exit_code);  // completion, manpage
void AddBuildVerbs(CLI::App& app, Globals& g, int* exit_code);      // version, --version
void AddLogsVerb(CLI::App& app, Globals& g, int* exit_code);        // logs

// Follows a deployment until it ends, printing one line per step as it happens (text), and
// then any automatic rollback that followed it. Returns the exit code: 0 if the first
// deployment Succeeded, 1 otherwise. With json, prints the final records instead.
int FollowDeployment(const Globals& g, const std::string& app, const std::string& name,
                     nlohmann::json* final_record);

// Prints an intent's outcome (what-if plan and diff, no-op message) in text form.
void PrintOutcome(const nlohmann::json& outcome);

// What apply, rollback, rollforward and promote do with the API's outcome: print it when
// nothing was started (no-op, what-if) or `no_wait`; else print `headline`, follow the
// deployment to its end (FollowDeployment) and return its exit code. With json, prints the
// outcome with the final record under "result".
int ReportOutcome(const Globals& g, const nlohmann::json& outcome, bool no_wait,
                  const std::string& headline);

}  // namespace lastgood::cli
