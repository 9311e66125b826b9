// `kprof report FILE` and `kprof diff BASE CURRENT`: render profiles that already exist.
#pragma once

#include <string>

#include "agent/cli/profile_outputs.hpp"

namespace kprof::agent {

struct ReportOptions {
  std::string file;
  std::string output_dir = "kprof-out";
  OutputFormat format = OutputFormat::Text;
  std::string sample_type;  // empty: the profile's default
  size_t top = 20;
};

int runReport(const ReportOptions& options);

struct DiffOptions {
  std::string base;
  std::string current;
  std::string output_dir = "kprof-out";
  OutputFormat format = OutputFormat::Text;
  size_t top = 20;
};

int runDiff(const DiffOptions& options);

}  // namespace kprof::agent
