// The patch formats the API server accepts, applied to JSON objects. Pure functions.
//
// Errors: ErrorCode::Parse when the patch document itself is malformed (the server answers 400
// BadRequest), ErrorCode::InvalidArgument when a well-formed patch cannot be applied — a failed
// JSON-patch `test`, a missing path, a list item without its merge key (422 Invalid).
#pragma once

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::testing {

// application/merge-patch+json (RFC 7386): objects merge recursively, null deletes, anything
// else (arrays included) replaces. The patch must be a JSON object.
Result<nlohmann::json> applyMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

// application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test, with
// JSON-pointer paths (RFC 6901, "~1" for '/', "~0" for '~', "-" for the end of an array).
Result<nlohmann::json> applyJsonPatch(const nlohmann::json& target, const nlohmann::json& patch);

// application/strategic-merge-patch+json, for the built-in types: merge-patch semantics, except
// that lists with a merge key merge item by item (containers, initContainers, ephemeralContainers,
// volumes, env, imagePullSecrets by name; volumeMounts by mountPath; container ports by
// containerPort; service ports by port; conditions by type; ownerReferences by uid), finalizers
// merge as a set, and the directives `$patch: delete|replace|merge`,
// `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (ignored) are understood.
Result<nlohmann::json> applyStrategicMergePatch(const nlohmann::json& target,
                                                const nlohmann::json& patch);

// Server-side apply without field ownership: the applied configuration merges into the object
// the way a strategic merge does (same list keys), with no directives. Fields an earlier apply
// set and this one omits are not removed (managedFields are not modelled).
Result<nlohmann::json> applyConfiguration(const nlohmann::json& target,
                                          const nlohmann::json& configuration);

}  // namespace kprof::testing
