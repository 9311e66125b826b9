// Result<T>: a value or an Error, shaped like std::expected (which clang 14 cannot compile with
// libstdc++ 12). Adapters turn library exceptions into Errors; nothing above the adapters throws.
#pragma once

#include <cassert>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kprof {

// What went wrong, coarse enough to decide a retry and to label a metric.
enum class ErrorCode {
  InvalidArgument,  // the caller's input is wrong; retrying will not help
  NotFound,
  AlreadyExists,
  Conflict,  // stale version; re-read and retry
  Expired,   // the version or cursor the request named is too old (HTTP 410); start over
  PermissionDenied,
  Unauthenticated,
  ResourceExhausted,  // a limit was hit: size, queue, rate
  Unavailable,        // the peer is down or unreachable; retry with backoff
  Timeout,
  Parse,  // malformed data from outside
  Io,
  Internal,
};

std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  // How long the peer asked us to wait before retrying (Retry-After); zero when it did not say.
  std::chrono::milliseconds retry_after{0};

  // "Parse: profile.pb.gz: truncated varint at offset 12"
  std::string toString() const;
  // Adds context in front of the message, keeping the code: err.wrap("loading config").
  Error wrap(std::string_view context) const;
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}};
}

// Marks an Error as the failure value when constructing a Result: `return Unexpected{err};`.
struct Unexpected {
  Error error;
};

inline Unexpected fail(ErrorCode code, std::string message) {
  return Unexpected{Error{code, std::move(message), {}}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected failure)
      : state_(std::in_place_index<1>, std::move(failure.error)) {}          // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool hasValue() const { return state_.index() == 0; }
  explicit operator bool() const { return hasValue(); }

  T& value() & {
    assert(hasValue());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(hasValue());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(hasValue());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!hasValue());
    return std::get<1>(state_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T valueOr(U&& fallback) const& {
    return hasValue() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Unexpected failure) : error_(std::move(failure.error)), ok_(false) {}  // NOLINT
  Result(Error error) : error_(std::move(error)), ok_(false) {}                 // NOLINT

  bool hasValue() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() {
  return {};
}

}  // namespace kprof

// Propagates a failed Result out of the calling function, which must itself return a Result.
#define KPROF_TRY(expr)                                      \
  do {                                                       \
    auto kprof_try_result_ = (expr);                         \
    if (!kprof_try_result_) {                                \
      return ::kprof::Unexpected{kprof_try_result_.error()}; \
    }                                                        \
  } while (false)
