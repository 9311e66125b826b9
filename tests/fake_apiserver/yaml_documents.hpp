// YAML (and so JSON) text to nlohmann::json documents: manifests given to kprof-fake-apiserver,
// CRD files, and server-side apply bodies (application/apply-patch+yaml).
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::testing {

// Every non-empty document of a YAML stream. Plain scalars resolve by the YAML 1.2 core schema
// (null, true/false, integers, floats); quoted and block scalars stay strings. Errors are Parse.
Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text);

// The file's documents; `kind: List` documents are expanded into their items.
Result<std::vector<nlohmann::json>> readManifestFile(const std::filesystem::path& file);

}  // namespace kprof::testing
