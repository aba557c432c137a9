// The canonical YAML form of a Manifest: fixed field order, defaults written out,
// parameters already resolved (no `parameters:` block). Two manifests are equal exactly
// when their canonical forms are equal, and ParseManifest(ToCanonicalYaml(m), {}) == m.
// This is the text a version stores, `show` prints and `diff` compares.
#pragma once

#include <string>

#include "manifest/manifest.h"

namespace lastgood {

// REQUIRES: the strings in `manifest` are valid UTF-8, as ParseManifest guarantees.
std::string ToCanonicalYaml(const Manifest& manifest);

}  // namespace lastgood
