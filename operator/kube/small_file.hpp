// Reading the small files a Kubernetes client depends on (kubeconfig, service-account token,
// CA bundle, namespace) with errors that name the file and say whether it is missing
// (NotFound), unreadable (PermissionDenied) or too large (ResourceExhausted).
#pragma once

#include <cstddef>
#include <string>

#include "common/core/result.hpp"

namespace kprof::kube {

inline constexpr std::size_t kMaxSmallFileBytes = 4 << 20;

Result<std::string> readSmallFile(const std::string& path,
                                  std::size_t max_bytes = kMaxSmallFileBytes);

}  // namespace kprof::kube
