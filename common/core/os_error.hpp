// errno values from system calls and libbpf, turned into Errors whose code says whether
// privilege is missing (PermissionDenied), the kernel lacks support, or something else failed.
#pragma once

#include <string_view>

#include "common/core/result.hpp"

namespace kprof {

// errnoError(EPERM, "perf_event_open") → PermissionDenied "perf_event_open: Operation not
// permitted". Accepts libbpf's negative error numbers too.
Error errnoError(int errnum, std::string_view context);

}  // namespace kprof
