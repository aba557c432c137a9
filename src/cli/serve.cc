// `lastgood serve` and `lastgood router`.
#include "api/controller.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddServe(CLI::App& app, Globals& g, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "run the controller: the store, the engine and the API");
  auto no_router = std::make_shared<bool>(false);
  cmd->add_flag("--no-router", *no_router,
                "do not start or drive the router; instances are reached on their own ports");
  auto router_threads = std::make_shared<int>(0);
  cmd->add_option("--router-threads", *router_threads,
                  "worker threads of the router it starts (default: one per CPU the router may "
                  "use, from its affinity and cgroup quota)")
      ->check(CLI::Range(0, 1024));
  auto ui = std::make_shared<std::string>("127.0.0.1:7071");
  auto ui_assets = std::make_shared<std::string>();
  cmd->add_option("--ui", *ui, "the dashboard's address HOST:PORT, or off (docs/dashboard.md)")
      ->capture_default_str();
  cmd->add_option("--ui-assets", *ui_assets,
                  "the dashboard's built files (default: ui/ beside the binary)");
  auto tcp = std::make_shared<ControllerOptions>();
  cmd->add_option("--listen", tcp->listen,
                  "also serve the API on this TCP address HOST:PORT, bearer tokens required "
                  "(docs/security.md)");
  cmd->add_option("--tls-cert", tcp->tlsCert, "PEM certificate chain: --listen speaks TLS only");
  cmd->add_option("--tls-key", tcp->tlsKey, "PEM private key of --tls-cert");
  cmd->add_option("--router-metrics", tcp->routerMetrics,
                  "where the router serves GET /metrics for Prometheus, HOST:PORT, or off "
                  "(default: a free loopback port, written to <home>/router.admin; "
                  "docs/metrics.md)");
  cmd->add_option("--metrics", tcp->metrics,
                  "also serve the controller's GET /metrics on this TCP address HOST:PORT, "
                  "without a token (docs/metrics.md)");
  cmd->add_option("--ssh-config", tcp->sshConfig,
                  "ssh_config for reaching fleet hosts: every ssh runs with -F FILE "
                  "(docs/fleets.md)");
  cmd->add_option("--artifact-root", tcp->artifactRoots,
                  "a folder whose files callers below admin (over --listen) may name as "
                  "run.artifact; repeatable (docs/security.md)");
  cmd->add_option("--max-release-size", tcp->maxReleaseSize,
                  "the most a release may unpack to, e.g. 2GiB (the default), 512MiB");
  cmd->add_option("--max-upload-size", tcp->maxUploadSize,
                  "the largest artifact a remote apply may send, e.g. 2GiB (the default; at most "
                  "4GiB)");
  cmd->add_option("--audit-keep", tcp->auditKeep,
                  "delete audit rows older than this (90d, 12h; at least 1h), hourly, and audit "
                  "that; default: keep all");
  cmd->add_option("--run-users", tcp->runUsers,
                  "existing users that a manifest's run.user may name (as root; never root; "
                  "docs/security.md)")
      ->delimiter(',');
  cmd->add_option("--socket-group", tcp->socketGroup,
                  "members of this group use the API socket as admins, as its owner does: "
                  "api.sock 0660 and the home 0710 of that group (docs/security.md)");
  cmd->callback([&g, exit_code, no_router, router_threads, ui, ui_assets, tcp] {
    ControllerOptions options = *tcp;
    options.home = g.Home();
    options.router = !*no_router;
    options.router_threads = *router_threads;
    options.ui = *ui;
    options.ui_assets = *ui_assets;
    *exit_code = RunController(options);
  });
}

void AddRouter(CLI::App& app, Globals&, int*) {
  // `lastgood router …` is dispatched before CLI11 parses (cli/main.cc), straight to the
  // router's own flag parser; this entry only makes it show in --help.
  app.add_subcommand("router", "run the router (data plane); normally started by serve")
      ->allow_extras();
}

}  // namespace lastgood::cli
