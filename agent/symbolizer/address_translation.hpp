// Runtime address → ELF virtual address, the address space a symbol table (and addr2line) uses.
//   file offset  = address - mapping.start + mapping.fileOffset
//   ELF address  = file offset - segment.fileOffset + segment.virtualAddress
// for the PT_LOAD segment holding that file offset. This works the same for non-PIE executables
// (bias 0), PIE executables and shared libraries (any bias), because it never assumes where the
// image was loaded, only which file bytes the mapping shows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/proc_maps.hpp"

namespace kprof::agent {

inline uint64_t fileOffsetOf(const Mapping& mapping, uint64_t address) {
  return address - mapping.start + mapping.fileOffset;
}

// The ELF virtual address of `fileOffset`, or nullopt when no PT_LOAD segment loads those bytes.
std::optional<uint64_t> elfAddressOfFileOffset(std::span<const ElfLoadSegment> segments,
                                               uint64_t fileOffset);

}  // namespace kprof::agent
