// Status and Result<T>: how every fallible operation inside the host reports failure.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stagehost {

// A small code set; the message carries the detail and gains context on the way up.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from the user: flags, paths, config syntax
  kInvalidConfig,    // a stage config that fails its schema or cannot be used
  kNotFound,
  kPermissionDenied,  // unsafe file permissions, digest or signature mismatch
  kPluginError,       // the plugin broke: refused at load, crashed, threw, misbehaved
  kUnavailable,       // transient outside failure; worth a retry
  kCancelled,
  kTimeout,
  kInternal,  // a bug or an OS failure in the host itself
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;
  // "code: message", for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status InvalidConfig(std::string m) { return {StatusCode::kInvalidConfig, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status PluginError(std::string m) { return {StatusCode::kPluginError, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// errno-based error: "what: strerror(errno)".
Status ErrnoStatus(std::string_view what, int err);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(state_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace stagehost

// Returns early with the Status of `expr` when it is not OK.
#define STAGEHOST_RETURN_IF_ERROR(expr) \
  do {                                  \
    ::stagehost::Status _st = (expr);   \
    if (!_st.ok()) return _st;          \
  } while (false)

#define STAGEHOST_CONCAT_INNER(a, b) a##b
#define STAGEHOST_CONCAT(a, b) STAGEHOST_CONCAT_INNER(a, b)
// Declares `lhs` from the value of a Result expression, or returns its Status.
#define STAGEHOST_ASSIGN_OR_RETURN(lhs, expr) \
  STAGEHOST_ASSIGN_OR_RETURN_IMPL(STAGEHOST_CONCAT(_result_, __LINE__), lhs, expr)
#define STAGEHOST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
