// ServeWithHosts: the start of every fleet scenario — a controller that reaches the test hosts
// through their ssh_config (`serve --ssh-config`), with each host h1..hN added and labelled
// role=web, so that a manifest's `hosts: { selector: { role: web } }` selects them all.
//
//   FleetHosts hosts(3);
//   Lastgood lg;
//   ServeWithHosts(lg, hosts);            // or with more serve flags: {"--run-users", "nobody"}
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "testutil/fleet_hosts.h"
#include "testutil/lastgood.h"

namespace lastgood::testutil {

inline void ServeWithHosts(Lastgood& lg, const FleetHosts& hosts,
                           std::vector<std::string> serve_args = {}) {
  serve_args.insert(serve_args.end(), {"--ssh-config", hosts.SshConfig(), "--ui", "off"});
  lg.ServeArgs(serve_args);
  lg.Given();
  for (int i = 1; i <= hosts.count(); ++i) {
    // A host add copies the binary and starts the node: slow on a loaded machine.
    lg.Run({"host", "add", FleetHosts::Name(i), "--ssh", FleetHosts::Name(i), "--node-home",
            hosts.NodeHome(i), "--label", "role=web"},
           std::chrono::seconds(60));
    EXPECT_EQ(lg.last().code, 0) << lg.Context();
  }
}

}  // namespace lastgood::testutil
