// The operator's config file: a YAML map with the same names as the command-line flags (without
// the dashes' prefix), e.g.
//   namespace: kprof-system
//   leader-elect: true
//   lease-duration: 15s
//   agent-api-port: 8443
//   poll-timeout: 30s
// Flags given on the command line override the file. Unknown keys are errors, so a typo does not
// silently leave a default in place.
#pragma once

#include <string_view>

#include "common/core/result.hpp"
#include "operator/manager/operator.hpp"

namespace kprof::manager {

Status applyOperatorYaml(std::string_view text, OperatorOptions& options);

// "1.29" or "v1.28.3" into the injection config's cluster version (major, minor).
Status applyClusterVersion(std::string_view text, webhooks::InjectionConfig& injection);

}  // namespace kprof::manager
