#include "wire/json_text.h"

namespace lastgood {
namespace {

// A path quoted in an error is for a human; a 16 KiB one is not.
constexpr size_t kMaxQuotedPath = 256;

}  // namespace

std::string DumpJson(const nlohmann::json& j) { return DumpJsonIndented(j, -1); }

std::string DumpJsonIndented(const nlohmann::json& j, int indent) {
  // With error_handler_t::replace, dump() never throws: the only exception it can raise is
  // type_error 316 for invalid UTF-8, which `replace` turns into U+FFFD.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json Utf8String(const std::string& text) {
  std::string quoted = DumpJson(nlohmann::json(text));
  return nlohmann::json::parse(quoted, nullptr, false);
}

nlohmann::json ErrorJson(const Error& e) {
  nlohmann::json err = {{"code", ErrorCodeName(e.code)}, {"message", Utf8String(e.message)}};
  if (!e.field.empty()) err["field"] = Utf8String(e.field);
  if (e.line > 0) err["line"] = e.line;
  return {{"error", err}};
}

ApiResponse ErrorResponse(const Error& e) {
  return {HttpStatusFor(e.code), DumpJson(ErrorJson(e))};
}

ApiResponse CrashResponse(const ApiRequest& request, const char* what) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path.size() > kMaxQuotedPath) path = path.substr(0, kMaxQuotedPath) + "…";
  return ErrorResponse(Error::Internal("the controller failed to answer " + request.method + " " +
                                       path + " (" + what + "); it logged this and goes on"));
}

}  // namespace lastgood
