// API errors of the fake API server, shaped as the real server's metav1.Status bodies: HTTP code,
// reason, message and details (name, group, kind, causes, retryAfterSeconds). ApiResult<T> carries
// a value or such an error through the store, so the HTTP layer only serializes it.
#pragma once

#include <cassert>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::testing {

// A resource as error messages name it: "pods", "profilingpolicies.kprof.dev".
struct GroupResource {
  std::string group;
  std::string resource;

  std::string qualified() const { return group.empty() ? resource : resource + "." + group; }
};

struct StatusCause {
  std::string reason;  // FieldValueRequired, FieldValueInvalid, FieldValueForbidden, ...
  std::string message;
  std::string field;  // "metadata.name"
};

struct ApiError {
  int code = 500;
  std::string reason = "InternalError";
  std::string message;
  nlohmann::json details;  // null or an object
  std::chrono::seconds retry_after{0};

  // {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
  nlohmann::json toStatus() const;
  // The kprof error a client maps this status to (NotFound, Conflict, Expired, ...).
  Error toError() const;
};

ApiError notFound(const GroupResource& resource, std::string_view name);
ApiError alreadyExists(const GroupResource& resource, std::string_view name);
// 409 Conflict: "Operation cannot be fulfilled on pods \"web\": <why>".
ApiError conflict(const GroupResource& resource, std::string_view name, std::string_view why);
// 422 Invalid: "<Kind> \"name\" is invalid: <field>: <message>, ...". `qualified_kind` is
// "Pod" or "ProfilingPolicy.kprof.dev".
ApiError invalid(std::string_view qualified_kind,
                 std::string_view name,
                 std::vector<StatusCause> causes);
ApiError badRequest(std::string message);
ApiError expired(std::string message);  // 410, reason Expired
ApiError forbidden(const GroupResource& resource, std::string_view name, std::string_view why);
ApiError unauthorized();
ApiError methodNotSupported(const GroupResource& resource, std::string_view action);
// 415: `accepted` lists the media types the endpoint takes.
ApiError unsupportedMediaType(std::string_view content_type, std::string_view accepted);
ApiError notAcceptable(std::string message);
ApiError tooLargeResourceVersion(int64_t requested, int64_t current);  // 504, reason Timeout
ApiError resourceNotFound();  // 404 for a path that names no known resource
ApiError internalError(std::string message);
// A status chosen by a test (fault injection): the reason the real server uses for the code.
ApiError statusFor(int code, std::string message, std::chrono::seconds retry_after);

// Serializes without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dumpJson(const nlohmann::json& value);

template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : state_(std::in_place_index<0>, std::move(value)) {}         // NOLINT
  ApiResult(ApiError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

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
  const ApiError& error() const {
    assert(!hasValue());
    return std::get<1>(state_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, ApiError> state_;
};

}  // namespace kprof::testing
