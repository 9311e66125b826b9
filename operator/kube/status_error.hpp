// Turns an API server's error answer into a kprof::Error: the HTTP status (or a metav1.Status
// inside a watch stream) picks the ErrorCode as api.hpp lists it, and the server's own message
// and reason are kept, e.g. `pods "x" not found (NotFound)`. Pure functions, no I/O.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "common/http/message.hpp"

namespace kprof::kube {

// The ErrorCode for an HTTP status and a metav1.Status reason ("" when unknown):
//   400, 405, 406, 415, 422 and other 4xx -> InvalidArgument; 401 -> Unauthenticated;
//   403 -> PermissionDenied; 404 -> NotFound; 408 -> Timeout; 409 -> AlreadyExists when the
//   reason is AlreadyExists, else Conflict; 410 -> Expired; 413, 429 -> ResourceExhausted;
//   504 -> Timeout; other 5xx -> Unavailable; anything else -> Internal.
// With no usable status (0) the reason alone decides.
ErrorCode errorCodeFor(int http_status, std::string_view reason);

// Decodes an error response. The body may be a metav1.Status or anything else (a proxy's HTML
// page, nothing at all); either way the result names what the server said. retry_after comes
// from a Retry-After header in seconds, else from the Status's details.retryAfterSeconds.
Error decodeErrorResponse(int http_status, const http::Headers& headers, std::string_view body);

// Decodes a metav1.Status object, as an ERROR event of a watch carries it. Its `code` field is
// the HTTP status; a Status without one is classified by its reason.
Error errorFromStatus(const nlohmann::json& status);

}  // namespace kprof::kube
