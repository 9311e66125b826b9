#include "webhooks/mutation/json_diff.hpp"

namespace kprof::webhooks {
namespace {

using nlohmann::json;

void diffInto(const json& before, const json& after, const std::string& path, json& operations) {
  if (before == after) return;
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : before.items()) {
      if (!after.contains(key)) {
        operations.push_back({{"op", "remove"}, {"path", path + "/" + escapePointerToken(key)}});
      }
    }
    for (const auto& [key, value] : after.items()) {
      const std::string child = path + "/" + escapePointerToken(key);
      auto old = before.find(key);
      if (old == before.end()) {
        operations.push_back({{"op", "add"}, {"path", child}, {"value", value}});
      } else {
        diffInto(*old, value, child, operations);
      }
    }
    return;
  }
  if (before.is_array() && after.is_array() && after.size() > before.size() &&
      std::equal(before.begin(), before.end(), after.begin())) {
    for (std::size_t i = before.size(); i < after.size(); ++i) {
      operations.push_back({{"op", "add"}, {"path", path + "/" + std::to_string(i)}, {"value", after[i]}});
    }
    return;
  }
  if (before.is_array() && after.is_array() && after.size() == before.size()) {
    // Same length: element-wise, so a changed container yields a patch about that container only.
    for (std::size_t i = 0; i < after.size(); ++i) {
      diffInto(before[i], after[i], path + "/" + std::to_string(i), operations);
    }
    return;
  }
  operations.push_back({{"op", "replace"}, {"path", path}, {"value", after}});
}

}  // namespace

std::string escapePointerToken(std::string_view token) {
  std::string escaped;
  escaped.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

json diffJson(const json& before, const json& after) {
  json operations = json::array();
  diffInto(before, after, "", operations);
  return operations;
}

}  // namespace kprof::webhooks
