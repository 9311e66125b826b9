#include "common/http/http_log.hpp"

#include <memory>

#include <spdlog/spdlog.h>

namespace kprof::http {

spdlog::logger& httpLog() {
  // Shares the default logger's sinks and level, under the component's own name. A logger
  // registered as "http" by the program's logging setup takes precedence.
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto registered = spdlog::get("http")) {
      return registered;
    }
    return spdlog::default_logger()->clone("http");
  }();
  return *logger;
}

}  // namespace kprof::http
