// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for (Accept:
// application/json;as=Table;g=meta.k8s.io;v=v1). Pods get the real server's columns (Name, Ready,
// Status, Restarts, Age, IP, Node, ...), a few other built-ins theirs, custom resources the CRD's
// additionalPrinterColumns (evaluated with a JSONPath subset), everything else Name and Created
// At. Pure functions: the wall time for Age comes in as a value.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_apiserver/resources.hpp"

namespace kprof::testing {

enum class IncludeObject { None, Metadata, Object };

// `objects` are full objects; `list_metadata` becomes the Table's metadata (resourceVersion,
// continue).
nlohmann::json renderTable(const ResourceInfo& info,
                           const std::vector<const nlohmann::json*>& objects,
                           IncludeObject include,
                           std::chrono::system_clock::time_point now,
                           const nlohmann::json& list_metadata);

// "45s", "5m3s", "17m", "3h20m", "2d4h", "400d", "3y12d" — kubectl's age format.
std::string humanDuration(std::chrono::seconds age);

// The first value a simple JSONPath selects: `.a.b`, `.a[0]`, `.a[*].b`,
// `.a[?(@.type=="Ready")].status` (== and !=); nullopt when it selects nothing.
std::optional<nlohmann::json> jsonPathFirst(const nlohmann::json& object, std::string_view path);

// RFC 3339 in UTC with second precision, as metav1.Time serializes.
std::string formatTimestamp(std::chrono::system_clock::time_point time);
std::optional<std::chrono::system_clock::time_point> parseTimestamp(std::string_view text);

}  // namespace kprof::testing
