// JIT symbols from perf-map files (/tmp/perf-<pid>.map), the format V8 (`node --perf-basic-prof`),
// the JVM's perf-map-agent and others append to as they compile code: one "START SIZE name" line
// per code object, START and SIZE in hex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/symbolizer/file_access.hpp"
#include "agent/symbolizer/symbol_table.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct PerfMapEntry {
  uint64_t start = 0;
  uint64_t size = 0;
  std::string_view name;  // points into the parsed text
};

struct PerfMapText {
  std::vector<PerfMapEntry> entries;  // in file order; later lines supersede earlier ones
  size_t malformedLines = 0;
};

PerfMapText parsePerfMap(std::string_view text);

// One perf-map file, read incrementally: each refresh parses only the complete lines appended
// since the last one, and starts over when the file was replaced or shrank (a new process that
// reused the pid). Entries past `maxEntries` are dropped and counted, so memory stays bounded.
class PerfMap {
 public:
  // `path` is opened inside `rootDir` (see openInRoot), e.g. "/proc/42/root" + "/tmp/perf-7.map".
  PerfMap(std::string rootDir, std::string path, size_t maxEntries, size_t maxFileBytes);

  Status refresh();
  std::optional<SymbolMatch> lookup(uint64_t address) const { return table_.lookup(address); }

  size_t size() const { return table_.size(); }
  uint64_t reloads() const { return reloads_; }
  uint64_t droppedEntries() const { return droppedEntries_; }
  uint64_t malformedLines() const { return malformedLines_; }

 private:
  std::string rootDir_;
  std::string path_;
  size_t maxEntries_;
  size_t maxFileBytes_;
  FileIdentity identity_;
  uint64_t consumedBytes_ = 0;  // through the last complete line read
  SymbolTable table_;
  uint64_t reloads_ = 0;
  uint64_t droppedEntries_ = 0;
  uint64_t malformedLines_ = 0;
};

}  // namespace kprof::agent
