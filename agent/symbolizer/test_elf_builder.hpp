// Test support: assembles small ELF64 images byte by byte, so parser tests state exactly which
// headers, sections and symbols an image has, and can break any of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <elf.h>

namespace kprof::agent::testing {

class TestElfBuilder {
 public:
  struct Section {
    std::string name;
    uint32_t type = SHT_PROGBITS;
    uint64_t flags = 0;
    uint64_t address = 0;
    std::vector<std::byte> data;
    uint64_t nobitsSize = 0;  // size of an SHT_NOBITS section
    uint32_t link = 0;
    uint64_t alignment = 8;
    uint64_t entrySize = 0;
  };
  struct Symbol {
    std::string name;
    uint64_t value = 0;
    uint64_t size = 0;
    uint8_t type = STT_FUNC;
    uint8_t binding = STB_GLOBAL;
    uint16_t section = 1;
  };

  uint16_t fileType = ET_DYN;
  std::vector<Section> sections;  // index 0 (SHT_NULL) is added by build()
  std::vector<Symbol> symtab;
  std::vector<Symbol> dynsym;
  // PT_LOAD segments, each covering one section (1-based index) with its file bytes.
  std::vector<size_t> loadSections;
  bool noteSegment = false;  // also describe the build-id note with a PT_NOTE

  // Returns the section's ELF index (1-based).
  size_t addSection(Section section) {
    sections.push_back(std::move(section));
    return sections.size();
  }
  size_t addText(uint64_t address, size_t size) {
    return addSection({.name = ".text",
                       .flags = SHF_ALLOC | SHF_EXECINSTR,
                       .address = address,
                       .data = std::vector<std::byte>(size, std::byte{0xcc}),
                       .alignment = 16});
  }
  void setBuildId(const std::vector<uint8_t>& id) {
    std::vector<std::byte> note;
    append32(note, 4);
    append32(note, static_cast<uint32_t>(id.size()));
    append32(note, NT_GNU_BUILD_ID);
    appendBytes(note, "GNU", 4);
    appendBytes(note, id.data(), id.size());
    pad(note, 4);
    addSection({.name = ".note.gnu.build-id",
                .type = SHT_NOTE,
                .flags = SHF_ALLOC,
                .data = note,
                .alignment = 4});
  }
  void setDebugLink(const std::string& fileName, uint32_t crc) {
    std::vector<std::byte> data;
    appendBytes(data, fileName.c_str(), fileName.size() + 1);
    pad(data, 4);
    append32(data, crc);
    addSection({.name = ".gnu_debuglink", .data = data, .alignment = 4});
  }

  std::vector<std::byte> build() const {
    std::vector<Section> all = sections;
    if (!symtab.empty()) {
      addSymbolTable(all, symtab, ".symtab", ".strtab", SHT_SYMTAB);
    }
    if (!dynsym.empty()) {
      addSymbolTable(all, dynsym, ".dynsym", ".dynstr", SHT_DYNSYM);
    }
    // Section names, then the .shstrtab itself.
    std::vector<std::byte> names(1, std::byte{0});
    std::vector<uint32_t> nameOffsets;
    for (const Section& section : all) {
      nameOffsets.push_back(static_cast<uint32_t>(names.size()));
      appendBytes(names, section.name.c_str(), section.name.size() + 1);
    }
    nameOffsets.push_back(static_cast<uint32_t>(names.size()));
    appendBytes(names, ".shstrtab", 10);
    all.push_back({.name = ".shstrtab", .type = SHT_STRTAB, .data = names, .alignment = 1});

    std::vector<size_t> noteSections;
    for (size_t i = 0; i < all.size(); ++i) {
      if (noteSegment && all[i].type == SHT_NOTE) {
        noteSections.push_back(i);
      }
    }
    const size_t segmentCount = loadSections.size() + noteSections.size();
    std::vector<std::byte> image(sizeof(Elf64_Ehdr) + segmentCount * sizeof(Elf64_Phdr));
    std::vector<uint64_t> offsets;
    for (const Section& section : all) {
      pad(image, section.alignment == 0 ? 1 : section.alignment);
      offsets.push_back(image.size());
      image.insert(image.end(), section.data.begin(), section.data.end());
    }
    pad(image, 8);
    const uint64_t sectionTable = image.size();
    image.resize(image.size() + (all.size() + 1) * sizeof(Elf64_Shdr));
    for (size_t i = 0; i < all.size(); ++i) {
      const Section& section = all[i];
      Elf64_Shdr raw{};
      raw.sh_name = nameOffsets[i];
      raw.sh_type = section.type;
      raw.sh_flags = section.flags;
      raw.sh_addr = section.address;
      raw.sh_offset = offsets[i];
      raw.sh_size = section.type == SHT_NOBITS ? section.nobitsSize : section.data.size();
      raw.sh_link = section.link;
      raw.sh_addralign = section.alignment;
      raw.sh_entsize = section.entrySize;
      std::memcpy(image.data() + sectionTable + (i + 1) * sizeof(Elf64_Shdr), &raw, sizeof(raw));
    }
    size_t segment = 0;
    const auto writeSegment = [&](uint32_t type, uint32_t flags, size_t sectionIndex) {
      const Section& section = all[sectionIndex];
      Elf64_Phdr raw{};
      raw.p_type = type;
      raw.p_flags = flags;
      raw.p_offset = offsets[sectionIndex];
      raw.p_vaddr = section.address;
      raw.p_paddr = section.address;
      raw.p_filesz = section.data.size();
      raw.p_memsz = section.data.size();
      raw.p_align = type == PT_LOAD ? 0x1000 : 4;
      std::memcpy(
          image.data() + sizeof(Elf64_Ehdr) + segment++ * sizeof(Elf64_Phdr), &raw, sizeof(raw));
    };
    for (size_t index : loadSections) {
      writeSegment(PT_LOAD, PF_R | PF_X, index - 1);
    }
    for (size_t index : noteSections) {
      writeSegment(PT_NOTE, PF_R, index);
    }
    Elf64_Ehdr header{};
    std::memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_type = fileType;
    header.e_machine = EM_X86_64;
    header.e_version = EV_CURRENT;
    header.e_phoff = segmentCount == 0 ? 0 : sizeof(Elf64_Ehdr);
    header.e_shoff = sectionTable;
    header.e_ehsize = sizeof(Elf64_Ehdr);
    header.e_phentsize = sizeof(Elf64_Phdr);
    header.e_phnum = static_cast<uint16_t>(segmentCount);
    header.e_shentsize = sizeof(Elf64_Shdr);
    header.e_shnum = static_cast<uint16_t>(all.size() + 1);
    header.e_shstrndx = static_cast<uint16_t>(all.size());
    std::memcpy(image.data(), &header, sizeof(header));
    return image;
  }

  static void append32(std::vector<std::byte>& out, uint32_t value) {
    appendBytes(out, &value, sizeof(value));
  }
  static void appendBytes(std::vector<std::byte>& out, const void* data, size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    out.insert(out.end(), bytes, bytes + size);
  }
  static void pad(std::vector<std::byte>& out, uint64_t alignment) {
    while (out.size() % alignment != 0) {
      out.push_back(std::byte{0});
    }
  }

 private:
  static void addSymbolTable(std::vector<Section>& all,
                             const std::vector<Symbol>& symbols,
                             const char* tableName,
                             const char* stringsName,
                             uint32_t type) {
    std::vector<std::byte> strings(1, std::byte{0});
    std::vector<std::byte> entries(sizeof(Elf64_Sym), std::byte{0});  // entry 0 is null
    for (const Symbol& symbol : symbols) {
      Elf64_Sym raw{};
      raw.st_name = static_cast<uint32_t>(strings.size());
      raw.st_info = ELF64_ST_INFO(symbol.binding, symbol.type);
      raw.st_shndx = symbol.section;
      raw.st_value = symbol.value;
      raw.st_size = symbol.size;
      appendBytes(strings, symbol.name.c_str(), symbol.name.size() + 1);
      appendBytes(entries, &raw, sizeof(raw));
    }
    all.push_back({.name = stringsName, .type = SHT_STRTAB, .data = strings, .alignment = 1});
    const auto stringsIndex = static_cast<uint32_t>(all.size());  // ELF index: +1 for the null
    all.push_back({.name = tableName,
                   .type = type,
                   .data = entries,
                   .link = stringsIndex,
                   .alignment = 8,
                   .entrySize = sizeof(Elf64_Sym)});
  }
};

}  // namespace kprof::agent::testing
