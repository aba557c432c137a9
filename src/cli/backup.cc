// `lastgood backup FILE` and `lastgood restore FILE`: the store as one file.
#include "store/backup.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "api/controller.h"
#include "cli/verbs.h"

namespace lastgood::cli {

void AddBackupVerbs(CLI::App& app, Globals& g, int* exit_code) {
  auto file = std::make_shared<std::string>();
  auto* backup = app.add_subcommand(
      "backup", "write a consistent snapshot of the store to FILE (the controller may run)");
  backup->add_option("file", *file, "where to write the snapshot (must not exist)")->required();
  backup->callback([&g, file, exit_code] {
    std::string db = g.Home() + "/lastgood.db";
    if (auto s = BackupStore(db, *file); !s.ok()) return void(*exit_code = Fail(g, s.error()));
    if (g.json()) return PrintJson({{"backup", *file}, {"store", db}});
    std::cout << "backed up " << db << " to " << *file << "\n";
  });

  auto from = std::make_shared<std::string>();
  auto* restore = app.add_subcommand(
      "restore", "replace the store with a snapshot from FILE (the controller must be stopped)");
  restore->add_option("file", *from, "a snapshot written by `lastgood backup`")->required();
  restore->callback([&g, from, exit_code] {
    std::string home = g.Home();
    std::error_code ec;
    std::filesystem::create_directories(home, ec);
    std::string holder;
    // Holding the controller's lock for the whole restore keeps a controller from starting
    // on a half-restored store.
    int lock = LockHome(home, &holder);
    if (lock < 0) {
      return void(*exit_code =
                      Fail(g, Error::Conflict("a controller is running with home " + home +
                                              (holder.empty() ? "" : " (pid " + holder + ")") +
                                              "; stop it before restoring")));
    }
    std::string db = home + "/lastgood.db";
    Status s = RestoreStore(*from, db);
    ::close(lock);
    if (!s.ok()) return void(*exit_code = Fail(g, s.error()));
    if (g.json()) return PrintJson({{"restored", *from}, {"store", db}});
    std::cout << "restored " << db << " from " << *from
              << "; the store it replaced is kept beside it (lastgood.db.before-restore.*)\n";
  });
}

}  // namespace lastgood::cli
