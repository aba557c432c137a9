// The module graph that src/layers.txt allows, checked against every #include of src/: a
// module includes only what is below it (DESIGN.md section 6). A forbidden include fails
// `make test` with the file, the line and what its module may include.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kSrc = fs::path(LASTGOOD_SOURCE_DIR) / "src";

struct Graph {
  // module → what it may include: whole modules, or "module/path.h" for single headers.
  std::map<std::string, std::vector<std::string>> allowed;
  std::vector<std::string> order;            // as listed (bottom-up)
  std::map<std::string, std::string> known;  // "src/FILE -> HEADER" → its line
  std::vector<std::string> errors;           // of the file itself
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Graph ReadGraph() {
  Graph g;
  std::ifstream in(kSrc / "layers.txt");
  if (!in) {
    g.errors.push_back("cannot read src/layers.txt");
    return g;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string text = line;
    if (text.rfind("# src/", 0) == 0 && text.find(" -> ") != std::string::npos) {
      std::string entry = Trim(text.substr(2));
      size_t why = entry.find("  #");
      g.known[Trim(entry.substr(0, why))] = line;
      continue;
    }
    if (auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    text = Trim(text);
    if (text.empty()) continue;
    size_t colon = text.find(':');
    if (colon == std::string::npos) {
      g.errors.push_back("src/layers.txt:" + std::to_string(n) + ": expected MODULE: ALLOWED...");
      continue;
    }
    std::string module = Trim(text.substr(0, colon));
    std::istringstream deps(text.substr(colon + 1));
    std::vector<std::string> list;
    for (std::string d; deps >> d;) list.push_back(d);
    if (g.allowed.count(module)) g.errors.push_back("src/layers.txt: " + module + " listed twice");
    g.allowed[module] = list;
    g.order.push_back(module);
  }
  return g;
}

std::string ModuleOf(const std::string& include) { return include.substr(0, include.find('/')); }

bool Allows(const std::vector<std::string>& allowed, const std::string& include, bool test) {
  for (const auto& a : allowed) {
    if (a == include || a == ModuleOf(include) || (test && ModuleOf(a) == ModuleOf(include)))
      return true;
  }
  return false;
}

TEST(Layers, TheModuleGraphListsEveryModuleAfterWhatItUsesSoItHasNoCycle) {
  Graph g = ReadGraph();
  EXPECT_TRUE(g.errors.empty()) << ::testing::PrintToString(g.errors);
  std::set<std::string> seen;
  for (const auto& module : g.order) {
    for (const auto& dep : g.allowed[module]) {
      EXPECT_TRUE(seen.count(ModuleOf(dep)))
          << module << " may include " << dep << ", which is not listed before it";
    }
    seen.insert(module);
  }
  for (const auto& entry : fs::directory_iterator(kSrc)) {
    if (entry.is_directory()) {
      EXPECT_TRUE(g.allowed.count(entry.path().filename().string()))
          << "src/" << entry.path().filename().string() << " is not in src/layers.txt";
    }
  }
}

TEST(Layers, EveryIncludeOfSrcFollowsTheModuleGraph) {
  Graph g = ReadGraph();
  ASSERT_TRUE(g.errors.empty()) << ::testing::PrintToString(g.errors);
  const std::regex include_line(R"re(^\s*#\s*include\s+"([a-z_]+/[^"]+)")re");
  std::set<std::string> known_seen;
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kSrc)) {
    const fs::path& path = entry.path();
    if (!entry.is_regular_file() || (path.extension() != ".cc" && path.extension() != ".h"))
      continue;
    const fs::path relative = fs::relative(path, kSrc);
    if (relative.begin() == relative.end() || std::next(relative.begin()) == relative.end())
      continue;  // src/main.cc: the top, which may use anything
    const std::string module = relative.begin()->string();
    const bool test = path.filename().string().ends_with("_test.cc");
    const std::string name = "src/" + relative.string();
    std::ifstream in(path);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      const std::string include = m[1];
      const std::string other = ModuleOf(include);
      ++checked;
      if (other == module || (test && other == "testutil")) continue;
      if (Allows(g.allowed[module], include, test)) continue;
      const std::string key = name + " -> " + include;
      if (g.known.count(key)) {
        known_seen.insert(key);
        continue;
      }
      std::string may;
      for (const auto& a : g.allowed[module]) may += " " + a;
      ADD_FAILURE() << name << ":" << n << " includes " << include << ", but " << module
                    << " may include only its own headers and:" << (may.empty() ? " nothing" : may)
                    << " (src/layers.txt)";
    }
  }
  EXPECT_GT(checked, 500) << "the check read too few includes to be reading src/";
  for (const auto& [key, text] : g.known) {
    EXPECT_TRUE(known_seen.count(key))
        << "src/layers.txt lists a known violation that is fixed now; remove it: " << text;
  }
}

}  // namespace
