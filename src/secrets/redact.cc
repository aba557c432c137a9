#include "secrets/redact.h"

#include <algorithm>

namespace lastgood {
namespace {

struct Needle {
  std::string text;
  std::string name;
};

void ReplaceAll(std::string& text, const Needle& n) {
  const std::string mark = "[secret " + n.name + "]";
  for (size_t at = text.find(n.text); at != std::string::npos;
       at = text.find(n.text, at + mark.size())) {
    text.replace(at, n.text.size(), mark);
  }
}

}  // namespace

std::string Redact(std::string text, const std::vector<SecretValue>& secrets) {
  std::vector<Needle> needles;
  for (const auto& s : secrets) {
    if (s.value.empty()) continue;
    needles.push_back({s.value, s.name});
    if (s.value.find('\n') == std::string::npos) continue;
    size_t start = 0;
    while (start < s.value.size()) {
      size_t end = s.value.find('\n', start);
      if (end == std::string::npos) end = s.value.size();
      std::string line = s.value.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() >= kMinRedactedLine) needles.push_back({line, s.name});
      start = end + 1;
    }
  }
  std::stable_sort(needles.begin(), needles.end(),
                   [](const Needle& a, const Needle& b) { return a.text.size() > b.text.size(); });
  for (const auto& n : needles) ReplaceAll(text, n);
  return text;
}

}  // namespace lastgood
