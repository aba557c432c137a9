// The repository names no path of one machine: a script's default, a command in the docs or
// a pointer in a contributor's page that only exists where it was written fails a newcomer's
// first run. Every tracked text file is read; an absolute path under a home-grown root (home
// directories, a workspace mount) fails `make test` with the file and the line.
//
// And the newcomer's map (docs/dev/map.md) names only files that exist: every `src/...` it
// names, and the first column of its tables of src/engine/ and src/, which name files and
// folders relative to those.
#include <gtest/gtest.h>
#include <stdio.h>

#include <filesystem>
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

// The paths a line of map.md names: each `src/...` in backticks, and in the first column of
// a table row under a heading that names `folder`, each name relative to it ("x.h/.cc" is
// x.h and x.cc).
std::vector<std::string> MapPaths(const std::string& line, const std::string& folder) {
  std::vector<std::string> out;
  static const std::regex kNamed("`(src/[^`\\s]+)`");
  for (std::sregex_iterator it(line.begin(), line.end(), kNamed), end; it != end; ++it)
    out.push_back((*it)[1].str());
  if (folder.empty() || line.rfind("| `", 0) != 0) return out;
  const std::string first = line.substr(0, line.find(" |", 1));
  static const std::regex kName("`([A-Za-z0-9_./-]+)`");
  for (std::sregex_iterator it(first.begin(), first.end(), kName), end; it != end; ++it) {
    std::string name = (*it)[1].str();
    if (name.rfind("src/", 0) == 0) continue;
    if (auto pair = name.find(".h/.cc"); pair != std::string::npos) {
      out.push_back(folder + name.substr(0, pair) + ".h");
      out.push_back(folder + name.substr(0, pair) + ".cc");
    } else {
      out.push_back(folder + name);
    }
  }
  return out;
}

TEST(Repository, TheMapNamesOnlyPathsThatExist) {
  std::ifstream in(kRoot + "/docs/dev/map.md");
  ASSERT_TRUE(in) << "docs/dev/map.md cannot be read";
  std::string line, folder;
  int named = 0;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.rfind("#", 0) == 0) {
      // "## The engine, by concept (`src/engine/`)": its table's first column is relative.
      std::smatch m;
      folder = std::regex_search(line, m, std::regex("\\(`(src/[^`]*)`\\)")) ? m[1].str() : "";
      continue;
    }
    for (const std::string& path : MapPaths(line, folder)) {
      ++named;
      EXPECT_TRUE(std::filesystem::exists(kRoot + "/" + path))
          << "docs/dev/map.md:" << n << " names " << path << ", which does not exist: fix the map";
    }
  }
  EXPECT_GT(named, 50) << "too few paths found: is this still the map?";
}

}  // namespace
