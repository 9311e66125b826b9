// Writing a profile the ways `kprof record` and `kprof report` share: the pprof file, a top
// table on stdout, the interactive flame graph page and an SVG, or a JSON report.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "common/pprof/profile_builder.hpp"

namespace kprof::agent {

enum class OutputFormat { Text, Json };

struct WrittenOutputs {
  std::string html;
  std::string svg;
  nlohmann::json report;  // summary of the profile, for --format json
  std::string top_table;
};

// Writes `<dir>/<stem>.html` and `<dir>/<stem>.svg` for the profile's default sample type (the
// time value for cpu and wall) and returns the report. `title` heads the flame graph.
Result<WrittenOutputs> writeProfileOutputs(const pprof::Profile& profile,
                                           const std::string& dir,
                                           const std::string& stem,
                                           const std::string& title,
                                           size_t top_rows = 20);

// Writes bytes to a file through a temporary and a rename.
Status writeFileAtomically(const std::string& path, const std::string& bytes);

// The sample index a person wants to see first: the profile's default sample type, else the last.
size_t preferredSampleIndex(const pprof::Profile& profile);

}  // namespace kprof::agent
