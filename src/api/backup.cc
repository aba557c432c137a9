// POST /v1/backup: a consistent snapshot of the store, as the answer's body, for `lastgood
// backup FILE` (which writes it on the caller's side, 0600). The CLI never opens the store
// itself (issue 12); with no controller running it uses BackupHome (api/controller.h).
#include "store/backup.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/handlers.h"
#include "api/verbs.h"

namespace lastgood {
namespace {

// A snapshot travels in one response held in memory on both sides.
constexpr uintmax_t kMaxBackupBytes = uintmax_t{1} << 30;

}  // namespace

ApiResponse BackupStoreFile(const RouteCall& call) {
  const std::string& db = call.options.storePath;
  if (db.empty()) return ErrorResponse(Error::NotFound("this controller has no store file"));
  static std::atomic<int> counter{0};
  const std::string tmp =
      db + ".api-backup." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } cleanup{tmp};
  if (auto s = BackupStore(db, tmp); !s.ok()) return ErrorResponse(s.error());
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(tmp, ec);
  if (ec) return ErrorResponse(Error::Unavailable("cannot read the snapshot: " + ec.message()));
  if (size > kMaxBackupBytes) {
    return ErrorResponse(Error::Unavailable(
        "the store is " + std::to_string(size >> 20) +
        " MiB, more than the 1024 MiB a backup over the API carries; stop the controller and "
        "run `lastgood backup FILE` on its host"));
  }
  std::ifstream in(tmp, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return ErrorResponse(Error::Unavailable("cannot read the snapshot " + tmp));
  return {200, std::move(bytes).str(), "application/vnd.sqlite3"};
}

}  // namespace lastgood
