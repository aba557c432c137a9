// OtherBuild: a copy of lastgood that is another build as far as any lastgood can tell (its
// build id differs in one byte), for the tests of what happens between two builds — a CLI
// talking to a controller of another build, a node upgraded to the controller's build —
// without a second build inside `make test`.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "testutil/lastgood.h"
#include "testutil/process.h"

namespace lastgood::testutil {

// Writes DIR/lastgood-other, the build id `build_id` (the hex of the binary's GNU build-id
// note, `lastgood version -o json`) with its first byte changed, and returns its path; "" if
// the note's bytes were not found.
inline std::string OtherBuild(const std::string& dir, const std::string& build_id) {
  std::string bytes = ReadFile(kLastgoodBinary);
  std::string raw;
  for (size_t i = 0; i + 1 < build_id.size(); i += 2)
    raw.push_back(static_cast<char>(std::stoi(build_id.substr(i, 2), nullptr, 16)));
  size_t at = bytes.find(raw);
  if (raw.empty() || at == std::string::npos) return "";
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
  std::string path = dir + "/lastgood-other";
  std::ofstream(path, std::ios::binary) << bytes;
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace lastgood::testutil
