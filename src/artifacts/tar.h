// Extraction of tar artifacts into a release directory with GNU tar (internal to
// artifacts/). tar runs from argv via posix_spawn, never through a shell.
// Thread-safe: no shared state.
#pragma once

#include <string>

#include "base/result.h"

namespace lastgood {

// True if `name` ends in .tar, .tar.gz or .tgz.
bool IsTarName(const std::string& name);

// Lists the archive (`tar -tf`) and refuses it if any member is absolute, has a ".."
// component, or is `reserved` at the top (a file the store writes there itself, which a
// member, a symlink made last, could otherwise redirect); then extracts it into `dir`
// (which must exist) without restoring owners. GNU tar delays symlinks it extracts, so a
// member cannot be written through one. `name` is the artifact's file name, for messages.
Status ExtractTar(const std::string& archive, const std::string& dir, const std::string& name,
                  const std::string& reserved);

}  // namespace lastgood
