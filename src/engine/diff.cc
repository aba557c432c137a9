#include "engine/diff.h"

#include <dtl/dtl.hpp>
#include <sstream>
#include <vector>

namespace lastgood {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& label_a,
                        const std::string& label_b) {
  if (a == b) return "";
  auto la = Lines(a), lb = Lines(b);
  dtl::Diff<std::string> diff(la, lb);
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  out << "--- " << label_a << "\n+++ " << label_b << "\n";
  // dtl prints each line as "<mark><line>\n" under "@@ -a,b +c,d @@" headers.
  diff.printUnifiedFormat(out);
  return out.str();
}

}  // namespace lastgood
