// BackupHome and RestoreHome (api/controller.h): the store of a stopped controller's home.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "api/controller.h"
#include "store/backup.h"

namespace lastgood {
namespace {

// Runs `work` on the home's store while holding the controller lock.
template <typename Work>
Status WithHomeLocked(const std::string& home, Work work) {
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  std::string holder;
  int lock = LockHome(home, &holder);
  if (lock < 0) {
    return Error::Conflict("a controller is running with home " + home +
                           (holder.empty() ? "" : " (pid " + holder + ")") + "; stop it first");
  }
  Status s = work(home + "/lastgood.db");
  ::close(lock);
  return s;
}

}  // namespace

Status BackupHome(const std::string& home, const std::string& file) {
  return WithHomeLocked(home, [&](const std::string& db) {
    // The snapshot is the owner's alone (it holds the audit and the tokens' hashes); SQLite
    // creates it with the umask's mode. The CLI, which calls this, has no other threads.
    mode_t old = ::umask(077);
    Status s = BackupStore(db, file);
    ::umask(old);
    return s;
  });
}

Status RestoreHome(const std::string& home, const std::string& file) {
  return WithHomeLocked(home, [&](const std::string& db) { return RestoreStore(file, db); });
}

}  // namespace lastgood
