#include "secrets/key_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/fd.h"

namespace lastgood {
namespace {

// The file is a few dozen bytes; anything much larger is not our key file.
constexpr size_t kMaxKeyFileBytes = 256;

Error Malformed(const std::string& path) {
  return Error::Unavailable(path + " is not a lastgood secrets key file (expected one line '" +
                            kSecretKeyFileTag +
                            " <64 hex digits>'); restore it from where you keep it "
                            "(docs/secrets.md)");
}

Result<SecretKey> Parse(std::string text, const std::string& path) {
  const std::string tag = std::string(kSecretKeyFileTag) + " ";
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() != tag.size() + 2 * kSecretKeyBytes || text.compare(0, tag.size(), tag) != 0) {
    OPENSSL_cleanse(text.data(), text.size());
    return Malformed(path);
  }
  std::vector<unsigned char> raw;
  bool ok = FromHex(std::string_view(text).substr(tag.size()), &raw);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) return Malformed(path);
  SecretKey key;
  std::copy(raw.begin(), raw.end(), key.bytes.begin());
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

}  // namespace

std::string KeyFileText(const SecretKey& key) {
  return std::string(kSecretKeyFileTag) + " " + ToHex(key.bytes.data(), key.bytes.size()) + "\n";
}

Result<SecretKey> LoadKey(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Error::NotFound("there is no secrets key at " + path);
    return Error::Unavailable(
        "cannot open the secrets key " + path + ": " + strerror(errno) +
        (errno == ELOOP ? " (it is a symbolic link; put the file itself there)" : ""));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::Unavailable("cannot read the secrets key " + path + ": " + strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Malformed(path);
  if (st.st_uid != ::geteuid()) {
    return Error::Unavailable("the secrets key " + path + " belongs to uid " +
                              std::to_string(st.st_uid) + ", not to this user (uid " +
                              std::to_string(::geteuid()) +
                              "); chown it to the user that runs "
                              "lastgood");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error::Unavailable("the secrets key " + path +
                              " may be read or written by others (mode " + mode + "); `chmod 600 " +
                              path + "`, and consider the secrets it seals exposed");
  }
  if (static_cast<size_t>(st.st_size) > kMaxKeyFileBytes) return Malformed(path);
  std::string text(kMaxKeyFileBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error::Unavailable("cannot read the secrets key " + path + ": " + strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return Parse(std::move(text), path);
}

Result<SecretKey> LoadOrCreateKey(const std::string& path) {
  auto loaded = LoadKey(path);
  if (loaded.ok() || loaded.error().code != ErrorCode::kNotFound) return loaded;
  auto key = NewSecretKey();
  if (!key.ok()) return key.error();
  // Written under a temporary name and linked into place: a reader never sees a half-written
  // key, and link() fails if another maker was first, whose key then wins.
  std::string tmp = path + ".new.XXXXXX";
  {
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));  // 0600, a name no other maker uses
    if (fd.get() < 0) {
      return Error::Unavailable("cannot create the secrets key " + path + ": " + strerror(errno));
    }
    std::string text = KeyFileText(*key);
    bool written =
        ::fchmod(fd.get(), 0600) == 0 &&
        ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd.get()) == 0;
    int err = errno;
    OPENSSL_cleanse(text.data(), text.size());
    if (!written) {
      ::unlink(tmp.c_str());
      return Error::Unavailable("cannot write the secrets key " + path + ": " + strerror(err));
    }
  }
  int linked = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && err != EEXIST) {
    return Error::Unavailable("cannot put the secrets key in place at " + path + ": " +
                              strerror(err));
  }
  // The folder's entry must outlive a crash as the secrets sealed with the key will.
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return LoadKey(path);
}

}  // namespace lastgood
