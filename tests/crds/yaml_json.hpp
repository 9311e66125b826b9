// YAML → JSON for test fixtures (node has no YAML parser here, so tests convert before calling it).
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::testing {

// Every document of a YAML file, with plain scalars resolved by the YAML 1.2 core schema
// (null, booleans, integers, floats; everything else and every quoted scalar is a string).
Result<std::vector<nlohmann::json>> loadYamlDocuments(const std::filesystem::path& file);

}  // namespace kprof::testing
