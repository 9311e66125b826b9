#include "controllers/policy/object_meta.hpp"

namespace kprof::controllers {
namespace {

std::string stringField(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<WallTime> timeField(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return std::nullopt;
  }
  auto time = parseRfc3339(it->get<std::string>());
  return time ? std::optional<WallTime>(*time) : std::nullopt;
}

Labels stringMapField(const nlohmann::json& object, const char* key) {
  Labels entries;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_object()) {
    return entries;
  }
  for (const auto& [name, value] : it->items()) {
    if (value.is_string()) {
      entries.emplace(name, value.get<std::string>());
    }
  }
  return entries;
}

}  // namespace

Result<ObjectMeta> readObjectMeta(const nlohmann::json& object) {
  const auto it = object.find("metadata");
  if (!object.is_object() || it == object.end() || !it->is_object()) {
    return fail(ErrorCode::InvalidArgument, "metadata: required");
  }
  const nlohmann::json& metadata = *it;
  ObjectMeta meta;
  meta.name = stringField(metadata, "name");
  if (meta.name.empty()) {
    return fail(ErrorCode::InvalidArgument, "metadata.name: required");
  }
  meta.namespace_name = stringField(metadata, "namespace");
  meta.uid = stringField(metadata, "uid");
  meta.resource_version = stringField(metadata, "resourceVersion");
  const auto generation = metadata.find("generation");
  if (generation != metadata.end() && generation->is_number_integer()) {
    meta.generation = generation->get<int64_t>();
  }
  meta.creation_timestamp = timeField(metadata, "creationTimestamp").value_or(WallTime{});
  meta.deletion_timestamp = timeField(metadata, "deletionTimestamp");
  meta.labels = stringMapField(metadata, "labels");
  meta.annotations = stringMapField(metadata, "annotations");
  return meta;
}

}  // namespace kprof::controllers
