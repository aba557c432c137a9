// GET /v1/logs on a node (docs/fleets.md, "The node's API"): the output of one app's instances
// on this host, for `lastgood logs APP --host NAME`. The node's instances of every app write
// side by side in DIR/logs/<id>.out.log and .err.log, and the node knows an instance by its id
// alone, so the controller names the app and its slots (`app=web&slots=production,staging`)
// with which the ids are read; the rest of the query and the answer are the controller's own
// logs route's (api/log_query.h), `since` measured by this host's clock.
//
// Thread-safety: a function of its arguments and the files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/route.h"  // ApiResponse

namespace lastgood {

// The answer to GET /v1/logs with `query` over the log files in `logs_dir`, of which the
// instances the node runs now are `running`.
ApiResponse NodeLogs(const std::string& logs_dir, const std::vector<std::string>& running,
                     const std::map<std::string, std::string>& query, int64_t now_millis);

}  // namespace lastgood
