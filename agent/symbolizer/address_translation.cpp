#include "agent/symbolizer/address_translation.hpp"

namespace kprof::agent {

std::optional<uint64_t> elfAddressOfFileOffset(std::span<const ElfLoadSegment> segments,
                                               uint64_t fileOffset) {
  for (const ElfLoadSegment& segment : segments) {
    if (fileOffset >= segment.fileOffset && fileOffset - segment.fileOffset < segment.fileSize) {
      return fileOffset - segment.fileOffset + segment.virtualAddress;
    }
  }
  // The kernel maps whole pages, so a mapping can start before its segment's first byte (the
  // page-aligned head). Such bytes still translate through the segment that shares their page.
  constexpr uint64_t kPageMask = 4096 - 1;
  for (const ElfLoadSegment& segment : segments) {
    const uint64_t pageStart = segment.fileOffset & ~kPageMask;
    if (fileOffset >= pageStart && fileOffset < segment.fileOffset &&
        segment.virtualAddress >= segment.fileOffset - fileOffset) {
      return segment.virtualAddress - (segment.fileOffset - fileOffset);
    }
  }
  return std::nullopt;
}

}  // namespace kprof::agent
