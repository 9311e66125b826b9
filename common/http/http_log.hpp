// The http component's named logger (internal to common/http).
#pragma once

#include <spdlog/logger.h>

namespace kprof::http {

spdlog::logger& httpLog();

}  // namespace kprof::http
