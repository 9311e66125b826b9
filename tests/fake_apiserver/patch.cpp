#include "tests/fake_apiserver/patch.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::testing {

namespace {

using nlohmann::json;

Error parseError(std::string message) {
  return Error{ErrorCode::Parse, std::move(message), {}};
}

Error applyError(std::string message) {
  return Error{ErrorCode::InvalidArgument, std::move(message), {}};
}

// ---- JSON patch (RFC 6902) ----

struct PointerParts {
  json::json_pointer parent;
  std::string last;  // unescaped
  bool root = false;
};

Result<PointerParts> splitPointer(const std::string& path) {
  try {
    json::json_pointer pointer(path);  // checks the leading '/' and the ~0/~1 escapes
    PointerParts parts;
    if (pointer.empty()) {
      parts.root = true;
      return parts;
    }
    parts.last = pointer.back();
    parts.parent = pointer.parent_pointer();
    return parts;
  } catch (const json::exception& e) {
    return applyError("invalid JSON pointer \"" + path + "\": " + e.what());
  }
}

json* resolve(json& doc, const json::json_pointer& pointer) {
  try {
    if (!doc.contains(pointer)) {
      return nullptr;
    }
    return &doc.at(pointer);
  } catch (const json::exception&) {
    return nullptr;
  }
}

// An array index token: "0", "12" (no leading zeros, no sign); nullopt otherwise.
std::optional<size_t> arrayIndex(const std::string& token) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) {
    return std::nullopt;
  }
  size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

Status addValue(json& doc, const std::string& path, json value) {
  auto parts = splitPointer(path);
  if (!parts) {
    return parts.error();
  }
  if (parts->root) {
    doc = std::move(value);
    return ok();
  }
  json* container = resolve(doc, parts->parent);
  if (container == nullptr) {
    return applyError("add operation does not apply: doc is missing path: \"" + path + "\"");
  }
  if (container->is_object()) {
    (*container)[parts->last] = std::move(value);
    return ok();
  }
  if (container->is_array()) {
    size_t index = container->size();
    if (parts->last != "-") {
      auto parsed = arrayIndex(parts->last);
      if (!parsed || *parsed > container->size()) {
        return applyError("add operation does not apply: index out of range in \"" + path + "\"");
      }
      index = *parsed;
    }
    container->insert(container->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
    return ok();
  }
  return applyError("add operation does not apply: \"" + path + "\" is not in a container");
}

Result<json> removeValue(json& doc, const std::string& path, std::string_view op) {
  auto parts = splitPointer(path);
  if (!parts) {
    return parts.error();
  }
  std::string missing =
      std::string(op) + " operation does not apply: doc is missing path: \"" + path + "\"";
  if (parts->root) {
    return applyError(std::string(op) + " operation does not apply to the whole document");
  }
  json* container = resolve(doc, parts->parent);
  if (container == nullptr) {
    return applyError(missing);
  }
  if (container->is_object()) {
    auto it = container->find(parts->last);
    if (it == container->end()) {
      return applyError(missing);
    }
    json removed = std::move(*it);
    container->erase(it);
    return removed;
  }
  if (container->is_array()) {
    auto index = arrayIndex(parts->last);
    if (!index || *index >= container->size()) {
      return applyError(missing);
    }
    json removed = std::move((*container)[*index]);
    container->erase(container->begin() + static_cast<std::ptrdiff_t>(*index));
    return removed;
  }
  return applyError(missing);
}

Result<json> valueAt(json& doc, const std::string& path, std::string_view op) {
  auto parts = splitPointer(path);
  if (!parts) {
    return parts.error();
  }
  json::json_pointer pointer(path);
  json* found = resolve(doc, pointer);
  if (found == nullptr) {
    return applyError(std::string(op) + " operation does not apply: doc is missing path: \"" +
                      path + "\"");
  }
  return *found;
}

// The operation's members, checked before anything is applied.
struct Operation {
  std::string op;
  std::string path;
  std::string from;
  const json* value = nullptr;
};

Result<std::vector<Operation>> decodeJsonPatch(const json& patch) {
  if (!patch.is_array()) {
    return parseError("a JSON patch must be a JSON array of operations");
  }
  std::vector<Operation> operations;
  for (const json& item : patch) {
    if (!item.is_object()) {
      return parseError("a JSON patch operation must be an object");
    }
    auto op = item.find("op");
    auto path = item.find("path");
    if (op == item.end() || !op->is_string()) {
      return parseError("a JSON patch operation needs a string \"op\"");
    }
    if (path == item.end() || !path->is_string()) {
      return parseError("a JSON patch operation needs a string \"path\"");
    }
    Operation operation{op->get<std::string>(), path->get<std::string>(), "", nullptr};
    static constexpr std::array<std::string_view, 6> kKnown = {
        "add", "remove", "replace", "move", "copy", "test"};
    if (std::find(kKnown.begin(), kKnown.end(), operation.op) == kKnown.end()) {
      return parseError("unknown JSON patch operation \"" + operation.op + "\"");
    }
    if (operation.op == "add" || operation.op == "replace" || operation.op == "test") {
      auto value = item.find("value");
      if (value == item.end()) {
        return parseError("JSON patch operation \"" + operation.op + "\" needs a \"value\"");
      }
      operation.value = &*value;
    }
    if (operation.op == "move" || operation.op == "copy") {
      auto from = item.find("from");
      if (from == item.end() || !from->is_string()) {
        return parseError("JSON patch operation \"" + operation.op + "\" needs a string \"from\"");
      }
      operation.from = from->get<std::string>();
    }
    operations.push_back(std::move(operation));
  }
  return operations;
}

// ---- strategic merge ----

bool isDirectiveKey(const std::string& key) {
  return !key.empty() && key.front() == '$';
}

// The merge key of a list field, from the field's name and the list it sits in: "" for lists
// that are replaced whole.
std::string mergeKeyFor(const std::vector<std::string>& path) {
  if (path.empty()) {
    return "";
  }
  const std::string& field = path.back();
  const std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "volumes" || field == "env" || field == "imagePullSecrets") {
    return "name";
  }
  if (field == "volumeMounts" || field == "volumeDevices") {
    return field == "volumeMounts" ? "mountPath" : "devicePath";
  }
  if (field == "ports") {
    // Container ports merge by containerPort; a Service's ports by port.
    return parent == "[]" ? "containerPort" : "port";
  }
  if (field == "conditions") {
    return "type";
  }
  if (field == "ownerReferences") {
    return "uid";
  }
  return "";
}

bool isSetList(const std::vector<std::string>& path) {
  return !path.empty() && path.back() == "finalizers" && path.size() >= 2 &&
         path[path.size() - 2] == "metadata";
}

// Removes directive keys from a value that is being inserted whole.
json withoutDirectives(const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!isDirectiveKey(it.key())) {
        out[it.key()] = withoutDirectives(it.value());
      }
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& item : value) {
      if (item.is_object() && item.contains("$patch")) {
        continue;
      }
      out.push_back(withoutDirectives(item));
    }
    return out;
  }
  return value;
}

struct MergeMode {
  bool directives = true;    // strategic merge; false for apply
  bool null_deletes = true;  // null in the patch removes the field
};

Result<json> mergeList(const json& original,
                       const json& patch,
                       std::vector<std::string>& path,
                       const MergeMode& mode);

// Merges `patch` into `original` (both objects). nullopt in the result means "$patch: delete".
Result<std::optional<json>> mergeObject(const json& original,
                                        const json& patch,
                                        std::vector<std::string>& path,
                                        const MergeMode& mode) {
  if (mode.directives) {
    auto directive = patch.find("$patch");
    if (directive != patch.end()) {
      if (!directive->is_string()) {
        return applyError("$patch must be a string");
      }
      const std::string name = directive->get<std::string>();
      if (name == "delete") {
        return std::optional<json>();
      }
      if (name == "replace") {
        return std::optional<json>(withoutDirectives(patch));
      }
      if (name != "merge") {
        return applyError("unknown patch directive \"$patch: " + name + "\"");
      }
    }
  }
  json result = original.is_object() ? original : json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    const json& value = it.value();
    if (isDirectiveKey(key)) {
      if (!mode.directives) {
        continue;
      }
      constexpr std::string_view kDeleteFrom = "$deleteFromPrimitiveList/";
      if (key.starts_with(kDeleteFrom) && value.is_array()) {
        std::string field = key.substr(kDeleteFrom.size());
        auto target = result.find(field);
        if (target != result.end() && target->is_array()) {
          json kept = json::array();
          for (const json& item : *target) {
            if (std::find(value.begin(), value.end(), item) == value.end()) {
              kept.push_back(item);
            }
          }
          *target = std::move(kept);
        }
      }
      // $setElementOrder/<field> and $retainKeys only order or prune what is merged anyway.
      continue;
    }
    if (value.is_null()) {
      if (mode.null_deletes) {
        result.erase(key);
      } else {
        result[key] = nullptr;
      }
      continue;
    }
    path.push_back(key);
    if (value.is_object()) {
      auto existing = result.find(key);
      json base = existing != result.end() && existing->is_object() ? *existing : json::object();
      auto merged = mergeObject(base, value, path, mode);
      if (!merged) {
        path.pop_back();
        return merged.error();
      }
      if (merged->has_value()) {
        result[key] = std::move(**merged);
      } else {
        result.erase(key);
      }
    } else if (value.is_array()) {
      auto existing = result.find(key);
      json base = existing != result.end() && existing->is_array() ? *existing : json::array();
      auto merged = mergeList(base, value, path, mode);
      if (!merged) {
        path.pop_back();
        return merged.error();
      }
      result[key] = std::move(*merged);
    } else {
      result[key] = value;
    }
    path.pop_back();
  }
  return std::optional<json>(std::move(result));
}

Result<json> mergeList(const json& original,
                       const json& patch,
                       std::vector<std::string>& path,
                       const MergeMode& mode) {
  if (mode.directives) {
    for (const json& item : patch) {
      if (item.is_object() && item.value("$patch", "") == "replace") {
        json replaced = json::array();
        for (const json& other : patch) {
          if (!(other.is_object() && other.contains("$patch"))) {
            replaced.push_back(withoutDirectives(other));
          }
        }
        return replaced;
      }
    }
  }
  if (isSetList(path)) {
    json result = original;
    for (const json& item : patch) {
      if (std::find(result.begin(), result.end(), item) == result.end()) {
        result.push_back(item);
      }
    }
    return result;
  }
  const std::string key = mergeKeyFor(path);
  if (key.empty()) {
    return mode.directives ? withoutDirectives(patch) : patch;
  }
  json result = original;
  path.push_back("[]");
  for (const json& item : patch) {
    if (!item.is_object()) {
      path.pop_back();
      return applyError("list " + path.back() + " expects objects with the merge key \"" + key +
                        "\"");
    }
    auto key_value = item.find(key);
    if (key_value == item.end()) {
      path.pop_back();
      return applyError("map: " + item.dump() + " does not contain declared merge key: " + key);
    }
    auto existing = std::find_if(result.begin(), result.end(), [&](const json& candidate) {
      return candidate.is_object() && candidate.contains(key) && candidate.at(key) == *key_value;
    });
    bool delete_item = mode.directives && item.value("$patch", "") == "delete";
    if (delete_item) {
      if (existing != result.end()) {
        result.erase(existing);
      }
      continue;
    }
    if (existing == result.end()) {
      result.push_back(mode.directives ? withoutDirectives(item) : item);
      continue;
    }
    auto merged = mergeObject(*existing, item, path, mode);
    if (!merged) {
      path.pop_back();
      return merged.error();
    }
    if (merged->has_value()) {
      *existing = std::move(**merged);
    } else {
      result.erase(existing);
    }
  }
  path.pop_back();
  return result;
}

}  // namespace

Result<json> applyMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) {
    return parseError("a merge patch must be a JSON object");
  }
  json result = target;
  result.merge_patch(patch);
  return result;
}

Result<json> applyJsonPatch(const json& target, const json& patch) {
  auto operations = decodeJsonPatch(patch);
  if (!operations) {
    return operations.error();
  }
  json doc = target;
  for (const Operation& operation : *operations) {
    Status applied = ok();
    if (operation.op == "add") {
      applied = addValue(doc, operation.path, *operation.value);
    } else if (operation.op == "remove") {
      auto removed = removeValue(doc, operation.path, "remove");
      if (!removed) {
        applied = removed.error();
      }
    } else if (operation.op == "replace") {
      auto removed = removeValue(doc, operation.path, "replace");
      applied = removed ? addValue(doc, operation.path, *operation.value) : removed.error();
    } else if (operation.op == "move") {
      if (operation.path != operation.from && operation.path.rfind(operation.from + "/", 0) == 0) {
        return applyError("move operation cannot move \"" + operation.from +
                          "\" into one of its children");
      }
      auto removed = removeValue(doc, operation.from, "move");
      applied = removed ? addValue(doc, operation.path, std::move(*removed)) : removed.error();
    } else if (operation.op == "copy") {
      auto value = valueAt(doc, operation.from, "copy");
      applied = value ? addValue(doc, operation.path, std::move(*value)) : value.error();
    } else if (operation.op == "test") {
      auto value = valueAt(doc, operation.path, "test");
      if (!value) {
        applied = value.error();
      } else if (*value != *operation.value) {
        applied = applyError("testing value " + operation.path + " failed: test failed");
      }
    }
    if (!applied) {
      return applied.error();
    }
  }
  return doc;
}

Result<json> applyStrategicMergePatch(const json& target, const json& patch) {
  if (!patch.is_object()) {
    return parseError("a strategic merge patch must be a JSON object");
  }
  std::vector<std::string> path;
  auto merged = mergeObject(target, patch, path, MergeMode{true, true});
  if (!merged) {
    return merged.error();
  }
  if (!merged->has_value()) {
    return applyError("$patch: delete of the whole object is not supported");
  }
  return std::move(**merged);
}

Result<json> applyConfiguration(const json& target, const json& configuration) {
  if (!configuration.is_object()) {
    return parseError("an apply configuration must be an object");
  }
  std::vector<std::string> path;
  auto merged = mergeObject(target, configuration, path, MergeMode{false, true});
  if (!merged) {
    return merged.error();
  }
  return std::move(**merged);
}

}  // namespace kprof::testing
