#include "operator/kube/status_error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

namespace kprof::kube {

namespace {

// A Retry-After longer than this is taken as this: the caller still backs off, but a bogus
// header cannot park a controller for days.
constexpr std::chrono::seconds kMaxRetryAfter = std::chrono::hours(1);
// How much of a non-Status error body goes into the message.
constexpr std::size_t kBodySnippetBytes = 200;

ErrorCode codeForReason(std::string_view reason) {
  if (reason == "NotFound") {
    return ErrorCode::NotFound;
  }
  if (reason == "AlreadyExists") {
    return ErrorCode::AlreadyExists;
  }
  if (reason == "Conflict") {
    return ErrorCode::Conflict;
  }
  if (reason == "Gone" || reason == "Expired") {
    return ErrorCode::Expired;
  }
  if (reason == "Unauthorized") {
    return ErrorCode::Unauthenticated;
  }
  if (reason == "Forbidden") {
    return ErrorCode::PermissionDenied;
  }
  if (reason == "Invalid" || reason == "BadRequest" || reason == "MethodNotAllowed" ||
      reason == "NotAcceptable" || reason == "UnsupportedMediaType") {
    return ErrorCode::InvalidArgument;
  }
  if (reason == "TooManyRequests" || reason == "RequestEntityTooLarge") {
    return ErrorCode::ResourceExhausted;
  }
  if (reason == "Timeout") {
    return ErrorCode::Timeout;
  }
  if (reason == "ServerTimeout" || reason == "InternalError" || reason == "ServiceUnavailable") {
    return ErrorCode::Unavailable;
  }
  return ErrorCode::Internal;
}

// Seconds as a non-negative integer; HTTP-date values (which the API server never sends) are
// not understood and give nullopt.
std::optional<std::chrono::seconds> parseSeconds(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  long long seconds = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return std::nullopt;
  }
  return std::min(std::chrono::seconds(seconds), kMaxRetryAfter);
}

std::optional<std::chrono::seconds> retryAfterSecondsIn(const nlohmann::json& status) {
  if (!status.is_object()) {
    return std::nullopt;
  }
  auto details = status.find("details");
  if (details == status.end() || !details->is_object()) {
    return std::nullopt;
  }
  auto seconds = details->find("retryAfterSeconds");
  if (seconds == details->end() || !seconds->is_number_integer() || seconds->get<long long>() < 0) {
    return std::nullopt;
  }
  return std::min(std::chrono::seconds(seconds->get<long long>()), kMaxRetryAfter);
}

std::string stringField(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::string httpStatusText(int http_status) {
  std::string text = "HTTP " + std::to_string(http_status);
  std::string_view phrase = http::reasonPhrase(http_status);
  if (!phrase.empty()) {
    text += " ";
    text += phrase;
  }
  return text;
}

// The start of a body that is not a Status, on one line.
std::string snippet(std::string_view body) {
  std::string out(body.substr(0, kBodySnippetBytes));
  for (char& c : out) {
    if (std::iscntrl(static_cast<unsigned char>(c))) {
      c = ' ';
    }
  }
  if (body.size() > kBodySnippetBytes) {
    out += "...";
  }
  return out;
}

bool looksLikeStatus(const nlohmann::json& body) {
  return body.is_object() && (stringField(body, "kind") == "Status" || body.contains("reason") ||
                              body.contains("message"));
}

Error fromStatusObject(int http_status, const nlohmann::json& status) {
  std::string reason = stringField(status, "reason");
  std::string message = stringField(status, "message");
  std::string text;
  if (!message.empty()) {
    text = message;
    if (!reason.empty()) {
      text += " (" + reason + ")";
    }
  } else if (!reason.empty()) {
    text = reason;
    if (http_status != 0) {
      text += " (" + httpStatusText(http_status) + ")";
    }
  } else {
    text = http_status != 0 ? httpStatusText(http_status) : "server reported a failure";
  }
  Error error = makeError(errorCodeFor(http_status, reason), std::move(text));
  if (auto seconds = retryAfterSecondsIn(status)) {
    error.retry_after = *seconds;
  }
  return error;
}

}  // namespace

ErrorCode errorCodeFor(int http_status, std::string_view reason) {
  switch (http_status) {
    case 401:
      return ErrorCode::Unauthenticated;
    case 403:
      return ErrorCode::PermissionDenied;
    case 404:
      return ErrorCode::NotFound;
    case 408:
      return ErrorCode::Timeout;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::AlreadyExists : ErrorCode::Conflict;
    case 410:
      return ErrorCode::Expired;
    case 413:
    case 429:
      return ErrorCode::ResourceExhausted;
    case 504:
      return ErrorCode::Timeout;
    default:
      break;
  }
  if (http_status >= 400 && http_status < 500) {
    return ErrorCode::InvalidArgument;
  }
  if (http_status >= 500 && http_status < 600) {
    return ErrorCode::Unavailable;
  }
  if (http_status == 0) {
    return codeForReason(reason);
  }
  return ErrorCode::Internal;
}

Error decodeErrorResponse(int http_status, const http::Headers& headers, std::string_view body) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  Error error;
  if (looksLikeStatus(parsed)) {
    error = fromStatusObject(http_status, parsed);
  } else {
    std::string text = httpStatusText(http_status);
    if (!body.empty()) {
      text += ": " + snippet(body);
    }
    error = makeError(errorCodeFor(http_status, ""), std::move(text));
  }
  if (auto header = headers.get("Retry-After")) {
    if (auto seconds = parseSeconds(*header)) {
      error.retry_after = *seconds;
    }
  }
  return error;
}

Error errorFromStatus(const nlohmann::json& status) {
  if (!status.is_object()) {
    return makeError(ErrorCode::Internal, "server reported a failure: " + snippet(status.dump()));
  }
  int code = 0;
  auto found = status.find("code");
  if (found != status.end() && found->is_number_integer()) {
    code = found->get<int>();
  }
  return fromStatusObject(code, status);
}

}  // namespace kprof::kube
