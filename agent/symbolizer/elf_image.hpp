// A small bounds-checked reader for ELF64 little-endian images. Every offset and size read from
// the image is checked against the bytes we were given, so a truncated, corrupt or hostile file
// yields an Error or fewer symbols, never an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::agent {

enum class ElfFileType {
  Executable,  // ET_EXEC: linked at fixed addresses (non-PIE)
  Dynamic,     // ET_DYN: a PIE executable or a shared library, loaded at a bias
  Other,       // relocatable objects, core files
};

struct ElfSection {
  std::string_view name;  // points into the image; empty when names are unreadable
  uint32_t type = 0;      // SHT_*
  uint64_t flags = 0;
  uint64_t address = 0;
  uint64_t fileOffset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint64_t alignment = 0;
  uint64_t entrySize = 0;
};

// A PT_LOAD program header: file bytes [fileOffset, fileOffset+fileSize) are loaded at
// virtualAddress (plus the load bias for ET_DYN).
struct ElfLoadSegment {
  uint64_t fileOffset = 0;
  uint64_t fileSize = 0;
  uint64_t virtualAddress = 0;
  uint64_t memorySize = 0;
  uint32_t flags = 0;  // PF_X, PF_W, PF_R
};

struct ElfFunctionSymbol {
  uint64_t address = 0;   // st_value: link-time virtual address
  uint64_t size = 0;      // 0 when the producer did not record one (hand-written assembly)
  std::string_view name;  // points into the image
  // End of the section holding the symbol, so a size-0 symbol cannot run past its section.
  uint64_t sectionEnd = UINT64_MAX;
  uint8_t binding = 0;  // STB_LOCAL, STB_GLOBAL, STB_WEAK
};

struct ElfDebugLink {
  std::string fileName;  // a bare file name such as "libfoo.so.debug"
  uint32_t crc = 0;      // CRC-32 of the whole debug file
};

class ElfImage {
 public:
  // Reads the headers, section and program header tables, build id and debug link. The image
  // keeps views into `bytes`, which must outlive it.
  static Result<ElfImage> parse(std::span<const std::byte> bytes);

  ElfFileType fileType() const { return fileType_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfLoadSegment>& loadSegments() const { return loadSegments_; }
  const ElfSection* findSection(std::string_view name) const;
  const ElfSection* findSectionByType(uint32_t type) const;
  bool hasSymtab() const { return findSectionByType(kSymtab) != nullptr; }
  // GNU build id as lowercase hex; empty when the image has none.
  const std::string& buildId() const { return buildId_; }
  const std::optional<ElfDebugLink>& debugLink() const { return debugLink_; }

  // FUNC symbols defined in the first section of `tableType` (SHT_SYMTAB or SHT_DYNSYM). Entries
  // with unreadable names are skipped; an unreadable table is an Error.
  Result<std::vector<ElfFunctionSymbol>> functionSymbols(uint32_t tableType) const;

  static constexpr uint32_t kSymtab = 2;   // SHT_SYMTAB
  static constexpr uint32_t kDynsym = 11;  // SHT_DYNSYM
  // Tables bigger than this are hostile rather than large: real binaries stay far below.
  static constexpr size_t kMaxSections = 1 << 16;
  static constexpr size_t kMaxSegments = 1 << 12;
  static constexpr size_t kMaxSymbols = 1 << 24;

 private:
  explicit ElfImage(std::span<const std::byte> bytes) : bytes_(bytes) {}
  Status readSections(uint64_t tableOffset,
                      uint64_t count,
                      uint64_t entrySize,
                      uint32_t namesIndex);
  Status readSegments(uint64_t tableOffset, uint64_t count, uint64_t entrySize);
  void readBuildId();
  void readDebugLink();

  std::span<const std::byte> bytes_;
  ElfFileType fileType_ = ElfFileType::Other;
  std::vector<ElfSection> sections_;
  std::vector<ElfLoadSegment> loadSegments_;
  std::vector<std::span<const std::byte>> noteSegments_;
  std::string buildId_;
  std::optional<ElfDebugLink> debugLink_;
};

// Walks an ELF note area and returns the GNU build id note's descriptor as hex, or "" when absent.
std::string findGnuBuildId(std::span<const std::byte> notes, uint64_t alignment);

}  // namespace kprof::agent
