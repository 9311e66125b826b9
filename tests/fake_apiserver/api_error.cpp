#include "tests/fake_apiserver/api_error.hpp"

namespace kprof::testing {

namespace {

nlohmann::json resourceDetails(const GroupResource& resource, std::string_view name) {
  nlohmann::json details = {{"name", std::string(name)}, {"kind", resource.resource}};
  if (!resource.group.empty()) {
    details["group"] = resource.group;
  }
  return details;
}

ApiError make(int code, std::string reason, std::string message, nlohmann::json details = nullptr) {
  ApiError error;
  error.code = code;
  error.reason = std::move(reason);
  error.message = std::move(message);
  error.details = std::move(details);
  return error;
}

std::string inQuotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

nlohmann::json ApiError::toStatus() const {
  nlohmann::json status = {{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"metadata", nlohmann::json::object()},
                           {"status", "Failure"},
                           {"message", message},
                           {"reason", reason},
                           {"code", code}};
  nlohmann::json out_details = details.is_object() ? details : nlohmann::json::object();
  if (retry_after.count() > 0) {
    out_details["retryAfterSeconds"] = retry_after.count();
  }
  if (!out_details.empty()) {
    status["details"] = std::move(out_details);
  }
  return status;
}

Error ApiError::toError() const {
  ErrorCode error_code = ErrorCode::Internal;
  if (reason == "NotFound") {
    error_code = ErrorCode::NotFound;
  } else if (reason == "AlreadyExists") {
    error_code = ErrorCode::AlreadyExists;
  } else if (reason == "Conflict") {
    error_code = ErrorCode::Conflict;
  } else if (reason == "Expired" || reason == "Gone") {
    error_code = ErrorCode::Expired;
  } else if (reason == "Unauthorized") {
    error_code = ErrorCode::Unauthenticated;
  } else if (reason == "Forbidden") {
    error_code = ErrorCode::PermissionDenied;
  } else if (reason == "Invalid" || reason == "BadRequest" || reason == "MethodNotAllowed" ||
             reason == "NotAcceptable" || reason == "UnsupportedMediaType") {
    error_code = ErrorCode::InvalidArgument;
  } else if (reason == "TooManyRequests") {
    error_code = ErrorCode::ResourceExhausted;
  } else if (reason == "Timeout") {
    error_code = ErrorCode::Timeout;
  } else if (code >= 500) {
    error_code = ErrorCode::Unavailable;
  }
  Error error{error_code, message, {}};
  error.retry_after = retry_after;
  return error;
}

ApiError notFound(const GroupResource& resource, std::string_view name) {
  return make(404,
              "NotFound",
              resource.qualified() + " " + inQuotes(name) + " not found",
              resourceDetails(resource, name));
}

ApiError alreadyExists(const GroupResource& resource, std::string_view name) {
  return make(409,
              "AlreadyExists",
              resource.qualified() + " " + inQuotes(name) + " already exists",
              resourceDetails(resource, name));
}

ApiError conflict(const GroupResource& resource, std::string_view name, std::string_view why) {
  return make(409,
              "Conflict",
              "Operation cannot be fulfilled on " + resource.qualified() + " " + inQuotes(name) +
                  ": " + std::string(why),
              resourceDetails(resource, name));
}

ApiError invalid(std::string_view qualified_kind,
                 std::string_view name,
                 std::vector<StatusCause> causes) {
  std::string joined;
  nlohmann::json cause_list = nlohmann::json::array();
  for (const StatusCause& cause : causes) {
    if (!joined.empty()) {
      joined += ", ";
    }
    joined += cause.field + ": " + cause.message;
    cause_list.push_back(
        {{"reason", cause.reason}, {"message", cause.message}, {"field", cause.field}});
  }
  std::string message = std::string(qualified_kind) + " " + inQuotes(name) +
                        " is invalid: " + (causes.size() > 1 ? "[" + joined + "]" : joined);
  nlohmann::json details = {{"name", std::string(name)}, {"causes", std::move(cause_list)}};
  // details.kind is the kind without its group, details.group the group.
  std::string_view kind = qualified_kind;
  auto dot = kind.find('.');
  details["kind"] = std::string(kind.substr(0, dot));
  if (dot != std::string_view::npos) {
    details["group"] = std::string(kind.substr(dot + 1));
  }
  return make(422, "Invalid", std::move(message), std::move(details));
}

ApiError badRequest(std::string message) {
  return make(400, "BadRequest", std::move(message));
}

ApiError expired(std::string message) {
  return make(410, "Expired", std::move(message));
}

ApiError forbidden(const GroupResource& resource, std::string_view name, std::string_view why) {
  // A request that names no object (list, watch, create): `pods is forbidden: ...`.
  const std::string subject =
      name.empty() ? resource.qualified() : resource.qualified() + " " + inQuotes(name);
  return make(403,
              "Forbidden",
              subject + " is forbidden: " + std::string(why),
              resourceDetails(resource, name));
}

ApiError unauthorized() {
  return make(401, "Unauthorized", "Unauthorized");
}

ApiError methodNotSupported(const GroupResource& resource, std::string_view action) {
  return make(405,
              "MethodNotAllowed",
              std::string(action) + " is not supported on resources of kind " +
                  inQuotes(resource.qualified()),
              {{"kind", resource.resource}, {"group", resource.group}});
}

ApiError unsupportedMediaType(std::string_view content_type, std::string_view accepted) {
  std::string message =
      "the body of the request was in an unknown format - accepted media types "
      "include: " +
      std::string(accepted);
  if (!content_type.empty()) {
    message += " (got " + std::string(content_type) + ")";
  }
  return make(415, "UnsupportedMediaType", std::move(message));
}

ApiError notAcceptable(std::string message) {
  return make(406, "NotAcceptable", std::move(message));
}

ApiError tooLargeResourceVersion(int64_t requested, int64_t current) {
  ApiError error = make(
      504,
      "Timeout",
      "Too large resource version: " + std::to_string(requested) +
          ", current: " + std::to_string(current),
      {{"causes",
        {{{"reason", "ResourceVersionTooLarge"}, {"message", "Too large resource version"}}}}});
  error.retry_after = std::chrono::seconds(1);
  return error;
}

ApiError resourceNotFound() {
  return make(404, "NotFound", "the server could not find the requested resource");
}

ApiError internalError(std::string message) {
  return make(500,
              "InternalError",
              "Internal error occurred: " + message,
              {{"causes", {{{"message", message}}}}});
}

ApiError statusFor(int code, std::string message, std::chrono::seconds retry_after) {
  std::string reason;
  switch (code) {
    case 400:
      reason = "BadRequest";
      break;
    case 401:
      reason = "Unauthorized";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "NotFound";
      break;
    case 405:
      reason = "MethodNotAllowed";
      break;
    case 409:
      reason = "Conflict";
      break;
    case 410:
      reason = "Expired";
      break;
    case 422:
      reason = "Invalid";
      break;
    case 429:
      reason = "TooManyRequests";
      break;
    case 500:
      reason = "InternalError";
      break;
    case 503:
      reason = "ServiceUnavailable";
      break;
    case 504:
      reason = "Timeout";
      break;
    default:
      reason = code >= 500 ? "InternalError" : "BadRequest";
  }
  if (message.empty()) {
    message = "injected fault (" + std::to_string(code) + ")";
  }
  ApiError error = make(code, std::move(reason), std::move(message));
  error.retry_after = retry_after;
  return error;
}

std::string dumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kprof::testing
