// `lastgood backup FILE` and `lastgood restore FILE`: the store as one file. The CLI never
// opens the store (issue 12): a backup asks the controller for a snapshot (POST /v1/backup,
// admin only, so also over --server), or, when no controller runs on the home, has the api
// module take it (BackupHome); a restore needs the controller stopped (RestoreHome).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "api/controller.h"
#include "cli/verbs.h"

namespace lastgood::cli {
namespace {

// Writes `bytes` to a new `file`, readable by its owner only (a snapshot holds the whole
// history, the audit and the tokens' hashes). Never overwrites: InvalidInput if it exists.
Status WriteNewPrivateFile(const std::string& file, const std::string& bytes) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST)
    return Error::InvalidInput(file + " exists; a backup never overwrites a file, choose another");
  if (fd < 0) return Error::Unavailable("cannot create " + file + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == bytes.size() && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    return Error::Unavailable("cannot write " + file + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Status Backup(const Globals& g, const std::string& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec))
    return Error::InvalidInput(file + " exists; a backup never overwrites a file, choose another");
  auto snapshot = g.Client().PostForBytes("/v1/backup", nlohmann::json::object());
  if (snapshot.ok()) return WriteNewPrivateFile(file, *snapshot);
  // No controller to ask: take the snapshot here, as long as none starts meanwhile.
  if (!g.server.empty() || snapshot.error().code != ErrorCode::kUnavailable)
    return snapshot.error();
  Status offline = BackupHome(g.Home(), file);
  // A controller holds the home but did not answer: that is the error to report.
  if (!offline.ok() && offline.error().code == ErrorCode::kConflict) return snapshot.error();
  return offline;
}

}  // namespace

void AddBackupVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto file = std::make_shared<std::string>();
  auto* backup = app.add_subcommand(
      "backup", "write a consistent snapshot of the store to FILE (the controller may run)");
  backup->add_option("file", *file, "where to write the snapshot (must not exist)")->required();
  backup->callback([&g, file, exit_code] {
    if (auto s = Backup(g, *file); !s.ok()) return void(*exit_code = Fail(g, s.error()));
    std::string from = g.server.empty() ? g.Home() + "/lastgood.db" : g.server;
    if (g.json()) return PrintJson({{"backup", *file}, {"store", from}});
    std::cout << "backed up " << from << " to " << *file << "\n";
  });

  auto from = std::make_shared<std::string>();
  auto* restore = app.add_subcommand(
      "restore", "replace the store with a snapshot from FILE (the controller must be stopped)");
  restore->add_option("file", *from, "a snapshot written by `lastgood backup`")->required();
  restore->callback([&g, from, exit_code] {
    std::string home = g.Home();
    if (auto s = RestoreHome(home, *from); !s.ok()) return void(*exit_code = Fail(g, s.error()));
    std::string db = home + "/lastgood.db";
    if (g.json()) return PrintJson({{"restored", *from}, {"store", db}});
    std::cout << "restored " << db << " from " << *from
              << "; the store it replaced is kept beside it (lastgood.db.before-restore.*)\n";
  });
}

}  // namespace lastgood::cli
