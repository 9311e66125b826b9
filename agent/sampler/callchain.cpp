#include "agent/sampler/callchain.hpp"

#include <linux/perf_event.h>

namespace kprof::agent {

namespace {

enum class Context { Unknown, Kernel, User, Other };

Context contextOfMarker(uint64_t marker) {
  switch (marker) {
    case PERF_CONTEXT_KERNEL:
      return Context::Kernel;
    case PERF_CONTEXT_USER:
      return Context::User;
    default:
      return Context::Other;  // hypervisor, guest kernel, guest user
  }
}

bool isMarker(uint64_t ip) {
  return ip >= static_cast<uint64_t>(PERF_CONTEXT_MAX);
}

bool isKernelAddress(uint64_t ip) {
  return static_cast<int64_t>(ip) < 0;
}

}  // namespace

SplitCallchain splitCallchain(std::span<const uint64_t> callchain) {
  SplitCallchain split;
  Context context = Context::Unknown;
  for (uint64_t ip : callchain) {
    if (isMarker(ip)) {
      context = contextOfMarker(ip);
      continue;
    }
    Context frame_context = context;
    if (frame_context == Context::Unknown) {
      frame_context = isKernelAddress(ip) ? Context::Kernel : Context::User;
    }
    if (frame_context == Context::Kernel) {
      split.kernel_ips.push_back(ip);
    } else if (frame_context == Context::User) {
      split.user_ips.push_back(ip);
    }
  }
  return split;
}

}  // namespace kprof::agent
