// The metadata fields controllers read from any Kubernetes object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controllers/policy/label_selector.hpp"
#include "controllers/policy/rfc3339.hpp"

namespace kprof::controllers {

struct ObjectMeta {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  WallTime creation_timestamp{};
  std::optional<WallTime> deletion_timestamp;
  Labels labels;
  Labels annotations;

  bool operator==(const ObjectMeta&) const = default;
};

// Reads `metadata` of an object. Fails only when the object has no name, since nothing can address
// it; malformed optional fields (a bad timestamp, a non-string label) are skipped.
Result<ObjectMeta> readObjectMeta(const nlohmann::json& object);

}  // namespace kprof::controllers
