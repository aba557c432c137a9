// Fuzz target: the manifest parser (src/manifest): YAML text and --param values in, a
// Manifest or an error with a field path out.
//
// Input: the YAML text, then optionally a NUL byte and "K=V" lines (the --param values).
// Findings: a crash, an uncaught exception, an error without a message, and a manifest
// whose canonical form (what a version stores) does not parse back to the same manifest.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "manifest/canonical.h"
#include "manifest/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string yaml = input.substr(0, input.find('\0'));
  std::map<std::string, std::string> params;
  if (yaml.size() < input.size()) {
    std::string rest = input.substr(yaml.size() + 1);
    size_t i = 0;
    while (i < rest.size()) {
      size_t end = rest.find('\n', i);
      if (end == std::string::npos) end = rest.size();
      std::string kv = rest.substr(i, end - i);
      size_t eq = kv.find('=');
      if (eq != std::string::npos) params[kv.substr(0, eq)] = kv.substr(eq + 1);
      i = end + 1;
    }
  }

  auto parsed = lastgood::ParseManifest(yaml, params);
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) abort();
    (void)parsed.error().ToString();
    return 0;
  }
  const std::string canonical = lastgood::ToCanonicalYaml(parsed->manifest);
  auto again = lastgood::ParseManifest(canonical, {});
  if (!again.ok()) {
    fprintf(stderr, "canonical form does not parse: %s\n---\n%s---\n",
            again.error().ToString().c_str(), canonical.c_str());
    abort();
  }
  if (!(again->manifest == parsed->manifest)) {
    fprintf(stderr, "canonical form parses to another manifest:\n---\n%s---\n%s---\n",
            canonical.c_str(), lastgood::ToCanonicalYaml(again->manifest).c_str());
    abort();
  }
  return 0;
}
