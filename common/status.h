// Status and Result<T>: expected failures as values (leveldb's status.h habit).
//
// A Status is either ok or carries a human-readable message that already names
// the call, the object and the cause ("bind(127.0.0.1:8080): Address already in
// use"). Result<T> holds a T or a non-ok Status. Neither throws; both are cheap
// to move. Used by every module; thread-safe as values (no shared state).
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wsgid {

class Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }
  // "call(object): strerror(err)", the form every system-call failure takes.
  static Status sys(std::string_view call, std::string_view object, int err = errno) {
    std::string m(call);
    m += '(';
    m += object;
    m += "): ";
    m += std::strerror(err);
    return Status(std::move(m), true);
  }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status(std::string m, bool failed) : message_(std::move(m)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}   // must be non-ok

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  // The error; only valid when !is_ok().
  const Status& status() const { return std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace wsgid
