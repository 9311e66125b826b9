#include "agent/symbolizer/address_translation.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

Mapping mapping(uint64_t start, uint64_t end, uint64_t offset) {
  Mapping m;
  m.start = start;
  m.end = end;
  m.fileOffset = offset;
  return m;
}

TEST(AddressTranslation, NonPieExecutableMapsAtItsLinkAddresses) {
  // ld's default layout: text segment at file 0x1000, linked at 0x401000.
  const std::vector<ElfLoadSegment> segments{
      {.fileOffset = 0, .fileSize = 0x500, .virtualAddress = 0x400000, .memorySize = 0x500},
      {.fileOffset = 0x1000, .fileSize = 0x2000, .virtualAddress = 0x401000, .memorySize = 0x2000}};
  const Mapping text = mapping(0x401000, 0x403000, 0x1000);
  const uint64_t address = 0x401234;
  EXPECT_EQ(fileOffsetOf(text, address), 0x1234u);
  EXPECT_EQ(elfAddressOfFileOffset(segments, fileOffsetOf(text, address)), 0x401234u);
}

TEST(AddressTranslation, PieAndSharedLibrariesUndoTheLoadBias) {
  // A shared library linked at 0 with text at file 0x26000 / vaddr 0x26000, loaded anywhere.
  const std::vector<ElfLoadSegment> segments{
      {.fileOffset = 0, .fileSize = 0x25388, .virtualAddress = 0, .memorySize = 0x25388},
      {.fileOffset = 0x26000,
       .fileSize = 0x1550fc,
       .virtualAddress = 0x26000,
       .memorySize = 0x1550fc}};
  const Mapping text = mapping(0x7f9176873000, 0x7f91769c9000, 0x26000);
  EXPECT_EQ(elfAddressOfFileOffset(segments, fileOffsetOf(text, 0x7f91768f94e0)), 0xac4e0u);
}

TEST(AddressTranslation, SegmentsWhoseVirtualAddressDiffersFromTheFileOffset) {
  // lld and gold place segments so vaddr - offset differs per segment (here by 0x1000).
  const std::vector<ElfLoadSegment> segments{
      {.fileOffset = 0x800, .fileSize = 0x1000, .virtualAddress = 0x1800, .memorySize = 0x1000}};
  const Mapping text = mapping(0x555555556000, 0x555555558000, 0);
  EXPECT_EQ(elfAddressOfFileOffset(segments, fileOffsetOf(text, 0x555555556900)), 0x1900u);
  // The page-aligned head before the segment's first byte still translates through it.
  EXPECT_EQ(elfAddressOfFileOffset(segments, 0x100), 0x1100u);
  EXPECT_EQ(elfAddressOfFileOffset(segments, 0x1800), std::nullopt);  // past the segment
  EXPECT_EQ(elfAddressOfFileOffset({}, 0), std::nullopt);
}

}  // namespace
}  // namespace kprof::agent
