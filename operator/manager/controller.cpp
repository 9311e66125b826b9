#include "operator/manager/controller.hpp"

#include <utility>

#include "common/log/log.hpp"

namespace kprof::manager {

ControllerMetrics::ControllerMetrics(prometheus::Registry& registry)
    : reconciles(prometheus::BuildCounter()
                     .Name("kprof_reconciles_total")
                     .Help("Reconciles by controller and result (success, error)")
                     .Register(registry)),
      errors(prometheus::BuildCounter()
                 .Name("kprof_reconcile_errors_total")
                 .Help("Failed reconciles by controller and error (Conflict, Unavailable, ...)")
                 .Register(registry)),
      durations(prometheus::BuildHistogram()
                    .Name("kprof_reconcile_duration_seconds")
                    .Help("Time one reconcile took")
                    .Register(registry)),
      depth(prometheus::BuildGauge()
                .Name("kprof_workqueue_depth")
                .Help("Keys waiting in the controller's queue")
                .Register(registry)) {}

Controller::Controller(std::string name, Clock& clock, ReconcileFn reconcile, int workers,
                       ControllerMetrics* metrics)
    : name_(std::move(name)),
      clock_(clock),
      reconcile_(std::move(reconcile)),
      workers_(workers < 1 ? 1 : workers),
      queue_(clock) {
  if (metrics != nullptr) {
    succeeded_ = &metrics->reconciles.Add({{"controller", name_}, {"result", "success"}});
    failed_ = &metrics->reconciles.Add({{"controller", name_}, {"result", "error"}});
    duration_ = &metrics->durations.Add(
        {{"controller", name_}},
        prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
    depth_ = &metrics->depth.Add({{"controller", name_}});
    errors_ = &metrics->errors;
  }
}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  for (int i = 0; i < workers_; ++i) {
    threads_.emplace_back([this] { work(); });
  }
}

void Controller::stop() {
  queue_.shutDown();
  threads_.clear();  // joins
}

void Controller::work() {
  auto log = log::logger("controller");
  while (auto key = queue_.get()) {
    if (depth_ != nullptr) {
      depth_->Set(static_cast<double>(queue_.depth()));
    }
    const auto started = clock_.now();
    auto outcome = reconcile_(*key);
    if (duration_ != nullptr) {
      duration_->Observe(std::chrono::duration<double>(clock_.now() - started).count());
    }
    if (outcome) {
      if (succeeded_ != nullptr) {
        succeeded_->Increment();
      }
      queue_.forget(*key);
      if (*outcome) {
        queue_.addAfter(*key, **outcome);
      }
    } else {
      const Error& error = outcome.error();
      if (failed_ != nullptr) {
        failed_->Increment();
        errors_->Add({{"controller", name_}, {"error", std::string(errorCodeName(error.code))}})
            .Increment();
      }
      // Conflicts are routine under optimistic concurrency: re-read and retry, quietly.
      if (error.code == ErrorCode::Conflict) {
        log->debug("{} {}: {}; retrying", name_, *key, error.toString());
      } else {
        log->warn("{} {}: {}; retrying", name_, *key, error.toString());
      }
      if (error.retry_after.count() > 0) {
        queue_.addAfter(*key, error.retry_after);
      } else {
        queue_.addRateLimited(*key);
      }
    }
    queue_.done(*key);
  }
}

}  // namespace kprof::manager
