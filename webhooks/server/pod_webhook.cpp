#include "webhooks/server/pod_webhook.hpp"

#include <chrono>
#include <memory>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "common/log/log.hpp"

namespace kprof::webhooks {
namespace {

struct WebhookMetrics {
  explicit WebhookMetrics(prometheus::Registry& registry)
      : admissions(prometheus::BuildCounter()
                       .Name("kprof_webhook_admissions_total")
                       .Help("Pod admissions answered, by result (mutated, unchanged, failed_open) "
                             "and mutation outcome")
                       .Register(registry)),
        durations(prometheus::BuildHistogram()
                      .Name("kprof_webhook_admission_duration_seconds")
                      .Help("Time to answer one AdmissionReview, body read excluded")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{
                                   0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05})) {}

  prometheus::Family<prometheus::Counter>& admissions;
  prometheus::Histogram& durations;
};

}  // namespace

void registerPodWebhook(http::Server& server,
                        AdmissionLookup& lookup,
                        InjectionConfig config,
                        prometheus::Registry& registry) {
  auto metrics = std::make_shared<WebhookMetrics>(registry);
  auto shared_config = std::make_shared<const InjectionConfig>(std::move(config));
  server.route("POST", std::string(kMutatePodsPath),
               [&lookup, metrics, shared_config](const http::Request& request) {
                 const auto started = std::chrono::steady_clock::now();
                 const AdmissionAnswer answer = admitPod(request.body, lookup, *shared_config);
                 metrics->durations.Observe(
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                         .count());
                 metrics->admissions
                     .Add({{"result", std::string(admissionResultName(answer.result))},
                           {"outcome", std::string(mutationOutcomeName(answer.outcome))}})
                     .Increment();
                 if (answer.result == AdmissionResult::FailedOpen) {
                   log::logger("webhook")->warn("pod admitted unchanged: {}", answer.reason);
                 }
                 return http::Response::json(200, answer.body);
               });
}

}  // namespace kprof::webhooks
