// Unified diff of two texts (manifests), as `diff -u` prints it, with 3 lines of context.
#pragma once

#include <string>

namespace lastgood {

// Empty when the texts are equal.
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& label_a,
                        const std::string& label_b);

}  // namespace lastgood
