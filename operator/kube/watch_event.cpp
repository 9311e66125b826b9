#include "operator/kube/watch_event.hpp"

#include <string>

#include "operator/kube/status_error.hpp"

namespace kprof::kube {

namespace {

// How much of a bad line goes into the error message.
constexpr std::size_t kLineSnippetBytes = 120;

std::string snippet(std::string_view line) {
  std::string out(line.substr(0, kLineSnippetBytes));
  if (line.size() > kLineSnippetBytes) {
    out += "...";
  }
  return out;
}

}  // namespace

std::string_view watchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
    case WatchEventType::Bookmark:
      return "BOOKMARK";
  }
  return "UNKNOWN";
}

Result<WatchEvent> parseWatchLine(std::string_view line) {
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail(ErrorCode::Parse, "watch event is not a JSON object: " + snippet(line));
  }
  auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) {
    return fail(ErrorCode::Parse, "watch event without a type: " + snippet(line));
  }
  auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    return fail(ErrorCode::Parse, "watch event without an object: " + snippet(line));
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "ERROR") {
    return errorFromStatus(*object).wrap("watch");
  }
  WatchEvent event;
  if (name == "ADDED") {
    event.type = WatchEventType::Added;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::Modified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::Deleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::Bookmark;
  } else {
    return fail(ErrorCode::Parse, "watch event of unknown type \"" + name + "\"");
  }
  event.object = std::move(*object);
  return event;
}

}  // namespace kprof::kube
