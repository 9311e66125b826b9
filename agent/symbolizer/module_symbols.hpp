// The symbols of one ELF module (executable or shared library), loaded once and shared through the
// module cache: function symbols from .symtab and .dynsym, or from a separate debug file when the
// binary is stripped, plus the PT_LOAD segments that translate file offsets to ELF addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/symbol_table.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct ModuleSymbols {
  ElfFileType fileType = ElfFileType::Other;
  std::vector<ElfLoadSegment> loadSegments;
  std::string buildId;  // lowercase hex; empty when the binary has none
  SymbolTable symbols;  // keyed by ELF virtual address
  // Where the names came from: ".symtab", ".dynsym", or the debug file's path (as the target
  // process would see it). Empty when there were none.
  std::string symbolSource;

  size_t memoryBytes() const;
};

// Where a separate debug file for a binary may be, in gdb's order, as paths inside the target's
// root: /usr/lib/debug/.build-id/ab/cdef….debug, then for a .gnu_debuglink name N beside binary
// /dir/bin: /dir/N, /dir/.debug/N, /usr/lib/debug/dir/N.
std::vector<std::string> debugFileCandidates(std::string_view binaryPath,
                                             std::string_view buildId,
                                             const std::optional<ElfDebugLink>& debugLink);

struct DebugFileSearch {
  std::string_view binaryPath;  // absolute, as the target process sees it
  // Host directories acting as "/" for the candidates, searched in order: the target's
  // /proc/<pid>/root first, then any extra debug roots the agent carries.
  std::vector<std::string> roots;
  uint64_t maxFileBytes = 0;
};

// Builds the module's symbols from `image`. When the image has no .symtab and `search` is given, a
// debug file found by build id or debug link supplies one; it is accepted only when its build id
// matches the binary's, or, for a binary without a build id, when its CRC matches the debug link.
ModuleSymbols loadModuleSymbols(const ElfImage& image, const DebugFileSearch* search);

}  // namespace kprof::agent
