// Reading one line of a watch stream: {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR",
// "object":{...}}. Pure; whatever the line holds, the answer is an event or an Error, never a
// crash.
#pragma once

#include <string_view>

#include "common/core/result.hpp"
#include "operator/kube/api.hpp"

namespace kprof::kube {

// An ADDED, MODIFIED, DELETED or BOOKMARK line gives its event. An ERROR line gives the error
// its metav1.Status describes (a 410 is ErrorCode::Expired: the caller must re-list). A line
// that is not JSON, has an unknown type or no object fails with ErrorCode::Parse.
Result<WatchEvent> parseWatchLine(std::string_view line);

// "ADDED", "MODIFIED", "DELETED", "BOOKMARK".
std::string_view watchEventTypeName(WatchEventType type);

}  // namespace kprof::kube
