#include "agent/symbolizer/elf_image.hpp"

#include <bit>
#include <cstring>

#include <elf.h>

namespace kprof::agent {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the ELF reader copies little-endian fields directly into host structs");

// Copies a T from `offset`, or nullopt when it does not fit.
template <typename T>
std::optional<T> readAt(std::span<const std::byte> bytes, uint64_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) {
    return std::nullopt;
  }
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

std::optional<std::span<const std::byte>> slice(std::span<const std::byte> bytes,
                                                uint64_t offset,
                                                uint64_t size) {
  if (offset > bytes.size() || bytes.size() - offset < size) {
    return std::nullopt;
  }
  return bytes.subspan(offset, size);
}

// A NUL-terminated string starting at `offset`; nullopt when it starts or runs out of bounds.
std::optional<std::string_view> cString(std::span<const std::byte> bytes, uint64_t offset) {
  if (offset >= bytes.size()) {
    return std::nullopt;
  }
  const auto* begin = reinterpret_cast<const char*>(bytes.data() + offset);
  const size_t available = bytes.size() - offset;
  const void* nul = std::memchr(begin, 0, available);
  if (nul == nullptr) {
    return std::nullopt;
  }
  return std::string_view(begin, static_cast<const char*>(nul) - begin);
}

uint64_t alignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// Whether a table of `count` entries of `entrySize` bytes at `offset` lies inside the image.
bool tableFits(std::span<const std::byte> bytes,
               uint64_t offset,
               uint64_t count,
               uint64_t entrySize) {
  if (offset > bytes.size()) {
    return false;
  }
  return count <= (bytes.size() - offset) / entrySize;
}

std::string toHex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto value = std::to_integer<unsigned>(b);
    hex.push_back(kDigits[value >> 4]);
    hex.push_back(kDigits[value & 0xf]);
  }
  return hex;
}

std::optional<std::span<const std::byte>> sectionBytes(std::span<const std::byte> bytes,
                                                       const ElfSection& section) {
  if (section.type == SHT_NOBITS) {
    return std::nullopt;
  }
  return slice(bytes, section.fileOffset, section.size);
}

}  // namespace

std::string findGnuBuildId(std::span<const std::byte> notes, uint64_t alignment) {
  alignment = alignment == 8 ? 8 : 4;
  constexpr uint64_t kHeaderSize = 12;  // namesz, descsz, type
  constexpr uint32_t kMaxBuildIdBytes = 64;
  uint64_t position = 0;
  while (position <= notes.size() && notes.size() - position >= kHeaderSize) {
    const auto nameSize = *readAt<uint32_t>(notes, position);
    const auto descSize = *readAt<uint32_t>(notes, position + 4);
    const auto type = *readAt<uint32_t>(notes, position + 8);
    const uint64_t nameOffset = position + kHeaderSize;
    const uint64_t descOffset = nameOffset + alignUp(nameSize, alignment);
    const auto name = slice(notes, nameOffset, nameSize);
    const auto desc = slice(notes, descOffset, descSize);
    if (!name || !desc) {
      return {};
    }
    static constexpr char kGnu[] = "GNU";  // with its NUL: namesz is 4
    if (type == NT_GNU_BUILD_ID && nameSize == sizeof(kGnu) &&
        std::memcmp(name->data(), kGnu, sizeof(kGnu)) == 0 && descSize > 0 &&
        descSize <= kMaxBuildIdBytes) {
      return toHex(*desc);
    }
    position = descOffset + alignUp(descSize, alignment);
  }
  return {};
}

Result<ElfImage> ElfImage::parse(std::span<const std::byte> bytes) {
  const auto header = readAt<Elf64_Ehdr>(bytes, 0);
  if (!header) {
    return fail(ErrorCode::Parse, "ELF: shorter than an ELF64 header");
  }
  if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0) {
    return fail(ErrorCode::Parse, "ELF: bad magic");
  }
  if (header->e_ident[EI_CLASS] != ELFCLASS64 || header->e_ident[EI_DATA] != ELFDATA2LSB) {
    return fail(ErrorCode::Parse, "ELF: not a 64-bit little-endian image");
  }
  if (header->e_ident[EI_VERSION] != EV_CURRENT) {
    return fail(ErrorCode::Parse, "ELF: unknown version");
  }
  ElfImage image(bytes);
  image.fileType_ = header->e_type == ET_EXEC  ? ElfFileType::Executable
                    : header->e_type == ET_DYN ? ElfFileType::Dynamic
                                               : ElfFileType::Other;

  // Counts that overflow their 16-bit header fields live in section header 0.
  uint64_t sectionCount = header->e_shnum;
  uint32_t namesIndex = header->e_shstrndx;
  uint64_t segmentCount = header->e_phnum;
  if (header->e_shoff != 0) {
    if (header->e_shentsize < sizeof(Elf64_Shdr)) {
      return fail(ErrorCode::Parse, "ELF: section header entries too small");
    }
    const auto first = readAt<Elf64_Shdr>(bytes, header->e_shoff);
    if (!first) {
      return fail(ErrorCode::Parse, "ELF: section header table out of bounds");
    }
    if (sectionCount == 0) {
      sectionCount = first->sh_size;
    }
    if (namesIndex == SHN_XINDEX) {
      namesIndex = first->sh_link;
    }
    if (segmentCount == PN_XNUM) {
      segmentCount = first->sh_info;
    }
    KPROF_TRY(image.readSections(header->e_shoff, sectionCount, header->e_shentsize, namesIndex));
  }
  if (header->e_phoff != 0 && segmentCount != 0) {
    if (header->e_phentsize < sizeof(Elf64_Phdr)) {
      return fail(ErrorCode::Parse, "ELF: program header entries too small");
    }
    KPROF_TRY(image.readSegments(header->e_phoff, segmentCount, header->e_phentsize));
  }
  image.readBuildId();
  image.readDebugLink();
  return image;
}

Status ElfImage::readSections(uint64_t tableOffset,
                              uint64_t count,
                              uint64_t entrySize,
                              uint32_t namesIndex) {
  if (count > kMaxSections) {
    return fail(ErrorCode::Parse, "ELF: too many sections");
  }
  if (!tableFits(bytes_, tableOffset, count, entrySize)) {
    return fail(ErrorCode::Parse, "ELF: section header table out of bounds");
  }
  sections_.reserve(count);
  std::vector<uint32_t> nameOffsets;
  nameOffsets.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const auto raw = *readAt<Elf64_Shdr>(bytes_, tableOffset + i * entrySize);
    nameOffsets.push_back(raw.sh_name);
    sections_.push_back(ElfSection{.type = raw.sh_type,
                                   .flags = raw.sh_flags,
                                   .address = raw.sh_addr,
                                   .fileOffset = raw.sh_offset,
                                   .size = raw.sh_size,
                                   .link = raw.sh_link,
                                   .alignment = raw.sh_addralign,
                                   .entrySize = raw.sh_entsize});
  }
  // Names are a convenience: an unreadable name table leaves them empty rather than failing.
  const auto names =
      namesIndex < count ? sectionBytes(bytes_, sections_[namesIndex]) : std::nullopt;
  if (names) {
    for (uint64_t i = 0; i < count; ++i) {
      sections_[i].name = cString(*names, nameOffsets[i]).value_or(std::string_view());
    }
  }
  return ok();
}

Status ElfImage::readSegments(uint64_t tableOffset, uint64_t count, uint64_t entrySize) {
  if (count > kMaxSegments) {
    return fail(ErrorCode::Parse, "ELF: too many program headers");
  }
  if (!tableFits(bytes_, tableOffset, count, entrySize)) {
    return fail(ErrorCode::Parse, "ELF: program header table out of bounds");
  }
  for (uint64_t i = 0; i < count; ++i) {
    const auto raw = *readAt<Elf64_Phdr>(bytes_, tableOffset + i * entrySize);
    if (raw.p_type == PT_LOAD) {
      loadSegments_.push_back(ElfLoadSegment{.fileOffset = raw.p_offset,
                                             .fileSize = raw.p_filesz,
                                             .virtualAddress = raw.p_vaddr,
                                             .memorySize = raw.p_memsz,
                                             .flags = raw.p_flags});
    } else if (raw.p_type == PT_NOTE) {
      if (const auto notes = slice(bytes_, raw.p_offset, raw.p_filesz)) {
        noteSegments_.push_back(*notes);
      }
    }
  }
  return ok();
}

void ElfImage::readBuildId() {
  // Prefer note sections; stripped-down images (the vDSO, some packers) only keep PT_NOTE.
  for (const ElfSection& section : sections_) {
    if (section.type != SHT_NOTE) {
      continue;
    }
    if (const auto notes = sectionBytes(bytes_, section)) {
      buildId_ = findGnuBuildId(*notes, section.alignment);
      if (!buildId_.empty()) {
        return;
      }
    }
  }
  for (const auto notes : noteSegments_) {
    buildId_ = findGnuBuildId(notes, 4);
    if (!buildId_.empty()) {
      return;
    }
  }
}

void ElfImage::readDebugLink() {
  const ElfSection* section = findSection(".gnu_debuglink");
  if (section == nullptr) {
    return;
  }
  const auto data = sectionBytes(bytes_, *section);
  if (!data) {
    return;
  }
  const auto fileName = cString(*data, 0);
  // A debug link names a file beside the binary; anything with a directory part is not one.
  if (!fileName || fileName->empty() || fileName->find('/') != std::string_view::npos ||
      *fileName == "." || *fileName == "..") {
    return;
  }
  const auto crc = readAt<uint32_t>(*data, alignUp(fileName->size() + 1, 4));
  if (!crc) {
    return;
  }
  debugLink_ = ElfDebugLink{std::string(*fileName), *crc};
}

const ElfSection* ElfImage::findSection(std::string_view name) const {
  for (const ElfSection& section : sections_) {
    if (section.name == name) {
      return &section;
    }
  }
  return nullptr;
}

const ElfSection* ElfImage::findSectionByType(uint32_t type) const {
  for (const ElfSection& section : sections_) {
    if (section.type == type) {
      return &section;
    }
  }
  return nullptr;
}

Result<std::vector<ElfFunctionSymbol>> ElfImage::functionSymbols(uint32_t tableType) const {
  const ElfSection* table = findSectionByType(tableType);
  if (table == nullptr) {
    return fail(ErrorCode::NotFound, "ELF: no symbol table of that type");
  }
  if (table->entrySize < sizeof(Elf64_Sym)) {
    return fail(ErrorCode::Parse, "ELF: symbol table entries too small");
  }
  const auto entries = sectionBytes(bytes_, *table);
  if (!entries) {
    return fail(ErrorCode::Parse, "ELF: symbol table out of bounds");
  }
  if (table->link >= sections_.size()) {
    return fail(ErrorCode::Parse, "ELF: symbol table links to a missing string table");
  }
  const auto strings = sectionBytes(bytes_, sections_[table->link]);
  if (!strings) {
    return fail(ErrorCode::Parse, "ELF: symbol string table out of bounds");
  }
  const uint64_t count = entries->size() / table->entrySize;
  if (count > kMaxSymbols) {
    return fail(ErrorCode::ResourceExhausted, "ELF: too many symbols");
  }
  std::vector<ElfFunctionSymbol> symbols;
  for (uint64_t i = 0; i < count; ++i) {
    const auto raw = *readAt<Elf64_Sym>(*entries, i * table->entrySize);
    // Undefined entries are imports: they have no address in this image.
    if (ELF64_ST_TYPE(raw.st_info) != STT_FUNC || raw.st_shndx == SHN_UNDEF || raw.st_value == 0) {
      continue;
    }
    const auto name = cString(*strings, raw.st_name);
    if (!name || name->empty()) {
      continue;
    }
    ElfFunctionSymbol symbol;
    symbol.address = raw.st_value;
    symbol.size = raw.st_size;
    symbol.name = *name;
    symbol.binding = ELF64_ST_BIND(raw.st_info);
    if (raw.st_shndx < sections_.size() && raw.st_shndx < SHN_LORESERVE) {
      const ElfSection& section = sections_[raw.st_shndx];
      const uint64_t end = section.address + section.size;
      symbol.sectionEnd = end < section.address ? UINT64_MAX : end;
    }
    symbols.push_back(symbol);
  }
  return symbols;
}

}  // namespace kprof::agent
