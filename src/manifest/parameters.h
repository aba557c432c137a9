// Internal to manifest/: the `parameters:` block, --param values, and the substitution of
// "${params.NAME}" in scalar values.
//
// Substitution is a single pass: a parameter's value is inserted as it is and never
// scanned again, so values cannot refer to other parameters. Values may not contain
// "${params." at all, which keeps a resolved manifest free of references (its canonical
// form must parse again without parameters). "${NAME}" without "params." is left as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "manifest/field_reader.h"

namespace lastgood::manifest_internal {

// The longest value a parameter may have (bytes).
inline constexpr size_t kMaxParamValueBytes = 64 * 1024;

// The resolved value of every declared parameter: the --param value if given, else the
// default. `block` is the `parameters:` field if present; `block_key_line` is the line of
// the `parameters:` key (0 if absent), used for errors about --param values.
Result<Params> ResolveParameters(const std::optional<Field>& block, int block_key_line,
                                 const Params& given);

// `text` with every "${params.NAME}" replaced by its value. `path` and `line` locate the
// scalar for errors (an undeclared NAME, an unclosed "${params.").
Result<std::string> SubstituteParams(const std::string& text, const Params& params,
                                     const std::string& path, int line);

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace lastgood::manifest_internal
