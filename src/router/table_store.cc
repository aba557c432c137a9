#include "router/table_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lastgood {
namespace {

Status SystemError(const std::string& what, const std::string& path) {
  return Error::Internal(what + " " + path + ": " + strerror(errno));
}

}  // namespace

Status SaveTable(const std::string& path, const RoutingTable& table) {
  std::string text = TableToJson(table);
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot create", temp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = SystemError("cannot write", temp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = SystemError("cannot fsync", temp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) return SystemError("cannot rename to", path);
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::optional<RoutingTable>> LoadTable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<RoutingTable>();
    return Error::Internal("cannot read " + path + ": " + strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto table = TableFromJson(text.str());
  if (!table.ok()) {
    Error e = table.error();
    e.message = path + ": " + e.message;
    return e;
  }
  return std::optional<RoutingTable>(std::move(*table));
}

}  // namespace lastgood
