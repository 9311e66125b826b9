#include "tests/fake_apiserver/admission_webhooks.hpp"

#include <atomic>
#include <chrono>

#include "common/core/base64.hpp"
#include "common/http/client.hpp"
#include "operator/kube/selectors.hpp"
#include "tests/fake_apiserver/patch.hpp"

namespace kprof::testing {
namespace {

using nlohmann::json;

bool listHas(const json& list, std::string_view value) {
  if (!list.is_array()) return false;
  for (const auto& item : list) {
    if (item == "*" || item == value) return true;
  }
  return false;
}

bool coversPodCreate(const json& webhook) {
  for (const auto& rule : webhook.value("rules", json::array())) {
    if (listHas(rule.value("operations", json()), "CREATE") &&
        listHas(rule.value("apiGroups", json()), "") &&
        listHas(rule.value("apiVersions", json()), "v1") &&
        listHas(rule.value("resources", json()), "pods")) {
      return true;
    }
  }
  return false;
}

// A metav1.LabelSelector as the text form the selector parser reads.
std::string selectorText(const json& selector) {
  std::string text;
  auto append = [&text](const std::string& requirement) {
    text += (text.empty() ? "" : ",") + requirement;
  };
  if (!selector.is_object()) return text;
  const json match_labels = selector.value("matchLabels", json::object());
  for (const auto& [key, value] : match_labels.items()) {
    append(key + "=" + value.get<std::string>());
  }
  for (const auto& expression : selector.value("matchExpressions", json::array())) {
    const std::string key = expression.value("key", "");
    const std::string op = expression.value("operator", "");
    std::string values;
    for (const auto& value : expression.value("values", json::array())) {
      values += (values.empty() ? "" : ",") + value.get<std::string>();
    }
    if (op == "In") append(key + " in (" + values + ")");
    if (op == "NotIn") append(key + " notin (" + values + ")");
    if (op == "Exists") append(key);
    if (op == "DoesNotExist") append("!" + key);
  }
  return text;
}

bool selects(const json& webhook, std::string_view field, const json& labels) {
  auto selector = kube::LabelSelector::parse(selectorText(webhook.value(field, json())));
  return selector && selector->matches(labels.is_object() ? labels : json());
}

std::string nextUid() {
  static std::atomic<int> counter{0};
  return "admission-" + std::to_string(++counter);
}

// One webhook call: the patched object, or why the webhook could not be used.
Result<json> callOne(const json& webhook,
                     const std::string& namespace_name,
                     const json& pod,
                     const ServiceResolver& resolve_service,
                     AdmissionCall& call) {
  const json client_config = webhook.value("clientConfig", json::object());
  http::ClientOptions options;
  std::string path = "/";
  if (client_config.contains("service")) {
    const json service = client_config["service"];
    const std::string name = service.value("name", "");
    const std::string ns = service.value("namespace", "");
    const int port = service.value("port", 443);
    auto address = resolve_service ? resolve_service(ns, name, port) : std::nullopt;
    if (!address) {
      return makeError(ErrorCode::Unavailable, "no endpoint for service " + ns + "/" + name);
    }
    options.base_url = "https://" + *address;
    options.tls.server_name = name + "." + ns + ".svc";
    path = service.value("path", "/");
  } else {
    const std::string url = client_config.value("url", "");
    if (url.empty()) return makeError(ErrorCode::InvalidArgument, "clientConfig has no url or service");
    const auto path_start = url.find('/', url.find("://") + 3);
    options.base_url = url.substr(0, path_start);
    if (path_start != std::string::npos) path = url.substr(path_start);
  }
  if (client_config.contains("caBundle")) {
    auto ca = base64Decode(client_config["caBundle"].get<std::string>());
    if (!ca) return makeError(ErrorCode::InvalidArgument, "caBundle is not base64");
    options.tls.ca_pem = *ca;
  }
  auto client = http::Client::create(options);
  if (!client) return client.error();

  const std::string uid = nextUid();
  const json review = {
      {"apiVersion", "admission.k8s.io/v1"},
      {"kind", "AdmissionReview"},
      {"request",
       {{"uid", uid},
        {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
        {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
        {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
        {"requestResource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
        {"namespace", namespace_name},
        {"operation", "CREATE"},
        {"userInfo", {{"username", "kubernetes-admin"}}},
        {"object", pod},
        {"oldObject", nullptr},
        {"dryRun", false},
        {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
  http::Request request;
  request.method = "POST";
  request.path = path;
  request.headers.set("Content-Type", "application/json");
  request.body = review.dump();
  const auto timeout = std::chrono::seconds(webhook.value("timeoutSeconds", 10));
  auto response = (*client)->send(request, timeout);
  if (!response) return response.error();
  call.status = response->status;
  if (response->status != 200) {
    return makeError(ErrorCode::Unavailable, "webhook answered HTTP " + std::to_string(response->status));
  }
  const json answer = json::parse(response->body, nullptr, false);
  if (!answer.is_object() || answer.value("kind", "") != "AdmissionReview" ||
      !answer.contains("response") || !answer["response"].is_object()) {
    return makeError(ErrorCode::Parse, "webhook answer is not an AdmissionReview");
  }
  const json& result = answer["response"];
  if (result.value("uid", "") != uid) {
    return makeError(ErrorCode::Parse, "webhook answered for uid " + result.value("uid", "") +
                                           ", expected " + uid);
  }
  for (const auto& warning : result.value("warnings", json::array())) {
    if (warning.is_string()) call.warnings.push_back(warning.get<std::string>());
  }
  if (!result.value("allowed", false)) {
    return makeError(ErrorCode::PermissionDenied,
                     "admission webhook \"" + call.webhook + "\" denied the request: " +
                         result.value("/status/message"_json_pointer, std::string()));
  }
  if (!result.contains("patch")) return pod;
  if (result.value("patchType", "") != "JSONPatch") {
    return makeError(ErrorCode::Parse, "patchType must be JSONPatch");
  }
  auto patch_text = base64Decode(result["patch"].get<std::string>());
  if (!patch_text) return makeError(ErrorCode::Parse, "patch is not base64");
  const json patch = json::parse(*patch_text, nullptr, false);
  if (patch.is_discarded()) return makeError(ErrorCode::Parse, "patch is not JSON");
  auto patched = applyJsonPatch(pod, patch);
  if (!patched) return makeError(ErrorCode::Parse, "patch does not apply: " + patched.error().message);
  return std::move(*patched);
}

}  // namespace

ApiResult<AdmissionOutcome> callMutatingWebhooks(const std::vector<json>& configurations,
                                                 const json& namespace_labels,
                                                 const std::string& namespace_name,
                                                 json pod,
                                                 const ServiceResolver& resolve_service) {
  AdmissionOutcome outcome;
  for (const auto& configuration : configurations) {
    for (const auto& webhook : configuration.value("webhooks", json::array())) {
      if (!webhook.is_object() || !coversPodCreate(webhook) ||
          !selects(webhook, "namespaceSelector", namespace_labels) ||
          !selects(webhook, "objectSelector", pod.value("/metadata/labels"_json_pointer, json()))) {
        continue;
      }
      AdmissionCall call;
      call.webhook = webhook.value("name", "");
      auto patched = callOne(webhook, namespace_name, pod, resolve_service, call);
      if (patched) {
        pod = std::move(*patched);
      } else {
        call.error = patched.error().message;
        if (patched.error().code == ErrorCode::PermissionDenied) {
          ApiError denied = badRequest(call.error);
          denied.code = 403;
          denied.reason = "Forbidden";
          return denied;
        }
        if (webhook.value("failurePolicy", "Fail") != "Ignore") {
          return internalError("failed calling webhook \"" + call.webhook + "\": " + call.error);
        }
        call.ignored_failure = true;
      }
      outcome.calls.push_back(std::move(call));
    }
  }
  outcome.object = std::move(pod);
  return outcome;
}

}  // namespace kprof::testing
