#include "controllers/policy/pod_info.hpp"

#include "controllers/policy/object_meta.hpp"

namespace kprof::controllers {

Result<PodInfo> readPodInfo(const nlohmann::json& pod) {
  auto meta = readObjectMeta(pod);
  if (!meta) {
    return meta.error();
  }
  PodInfo info;
  info.namespace_name = std::move(meta->namespace_name);
  info.name = std::move(meta->name);
  info.uid = std::move(meta->uid);
  info.resource_version = std::move(meta->resource_version);
  info.labels = std::move(meta->labels);
  info.annotations = std::move(meta->annotations);
  info.creation_timestamp = meta->creation_timestamp;
  const auto injected = info.annotations.find(std::string(kInjectedAnnotation));
  info.injected = injected != info.annotations.end() && injected->second != "false";

  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& spec =
      pod.contains("spec") && pod["spec"].is_object() ? pod["spec"] : empty;
  const nlohmann::json& status =
      pod.contains("status") && pod["status"].is_object() ? pod["status"] : empty;
  if (spec.contains("nodeName") && spec["nodeName"].is_string()) {
    info.node_name = spec["nodeName"].get<std::string>();
  }
  if (spec.contains("containers") && spec["containers"].is_array()) {
    for (const nlohmann::json& container : spec["containers"]) {
      if (!container.is_object()) {
        continue;
      }
      ContainerInfo entry;
      if (container.contains("name") && container["name"].is_string()) {
        entry.name = container["name"].get<std::string>();
      }
      if (container.contains("image") && container["image"].is_string()) {
        entry.image = container["image"].get<std::string>();
      }
      info.containers.push_back(std::move(entry));
    }
  }
  if (status.contains("phase") && status["phase"].is_string()) {
    info.phase = status["phase"].get<std::string>();
  }
  return info;
}

}  // namespace kprof::controllers
