// Replays a libFuzzer target's inputs without libFuzzer: each argument is a file, or a folder
// whose files are read in name order, and each file goes once through LLVMFuzzerTestOneInput.
// The target aborts on a finding, which fails the run. Built by the main g++ build for targets
// whose clang build is too heavy for `make test` (CMakeLists.txt: api_request_replay).
//
// Fails when it finds no input at all: a replay of nothing would pass whatever the code does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> Inputs(const std::filesystem::path& arg) {
  if (!std::filesystem::is_directory(arg)) return {arg};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(arg))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& file : Inputs(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        fprintf(stderr, "cannot read %s\n", file.c_str());
        return 1;
      }
      const std::string input{std::istreambuf_iterator<char>(in), {}};
      fprintf(stderr, "replaying %s\n", file.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    fprintf(stderr, "no input to replay\n");
    return 1;
  }
  fprintf(stderr, "%zu inputs replayed, no finding\n", replayed);
  return 0;
}
