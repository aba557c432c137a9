#include "api/socket_group.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace lastgood {

namespace {

// Buffer sizes for the reentrant NSS calls; a group with many members needs more than the
// sysconf hint, so a call that says ERANGE is retried with a larger buffer up to this.
constexpr size_t kMaxNssBuffer = size_t{1} << 20;

}  // namespace

Result<gid_t> ResolveSocketGroup(const std::string& name) {
  std::vector<char> buffer(4096);
  for (;;) {
    group entry{};
    group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < kMaxNssBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) {
      return Error::InvalidInput(
          "--socket-group " + name + ": no such group (create it with `groupadd " + name + "`)",
          "socket-group");
    }
    return found->gr_gid;
  }
}

bool IsGroupMember(uid_t uid, gid_t gid) {
  std::vector<char> buffer(4096);
  passwd entry{};
  passwd* found = nullptr;
  for (;;) {
    int rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < kMaxNssBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return false;
    break;
  }
  if (found->pw_gid == gid) return true;
  // getgrouplist reads the group database for the user's supplementary groups.
  std::vector<gid_t> groups(64);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<size_t>(count));
      break;
    }
    if (static_cast<size_t>(count) <= groups.size() || groups.size() >= 65536) return false;
    groups.resize(static_cast<size_t>(count));
  }
  for (gid_t g : groups) {
    if (g == gid) return true;
  }
  return false;
}

Status ShareWithGroup(const std::string& socket_path, gid_t gid) {
  std::string home = std::filesystem::path(socket_path).parent_path().string();
  if (home.empty()) home = ".";
  auto fail = [&](const std::string& what) {
    return Error::Unavailable("--socket-group: cannot " + what + ": " + std::strerror(errno) +
                              " (the controller must run as root or as a member of the group)");
  };
  if (::chown(home.c_str(), static_cast<uid_t>(-1), gid) != 0) return fail("give " + home);
  if (::chmod(home.c_str(), 0710) != 0) return fail("open " + home + " to the group");
  if (::chown(socket_path.c_str(), static_cast<uid_t>(-1), gid) != 0)
    return fail("give " + socket_path);
  if (::chmod(socket_path.c_str(), 0660) != 0) return fail("open " + socket_path + " to the group");
  return Status::Ok();
}

}  // namespace lastgood
