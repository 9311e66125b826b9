// Parsing of /proc/<pid>/maps: which file (or pseudo region) backs each range of a process's
// address space. A pure function over the file's text, so tests and the fuzzer feed it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::agent {

struct Mapping {
  uint64_t start = 0;  // first address of the range
  uint64_t end = 0;    // one past the last address
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;      // 's' (shared) rather than 'p' (private, copy-on-write)
  uint64_t fileOffset = 0;  // offset in the file of `start`
  uint32_t deviceMajor = 0;
  uint32_t deviceMinor = 0;
  uint64_t inode = 0;
  // The path as the process sees it, " (deleted)" removed; "[vdso]", "[heap]", "[anon:name]", or
  // empty for an anonymous mapping.
  std::string path;
  bool deleted = false;  // the file was unlinked (or replaced) after it was mapped

  bool contains(uint64_t address) const { return address >= start && address < end; }
  // Backed by a file we can open by path: "/usr/lib/libc.so.6", not "[heap]" or "/memfd:x".
  bool isFile() const;
  // Memory without a file behind it, where JIT compilers put code: "", "[anon:...]", "//anon",
  // "/memfd:...".
  bool isAnonymous() const;
  bool isVdso() const { return path == "[vdso]"; }
};

struct ProcMaps {
  std::vector<Mapping> mappings;  // in address order
  size_t malformedLines = 0;      // skipped, counted: a torn read or an unexpected kernel format
};

// Parses the whole text of a maps file. Never fails: lines it cannot read are skipped and counted.
ProcMaps parseProcMaps(std::string_view text);

// Parses one line without its newline; nullopt when malformed.
std::optional<Mapping> parseProcMapsLine(std::string_view line);

// The mapping containing `address` in mappings sorted by start, or nullptr.
const Mapping* findMapping(std::span<const Mapping> mappings, uint64_t address);

}  // namespace kprof::agent
