#include "manifest/parameters.h"

#include <cstdint>
#include <vector>

namespace lastgood::manifest_internal {
namespace {

constexpr std::string_view kRefOpen = "${params.";

bool IsParamName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::vector<std::string> Names(const Params& params) {
  std::vector<std::string> names;
  for (const auto& [k, v] : params) names.push_back(k);
  return names;
}

std::string ListOrNone(const std::vector<std::string>& names) {
  if (names.empty()) return "none are declared";
  std::string out = "declared: ";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

std::string Suggest(const std::string& name, const std::vector<std::string>& names) {
  if (auto close = ClosestMatch(name, names)) return "; did you mean '" + *close + "'?";
  return "; " + ListOrNone(names);
}

// A value may not carry a reference: it would survive substitution unresolved.
Status CheckValue(const std::string& value, const std::string& what, const std::string& field,
                  int line) {
  if (value.size() > kMaxParamValueBytes) {
    return Error::InvalidInput(what + " is longer than " + std::to_string(kMaxParamValueBytes) +
                                   " bytes; pass large content as a file through run.artifact",
                               field, line);
  }
  if (value.find(kRefOpen) != std::string::npos) {
    return Error::InvalidInput(
        what + " contains '${params.'; a parameter value cannot refer to another parameter", field,
        line);
  }
  if (!IsValidUtf8(value)) {
    return Error::InvalidInput(what + " is not valid UTF-8", field, line);
  }
  return Status::Ok();
}

struct Declaration {
  std::optional<std::string> default_value;
  int line = 0;
};

Result<Declaration> ReadDeclaration(const MapFields::Entry& entry) {
  const Field& decl = entry.value;
  if (!IsParamName(entry.key)) {
    return Error::InvalidInput("parameter name '" + entry.key +
                                   "' is not valid; use letters, digits and '_', starting with a "
                                   "letter (referenced as ${params.NAME})",
                               decl.path, entry.value.key_line);
  }
  Declaration out{std::nullopt, entry.value.key_line};
  if (decl.node.IsNull()) return out;  // `name:` alone declares a required parameter
  auto fields = MapFields::Open(decl, {"default", "description"});
  if (!fields.ok()) return fields.error();
  if (auto d = fields->Get("default")) {
    if (!d->node.IsScalar()) {
      return Error::InvalidInput("expected a string, got " + Describe(d->node), d->path, d->line);
    }
    LG_RETURN_IF_ERROR(CheckValue(d->node.Scalar(), "the default", d->path, d->line));
    out.default_value = d->node.Scalar();
  }
  if (auto d = fields->Get("description"); d && !d->node.IsScalar()) {
    return Error::InvalidInput("expected a string, got " + Describe(d->node), d->path, d->line);
  }
  return out;
}

}  // namespace

Result<Params> ResolveParameters(const std::optional<Field>& block, int block_key_line,
                                 const Params& given) {
  std::map<std::string, Declaration> declared;
  if (block) {
    auto fields = MapFields::OpenFree(*block);
    if (!fields.ok()) return fields.error();
    for (const auto& entry : fields->entries()) {
      auto decl = ReadDeclaration(entry);
      if (!decl.ok()) return decl.error();
      declared[entry.key] = *decl;
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, d] : declared) names.push_back(name);

  for (const auto& [name, value] : given) {
    if (!declared.count(name)) {
      return Error::InvalidInput("--param " + name + ": there is no parameter '" + name +
                                     "' under parameters" + Suggest(name, names),
                                 "parameters", block_key_line);
    }
    LG_RETURN_IF_ERROR(
        CheckValue(value, "--param " + name + "'s value", "parameters", block_key_line));
  }

  Params resolved;
  for (const auto& [name, d] : declared) {
    if (auto it = given.find(name); it != given.end()) {
      resolved[name] = it->second;
    } else if (d.default_value) {
      resolved[name] = *d.default_value;
    } else {
      return Error::InvalidInput("parameter '" + name +
                                     "' has no default and was not given; pass "
                                     "--param " +
                                     name + "=VALUE or add a default",
                                 "parameters." + name, d.line);
    }
  }
  return resolved;
}

Result<std::string> SubstituteParams(const std::string& text, const Params& params,
                                     const std::string& path, int line) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find(kRefOpen, pos);
    if (start == std::string::npos) break;
    size_t close = text.find('}', start);
    if (close == std::string::npos) {
      return Error::InvalidInput("'${params.' is not closed; write ${params.NAME}", path, line);
    }
    std::string name = text.substr(start + kRefOpen.size(), close - start - kRefOpen.size());
    auto it = params.find(name);
    if (it == params.end()) {
      return Error::InvalidInput("parameter '" + name +
                                     "' is not declared under parameters; declare it there "
                                     "(parameters: { " +
                                     name +
                                     ": { default: ... } }) or fix "
                                     "the name" +
                                     Suggest(name, Names(params)),
                                 path, line);
    }
    out.append(text, pos, start - pos);
    out += it->second;
    pos = close + 1;
  }
  if (pos == 0) return text;
  out.append(text, pos, std::string::npos);
  return out;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace lastgood::manifest_internal
