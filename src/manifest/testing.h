// What the manifest tests share: the smallest manifest that parses, and parsing helpers that
// report through GoogleTest. For *_test.cc files only.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "manifest/parser.h"

namespace lastgood::manifest_testing {

inline constexpr char kMinimalManifest[] = "app: web\nrun:\n  command: [\"./web\"]\n";

using Params = std::map<std::string, std::string>;

// The manifest part after `app:` and `run:`, appended to the minimal manifest.
inline std::string With(const std::string& rest) { return kMinimalManifest + rest; }

// The parsed manifest; a test failure (and an empty manifest) when it does not parse.
inline Manifest Parse(const std::string& yaml, const Params& params = {}) {
  auto r = ParseManifest(yaml, params);
  EXPECT_TRUE(r.ok()) << r.error().ToString() << "\n" << yaml;
  return r.ok() ? r->manifest : Manifest{};
}

// The error of a manifest that must be refused as invalid input.
inline Error ParseError(const std::string& yaml, const Params& params = {}) {
  auto r = ParseManifest(yaml, params);
  if (r.ok()) {
    ADD_FAILURE() << "parsed, but an error was expected:\n" << yaml;
    return Error::Internal("parsed");
  }
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << r.error().ToString();
  return r.error();
}

}  // namespace lastgood::manifest_testing

#define EXPECT_MANIFEST_ERROR(yaml, want_field, want_line, want_text)        \
  do {                                                                       \
    Error e = ::lastgood::manifest_testing::ParseError(yaml);                \
    EXPECT_EQ(e.field, want_field) << e.ToString();                          \
    EXPECT_EQ(e.line, want_line) << e.ToString();                            \
    EXPECT_NE(e.message.find(want_text), std::string::npos) << e.ToString(); \
  } while (0)
