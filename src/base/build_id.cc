#include "base/build_id.h"

#include <elf.h>
#include <link.h>
#include <sys/utsname.h>

#include <cstdlib>
#include <cstring>

namespace lastgood {
namespace {

// dl_iterate_phdr visits the executable first; its PT_NOTE segments hold the build id.
int FindBuildId(struct dl_phdr_info* info, size_t, void* out) {
  auto* id = static_cast<std::string*>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((note->n_namesz + 3) & ~3u);
      if (desc + note->n_descsz > end) break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        static constexpr char kHex[] = "0123456789abcdef";
        for (size_t k = 0; k < note->n_descsz; ++k) {
          auto b = static_cast<unsigned char>(desc[k]);
          id->push_back(kHex[b >> 4]);
          id->push_back(kHex[b & 15]);
        }
        return 1;
      }
      p = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // only the executable itself, never a shared library's note
}

}  // namespace

const std::string& BuildId() {
  static const std::string id = [] {
    // Tests make "another build" of the same binary with it (issue 13: a router take-over
    // by another build, without a rebuild inside `make test`).
    if (const char* fake = std::getenv("LASTGOOD_FAKE_BUILD_ID"); fake && *fake)
      return std::string(fake);
    std::string out;
    dl_iterate_phdr(FindBuildId, &out);
    return out;
  }();
  return id;
}

std::string MachineArch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return u.machine;
}

}  // namespace lastgood
