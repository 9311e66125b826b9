// The per-object rules the API server applies on writes, as pure functions over JSON values:
// what a create may not set and which defaults the server fills in, which fields an update keeps
// from the stored object (server-owned metadata, the status subresource split), validation, and
// when metadata.generation moves.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_apiserver/api_error.hpp"
#include "tests/fake_apiserver/resources.hpp"

namespace kprof::testing {

// A structural problem the real server reports while decoding (400 BadRequest): metadata not an
// object, label or annotation values that are not strings, finalizers not strings, ...
std::optional<std::string> decodeProblem(const nlohmann::json& object);

// Resets what a create may not choose and fills in defaults: status of resources with a status
// subresource (dropped for custom resources, {phase: Pending} for pods, {phase: Active} for
// namespaces), the namespace's spec.finalizers and kubernetes.io/metadata.name label, a Secret's
// stringData folded into base64 data and its default type. With from_api false (a test seeding
// the store) a given .status is kept.
void prepareForCreate(const ResourceInfo& info, nlohmann::json& object, bool from_api);

// The object an update stores. Server-owned metadata (uid, creationTimestamp, generation,
// deletionTimestamp, deletionGracePeriodSeconds) comes from `stored`. Through the API, for a
// resource with a status subresource, the main endpoint keeps the stored .status and the
// "status" subresource takes only .status from `incoming` (everything else from `stored`).
nlohmann::json prepareForUpdate(const ResourceInfo& info,
                                const nlohmann::json& stored,
                                nlohmann::json incoming,
                                std::string_view subresource,
                                bool from_api);

// Invalid causes of an object about to be stored: name syntax, label keys and values.
std::vector<StatusCause> validateObject(const ResourceInfo& info, const nlohmann::json& object);

// Causes that make an update invalid: pod spec changes beyond images, activeDeadlineSeconds and
// tolerations; new finalizers on an object being deleted.
std::vector<StatusCause> validateUpdate(const ResourceInfo& info,
                                        const nlohmann::json& stored,
                                        const nlohmann::json& updated);

// Whether anything outside metadata and status (and apiVersion/kind) differs.
bool specChanged(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace kprof::testing
