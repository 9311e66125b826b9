// RFC 6902 patches computed as the difference of two JSON documents. The admission webhook diffs
// the pod it built against the request's raw object, so any field kprof does not model passes
// through untouched (the API server applies only what changed).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kprof::webhooks {

// One reference token escaped for a JSON pointer (RFC 6901): "~" → "~0", "/" → "~1".
std::string escapePointerToken(std::string_view token);

// The operations that turn `before` into `after`: objects are compared key by key (removals,
// then changes and additions, in key order); an array that only grew gets `add` operations at
// its new indices; any other array change, and any change of type, is one `replace` of that value.
// Deterministic: the same inputs give the same operations in the same order. Equal documents
// give an empty array.
nlohmann::json diffJson(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace kprof::webhooks
