#include "webhooks/alerts/alert_payload.hpp"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

namespace kprof::webhooks {
namespace {

using nlohmann::json;

Error fieldError(const std::string& field, std::string_view problem) {
  return makeError(ErrorCode::InvalidArgument, field + ": " + std::string(problem));
}

Result<std::string> stringField(const json& object, const std::string& prefix, const char* key,
                                bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return fieldError(prefix + key, "required");
    return std::string();
  }
  if (!it->is_string()) return fieldError(prefix + key, "must be a string");
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> stringMap(const json& object, const std::string& prefix,
                                                     const char* key) {
  std::map<std::string, std::string> values;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return values;
  if (!it->is_object()) return fieldError(prefix + key, "must be an object of strings");
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) return fieldError(prefix + key + "." + name, "must be a string");
    values[name] = value.get<std::string>();
  }
  return values;
}

Result<Alert> readAlert(const json& value, const std::string& prefix) {
  if (!value.is_object()) return fieldError(prefix.substr(0, prefix.size() - 1), "must be an object");
  Alert alert;
  auto status = stringField(value, prefix, "status", true);
  if (!status) return status.error();
  if (*status != "firing" && *status != "resolved") {
    return fieldError(prefix + "status", "must be firing or resolved");
  }
  alert.status = *status;
  auto labels = stringMap(value, prefix, "labels");
  if (!labels) return labels.error();
  alert.labels = std::move(*labels);
  auto annotations = stringMap(value, prefix, "annotations");
  if (!annotations) return annotations.error();
  alert.annotations = std::move(*annotations);
  for (auto [key, target, required] :
       {std::tuple{"startsAt", &alert.starts_at, true}, std::tuple{"endsAt", &alert.ends_at, false},
        std::tuple{"fingerprint", &alert.fingerprint, true},
        std::tuple{"generatorURL", &alert.generator_url, false}}) {
    auto text = stringField(value, prefix, key, required);
    if (!text) return text.error();
    *target = std::move(*text);
  }
  return alert;
}

}  // namespace

Result<AlertPayload> readAlertPayload(std::string_view body) {
  const json document = json::parse(body, nullptr, false);
  if (document.is_discarded()) return makeError(ErrorCode::InvalidArgument, "body is not JSON");
  if (!document.is_object()) return makeError(ErrorCode::InvalidArgument, "body must be a JSON object");
  auto version = stringField(document, "", "version", true);
  if (!version) return version.error();
  if (*version != "4") return fieldError("version", "must be \"4\" (Alertmanager's webhook format)");
  AlertPayload payload;
  for (auto [key, target] : {std::pair{"receiver", &payload.receiver}, std::pair{"status", &payload.status},
                             std::pair{"groupKey", &payload.group_key},
                             std::pair{"externalURL", &payload.external_url}}) {
    auto text = stringField(document, "", key, false);
    if (!text) return text.error();
    *target = std::move(*text);
  }
  if (auto truncated = document.find("truncatedAlerts"); truncated != document.end()) {
    if (!truncated->is_number_integer() || truncated->get<long long>() < 0) {
      return fieldError("truncatedAlerts", "must be a non-negative integer");
    }
    payload.truncated_alerts = static_cast<int>(std::min<long long>(truncated->get<long long>(), 1 << 30));
  }
  auto group_labels = stringMap(document, "", "groupLabels");
  if (!group_labels) return group_labels.error();
  payload.group_labels = std::move(*group_labels);
  auto common_labels = stringMap(document, "", "commonLabels");
  if (!common_labels) return common_labels.error();
  payload.common_labels = std::move(*common_labels);
  auto alerts = document.find("alerts");
  if (alerts == document.end() || !alerts->is_array()) return fieldError("alerts", "must be an array");
  for (std::size_t i = 0; i < alerts->size(); ++i) {
    auto alert = readAlert((*alerts)[i], "alerts[" + std::to_string(i) + "].");
    if (!alert) return alert.error();
    payload.alerts.push_back(std::move(*alert));
  }
  return payload;
}

}  // namespace kprof::webhooks
