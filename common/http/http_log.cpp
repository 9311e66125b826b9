#include "common/http/http_log.hpp"

#include "common/log/log.hpp"

namespace kprof::http {

spdlog::logger& httpLog() {
  // The component logger: follows the process's configured level and text/JSON format.
  static const std::shared_ptr<spdlog::logger> logger = log::logger("http");
  return *logger;
}

}  // namespace kprof::http
