// The router's copy of its table on disk (<home>/router-table.json), so that a restarted
// router serves at once, before the controller speaks. Written atomically: temp file, fsync,
// rename, fsync of the directory. Not thread-safe; the router serializes table changes.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "router/table.h"

namespace lastgood {

inline constexpr const char* kTableFileName = "router-table.json";

Status SaveTable(const std::string& path, const RoutingTable& table);
// nullopt when the file does not exist; an error when it exists but is unreadable or invalid.
Result<std::optional<RoutingTable>> LoadTable(const std::string& path);

}  // namespace lastgood
