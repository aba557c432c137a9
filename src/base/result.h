// Result<T>: a value or an Error. Errors cross module boundaries as values, never as
// exceptions. The error codes are a closed set that maps one-to-one to the CLI's exit codes
// (DESIGN.md section 5): InvalidInput→2, Conflict→3, NotFound→4, Unavailable→5, and
// Failed/Internal→1.
//
// Thread-safety: a Result is a plain value; share it like any other value.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lastgood {

enum class ErrorCode {
  kInvalidInput,  // the caller's input is wrong; nothing was changed
  kConflict,      // another deployment is running, or the state forbids the action
  kNotFound,      // no such app, version, deployment, …
  kUnavailable,   // the controller, the router or a resource cannot be reached
  kFailed,        // a deployment ran and failed
  kInternal,      // a bug or an unexpected system error
};

// The process exit code that the CLI uses for an error of this code.
int ExitCodeFor(ErrorCode code);
// "invalid_input", "conflict", … as used in JSON error bodies.
const char* ErrorCodeName(ErrorCode code);
// The HTTP status an API answers an error of this code with: 400, 409, 404, 503, 500.
int HttpStatusFor(ErrorCode code);
// The inverse of ErrorCodeName; unknown names give kInternal.
ErrorCode ErrorCodeFromName(const std::string& name);

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field;  // manifest field path ("strategy.rolling.maxSurge") when known
  int line = 0;       // 1-based line in the input when known, else 0

  static Error InvalidInput(std::string message, std::string field = "", int line = 0) {
    return {ErrorCode::kInvalidInput, std::move(message), std::move(field), line};
  }
  static Error Conflict(std::string message) {
    return {ErrorCode::kConflict, std::move(message), "", 0};
  }
  static Error NotFound(std::string message) {
    return {ErrorCode::kNotFound, std::move(message), "", 0};
  }
  static Error Unavailable(std::string message) {
    return {ErrorCode::kUnavailable, std::move(message), "", 0};
  }
  static Error Failed(std::string message) {
    return {ErrorCode::kFailed, std::move(message), "", 0};
  }
  static Error Internal(std::string message) {
    return {ErrorCode::kInternal, std::move(message), "", 0};
  }

  // "field (line N): message" — the form printed to users.
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Status: a Result with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace lastgood

// Returns the error of a Status/Result expression from the enclosing function.
#define LG_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    auto lg_status_ = (expr);                        \
    if (!lg_status_.ok()) return lg_status_.error(); \
  } while (0)
