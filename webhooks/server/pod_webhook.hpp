// POST /mutate-pods on an http::Server: the HTTP glue around admitPod, with the counters the
// fail-open promise needs (an admission that failed open is counted and logged, never refused).
#pragma once

#include <prometheus/registry.h>

#include "common/http/server.hpp"
#include "webhooks/admission/pod_admission.hpp"

namespace kprof::webhooks {

inline constexpr std::string_view kMutatePodsPath = "/mutate-pods";
// AdmissionReviews carry the whole pod; Kubernetes caps objects at about 1.5 MiB.
inline constexpr std::size_t kMaxAdmissionReviewBytes = 3 << 20;

// `lookup` and `metrics` must outlive the server. `config` is copied.
void registerPodWebhook(http::Server& server,
                        AdmissionLookup& lookup,
                        InjectionConfig config,
                        prometheus::Registry& metrics);

}  // namespace kprof::webhooks
