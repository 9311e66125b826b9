// Controller: a work queue of object keys and the workers that reconcile them, with
// controller-runtime's error policy:
//   - success → forget the key's failures; a requested requeue-after queues it again then;
//   - an error → the key comes back after the rate limiter's delay (5 ms doubling to 1000 s per
//     key, 10 qps overall), or after the server's Retry-After when it gave one;
// and the metrics a user watches: reconciles by result, errors by code name, durations, depth.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "operator/runtime/work_queue.hpp"

namespace kprof::manager {

// What a reconcile asks for after success: nothing (wait for the next change) or another look
// after a delay.
using ReconcileFn =
    std::function<Result<std::optional<std::chrono::seconds>>(const std::string& key)>;

struct ControllerMetrics {
  explicit ControllerMetrics(prometheus::Registry& registry);
  prometheus::Family<prometheus::Counter>& reconciles;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Family<prometheus::Gauge>& depth;
};

class Controller {
 public:
  Controller(std::string name, Clock& clock, ReconcileFn reconcile, int workers,
             ControllerMetrics* metrics);
  ~Controller();  // stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void enqueue(const std::string& key) { queue_.add(key); }
  void start();
  // Shuts the queue down and joins the workers once their current reconcile returns.
  void stop();
  size_t depth() const { return queue_.depth(); }

 private:
  void work();

  std::string name_;
  Clock& clock_;
  ReconcileFn reconcile_;
  int workers_;
  runtime::WorkQueue queue_;
  std::vector<std::jthread> threads_;
  prometheus::Counter* succeeded_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Family<prometheus::Counter>* errors_ = nullptr;
};

}  // namespace kprof::manager
