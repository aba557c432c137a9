// Parsing a manifest: YAML text + parameter values → a validated Manifest.
//
// Every error names the field path ("strategy.rolling.maxSurge", "run.command[0]") and the
// 1-based line of the offending node, says what was expected, and changes nothing.
// Unknown fields are errors (a typo must not silently fall back to a default).
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "manifest/manifest.h"

namespace lastgood {

// Maximum manifest size accepted (bytes); larger input is refused before parsing.
inline constexpr size_t kMaxManifestBytes = 1 << 20;

struct ParsedManifest {
  Manifest manifest;
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
