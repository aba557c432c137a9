// Extraction of tar artifacts into a release directory with GNU tar (internal to
// artifacts/). tar runs from argv (process/spawn.h), never through a shell.
// Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"

namespace lastgood {

// How a caller bounds and watches the tar processes of one archive.
struct TarWatch {
  // The most the archive may unpack to (the sum of its files' sizes); 0: no limit. Past it
  // the archive is refused: `limitText` says which limit that is, in the error.
  uint64_t maxBytes = 0;
  std::string limitText;  // "2 GiB (serve --max-release-size)"
  // Called with each tar's pid once it runs and when it has ended, so that the caller can
  // kill it (a rollback taking over); a tar killed so gives Unavailable.
  std::function<void(int pid)> started;
  std::function<void(int pid)> ended;
};

// True if `name` ends in .tar, .tar.gz or .tgz.
bool IsTarName(const std::string& name);

// Counts what the archive unpacks to, reading it through to its end or until it passes
// `watch.maxBytes` (then InvalidInput naming the limit; tar is stopped there, so a bomb
// costs at most the limit's worth of decompression and no disk at all).
Status CheckTarSize(const std::string& archive, const std::string& name, const TarWatch& watch);

// Lists the archive (`tar -tf`) and refuses it if it does not read, or if any member is
// absolute, has a ".." component, or is `reserved` at the top (a file the store writes
// there itself, which a member, a symlink made last, could otherwise redirect); then checks
// its size (CheckTarSize). `name` is the artifact's file name, for messages.
Status CheckTar(const std::string& archive, const std::string& name, const std::string& reserved,
                const TarWatch& watch);

// CheckTar, then extracts the archive into `dir` (which must exist) without restoring
// owners. GNU tar delays symlinks it extracts, so a member cannot be written through one.
Status ExtractTar(const std::string& archive, const std::string& dir, const std::string& name,
                  const std::string& reserved, const TarWatch& watch = {});

}  // namespace lastgood
