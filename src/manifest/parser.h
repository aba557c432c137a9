// Parsing a manifest: YAML text + parameter values → a validated Manifest.
//
// Every error names the field path ("strategy.rolling.maxSurge", "run.command[0]") and the
// 1-based line of the offending node, says what was expected, and changes nothing.
// Unknown fields are errors (a typo must not silently fall back to a default).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "manifest/manifest.h"

namespace lastgood {

// Maximum manifest size accepted (bytes); larger input is refused before parsing.
inline constexpr size_t kMaxManifestBytes = 1 << 20;

// Where the manifest refers to a secret, for errors about it (an apply naming a secret that
// is not set is refused at this field and line).
struct SecretReference {
  std::string env;     // "DB_PASSWORD"
  std::string secret;  // "db-password"
  std::string field;   // "run.env.DB_PASSWORD.secret"
  int line = 0;
};

struct ParsedManifest {
  Manifest manifest;
  std::vector<SecretReference> secrets;  // in the order written
  // The parameters as resolved (defaults plus --param values), for the record.
  std::map<std::string, std::string> params;
};

// Parses `yaml`. `params` are the --param K=V values: each must be declared under
// `parameters:`; a declared parameter with no default must be given. Every
// "${params.NAME}" in a string value is replaced; "${NAME}" without "params." (for example
// "${PORT}") is left for the supervisor to fill in at start.
Result<ParsedManifest> ParseManifest(const std::string& yaml,
                                     const std::map<std::string, std::string>& params);

}  // namespace lastgood
