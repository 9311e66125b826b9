// How the fake API server calls mutating admission webhooks on pod creation, as a real API server
// does: every MutatingWebhookConfiguration it stores whose rules cover pods/CREATE and whose
// namespace and object selectors match gets an AdmissionReview v1 over HTTPS (trusting only its
// caBundle), and the JSONPatch it returns is applied. failurePolicy decides what an unreachable or
// broken webhook means: Ignore creates the pod as it was, Fail (the v1 default) refuses it.
// clientConfig.url is dialled as given; a clientConfig.service reference is dialled at the address
// the test registered for that Service, verifying the certificate for the name a real API server
// uses (<service>.<namespace>.svc). reinvocationPolicy is not honoured.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_apiserver/api_error.hpp"

namespace kprof::testing {

struct AdmissionCall {
  std::string webhook;  // webhooks[].name
  int status = 0;       // HTTP status, 0 when the call failed before an answer
  bool ignored_failure = false;
  std::string error;    // why the call failed, when it did
  std::vector<std::string> warnings;
};

struct AdmissionOutcome {
  nlohmann::json object;
  std::vector<AdmissionCall> calls;
};

// "127.0.0.1:9443" for a Service's namespace, name and port; nullopt when unknown.
using ServiceResolver = std::function<std::optional<std::string>(
    const std::string& ns, const std::string& name, int port)>;

// `configurations`: the stored MutatingWebhookConfiguration objects; `namespace_labels`: the
// labels of the pod's namespace. Fails with the error the API server would answer when a webhook
// with failurePolicy Fail cannot be used, or a webhook refuses the pod.
ApiResult<AdmissionOutcome> callMutatingWebhooks(const std::vector<nlohmann::json>& configurations,
                                                 const nlohmann::json& namespace_labels,
                                                 const std::string& namespace_name,
                                                 nlohmann::json pod,
                                                 const ServiceResolver& resolve_service);

}  // namespace kprof::testing
