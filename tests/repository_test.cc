// The repository names no path of one machine: a script's default, a command in the docs or
// a pointer in a contributor's page that only exists where it was written fails a newcomer's
// first run. Every tracked text file is read; an absolute path under a home-grown root (home
// directories, a workspace mount) fails `make test` with the file and the line.
#include <gtest/gtest.h>
#include <stdio.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string kRoot = LASTGOOD_SOURCE_DIR;

// `git ls-files` of the checkout, or nothing when it is not a git checkout.
std::vector<std::string> TrackedFiles() {
  std::vector<std::string> files;
  FILE* out = popen(("git -C '" + kRoot + "' ls-files -z 2>/dev/null").c_str(), "r");
  if (out == nullptr) return files;
  std::string name;
  for (int c; (c = fgetc(out)) != EOF;) {
    if (c == '\0') {
      files.push_back(name);
      name.clear();
    } else {
      name += static_cast<char>(c);
    }
  }
  pclose(out);
  return files;
}

TEST(Repository, NoTrackedFileNamesAPathOfOneMachine) {
  std::vector<std::string> files = TrackedFiles();
  if (files.empty()) GTEST_SKIP() << "not a git checkout: nothing to list";
  // Roots that exist on one machine only. Spelled in pieces so that this file passes itself.
  const std::string roots = std::string("work|home|Users|root|mnt") + "|media";
  const std::regex machine_path("(^|[\\s\"'`(=:,])/(" + roots + ")/[A-Za-z0-9._-]+");
  int read = 0;
  for (const std::string& file : files) {
    std::ifstream in(kRoot + "/" + file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    if (body.find('\0') != std::string::npos) continue;  // binary
    ++read;
    std::istringstream lines(body);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      std::smatch m;
      if (std::regex_search(line, m, machine_path)) {
        ADD_FAILURE() << file << ":" << n << " names a path of one machine ("
                      << m[0].str().substr(m[1].length())
                      << "): make it relative to the checkout, or to a variable";
      }
    }
  }
  EXPECT_GT(read, 100) << "too few files read to be the repository";
}

}  // namespace
