// The one way the controller and the dashboard turn JSON into bytes (issue 11 A1). A record
// may quote whatever a client sent — a request path, a file name, a header — and those bytes
// need not be UTF-8; nlohmann::json::dump() throws on them, and an exception in a connection
// thread ends the process. Everything written here replaces such bytes with U+FFFD instead,
// and never throws.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "wire/request.h"

namespace lastgood {

// j as compact JSON text; strings that are not valid UTF-8 are repaired (U+FFFD).
std::string DumpJson(const nlohmann::json& j);
// The same, indented by `indent` spaces (what the CLI prints for -o json).
std::string DumpJsonIndented(const nlohmann::json& j, int indent);

// `text` as a JSON string value whose bytes are valid UTF-8 (invalid ones become U+FFFD),
// for values that are kept or compared as JSON before they are written.
nlohmann::json Utf8String(const std::string& text);

// {"error": {"code", "message", "field"?, "line"?}}; message and field repaired as above.
nlohmann::json ErrorJson(const Error& e);
// The answer to a request that failed: the error's HTTP status and ErrorJson as its body.
ApiResponse ErrorResponse(const Error& e);
// The answer to a request whose handler threw: 500 with an internal error that says so
// and names the request's method and path (never its body, which may hold a secret).
ApiResponse CrashResponse(const ApiRequest& request, const char* what);

}  // namespace lastgood
