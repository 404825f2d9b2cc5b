// Status and Result<T>: expected failures as values, never exceptions across layers.
//
// A Status is ok or carries a code and a human-readable message that names what went
// wrong (for a client: the parameter; for an operator: the file or peer). Result<T> is a
// value or a non-ok Status. Programmer errors are assertions, not Statuses. Both are
// [[nodiscard]]: an error dropped on the floor must be written as such ((void) and a reason).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace md {

enum class Code {
  ok,
  not_found,         // the key or thing asked for does not exist
  invalid_argument,  // the caller sent something malformed or out of range
  too_large,         // a key, value, frame or body over its configured limit
  conflict,          // refused to keep the data consistent (e.g. sibling limit)
  unavailable,       // a quorum or peer could not be reached before the deadline
  corruption,        // stored or received bytes failed validation
  io_error,          // the operating system or storage engine reported a failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status not_found(std::string msg) { return Status(Code::not_found, std::move(msg)); }
  static Status invalid_argument(std::string msg) { return Status(Code::invalid_argument, std::move(msg)); }
  static Status too_large(std::string msg) { return Status(Code::too_large, std::move(msg)); }
  static Status conflict(std::string msg) { return Status(Code::conflict, std::move(msg)); }
  static Status unavailable(std::string msg) { return Status(Code::unavailable, std::move(msg)); }
  static Status corruption(std::string msg) { return Status(Code::corruption, std::move(msg)); }
  static Status io_error(std::string msg) { return Status(Code::io_error, std::move(msg)); }

  bool is_ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::ok;
  std::string message_;
};

// A value of T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status ok_status;
    return is_ok() ? ok_status : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace md
