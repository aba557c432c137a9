// ApiClient: the CLI's connection to the controller's /v1 API over the unix socket
// "<home>/api.sock". A call returns the response's JSON, or the API's error as an Error
// (its code picks the exit code). Not thread-safe; one per command.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace lastgood::cli {

class ApiClient {
 public:
  explicit ApiClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

  Result<nlohmann::json> Get(const std::string& target);
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& body);

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& target,
                              const std::string& body);
  std::string socket_path_;
};

// Percent-encodes a path segment or query value.
std::string UrlEncode(const std::string& s);

}  // namespace lastgood::cli
