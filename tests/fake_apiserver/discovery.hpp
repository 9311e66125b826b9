// Discovery and OpenAPI documents built from the served resources: what kubectl and client-go
// read before they touch a resource. Legacy discovery (/api, /apis, /apis/G, /apis/G/V),
// aggregated discovery (apidiscovery.k8s.io/v2, asked for through the Accept header), /version,
// and a minimal OpenAPI v3 (per group-version PATCH operations with their
// x-kubernetes-group-version-kind and the fieldValidation parameter, which is what kubectl
// checks before it lets the server validate fields). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_apiserver/resources.hpp"

namespace kprof::testing {

inline constexpr std::string_view kAggregatedDiscoveryContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

nlohmann::json versionDocument();

// /api: APIVersions.
nlohmann::json coreVersionsDocument(std::string_view server_address);
// /apis: APIGroupList of the named groups, in order of first appearance.
nlohmann::json groupListDocument(const std::vector<ResourceInfo>& resources);
// /apis/G: APIGroup, or nullopt when no resource is in the group.
std::optional<nlohmann::json> groupDocument(const std::vector<ResourceInfo>& resources,
                                            std::string_view group);
// /api/v1 (group "") and /apis/G/V: APIResourceList, or nullopt when nothing is served there.
std::optional<nlohmann::json> resourceListDocument(const std::vector<ResourceInfo>& resources,
                                                   std::string_view group,
                                                   std::string_view version);
// Aggregated discovery for /api (core = true) or /apis.
nlohmann::json aggregatedDiscovery(const std::vector<ResourceInfo>& resources, bool core);

// /openapi/v3: the group-version paths with a content hash in each URL.
nlohmann::json openApiV3Index(const std::vector<ResourceInfo>& resources);
// /openapi/v3/api/v1, /openapi/v3/apis/G/V; `gv_path` is "api/v1" or "apis/G/V".
std::optional<nlohmann::json> openApiV3Document(const std::vector<ResourceInfo>& resources,
                                                std::string_view gv_path);

}  // namespace kprof::testing
