// Base64 (RFC 4648, with padding): HTTP basic auth, Kubernetes Secret data, kubeconfig *-data.
#pragma once

#include <string>
#include <string_view>

#include "common/core/result.hpp"

namespace kprof {

std::string base64Encode(std::string_view bytes);
// Ignores whitespace; rejects other characters outside the alphabet and bad padding.
Result<std::string> base64Decode(std::string_view text);

}  // namespace kprof
