#include "base/result.h"

namespace lastgood {

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return 2;
    case ErrorCode::kConflict:
      return 3;
    case ErrorCode::kNotFound:
      return 4;
    case ErrorCode::kUnavailable:
      return 5;
    case ErrorCode::kFailed:
    case ErrorCode::kInternal:
      return 1;
  }
  return 1;
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "invalid_input";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kFailed:
      return "failed";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return 400;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

ErrorCode ErrorCodeFromName(const std::string& name) {
  for (ErrorCode c : {ErrorCode::kInvalidInput, ErrorCode::kConflict, ErrorCode::kNotFound,
                      ErrorCode::kUnavailable, ErrorCode::kFailed, ErrorCode::kInternal}) {
    if (name == ErrorCodeName(c)) return c;
  }
  return ErrorCode::kInternal;
}

std::string Error::ToString() const {
  std::string out;
  if (!field.empty()) {
    out += field;
    if (line > 0) out += " (line " + std::to_string(line) + ")";
    out += ": ";
  } else if (line > 0) {
    out += "line " + std::to_string(line) + ": ";
  }
  out += message;
  return out;
}

}  // namespace lastgood
