#include "agent/symbolizer/elf_image.hpp"

#include <cstddef>
#include <cstring>
#include <functional>

#include <gtest/gtest.h>

#include "agent/symbolizer/module_symbols.hpp"
#include "agent/symbolizer/test_elf_builder.hpp"

namespace kprof::agent {
namespace {

using testing::TestElfBuilder;

// A shared-library-like image: .text at 0x1000 with two functions, a build id and a debug link.
TestElfBuilder sampleImage() {
  TestElfBuilder elf;
  const size_t text = elf.addText(0x1000, 0x100);
  elf.loadSections.push_back(text);
  elf.setBuildId({0xab, 0xcd, 0xef, 0x01, 0x23});
  elf.setDebugLink("libsample.so.debug", 0xdeadbeef);
  elf.symtab.push_back({.name = "_ZN6sample3runEv", .value = 0x1000, .size = 0x40});
  elf.symtab.push_back({.name = "local_asm", .value = 0x1040, .size = 0, .binding = STB_LOCAL});
  elf.symtab.push_back({.name = "data", .value = 0x1080, .size = 8, .type = STT_OBJECT});
  elf.symtab.push_back({.name = "imported", .value = 0, .size = 0, .section = SHN_UNDEF});
  elf.dynsym.push_back({.name = "exported", .value = 0x10c0, .size = 0x10});
  return elf;
}

ElfImage parseOrDie(const std::vector<std::byte>& bytes) {
  auto image = ElfImage::parse(bytes);
  EXPECT_TRUE(image) << image.error().toString();
  return std::move(image).value();
}

TEST(ElfImage, ReadsTypeSegmentsBuildIdAndDebugLink) {
  const auto bytes = sampleImage().build();
  const ElfImage image = parseOrDie(bytes);
  EXPECT_EQ(image.fileType(), ElfFileType::Dynamic);
  ASSERT_EQ(image.loadSegments().size(), 1u);
  EXPECT_EQ(image.loadSegments()[0].virtualAddress, 0x1000u);
  EXPECT_EQ(image.loadSegments()[0].fileSize, 0x100u);
  EXPECT_EQ(image.buildId(), "abcdef0123");
  ASSERT_TRUE(image.debugLink());
  EXPECT_EQ(image.debugLink()->fileName, "libsample.so.debug");
  EXPECT_EQ(image.debugLink()->crc, 0xdeadbeefu);
  EXPECT_TRUE(image.hasSymtab());
  ASSERT_NE(image.findSection(".text"), nullptr);
  EXPECT_EQ(image.findSection(".text")->address, 0x1000u);
}

TEST(ElfImage, ExecutableType) {
  auto elf = sampleImage();
  elf.fileType = ET_EXEC;
  const auto bytes = elf.build();
  EXPECT_EQ(parseOrDie(bytes).fileType(), ElfFileType::Executable);
}

TEST(ElfImage, FunctionSymbolsSkipDataAndUndefinedEntries) {
  const auto bytes = sampleImage().build();
  const ElfImage image = parseOrDie(bytes);
  auto symtab = image.functionSymbols(ElfImage::kSymtab);
  ASSERT_TRUE(symtab);
  ASSERT_EQ(symtab->size(), 2u);
  EXPECT_EQ((*symtab)[0].name, "_ZN6sample3runEv");
  EXPECT_EQ((*symtab)[0].sectionEnd, 0x1100u);
  EXPECT_EQ((*symtab)[1].name, "local_asm");
  auto dynsym = image.functionSymbols(ElfImage::kDynsym);
  ASSERT_TRUE(dynsym);
  ASSERT_EQ(dynsym->size(), 1u);
  EXPECT_EQ((*dynsym)[0].name, "exported");
}

TEST(ElfImage, ModuleSymbolsMergeTablesAndBoundSizeZeroSymbolsBySection) {
  const auto bytes = sampleImage().build();
  const ModuleSymbols module = loadModuleSymbols(parseOrDie(bytes), nullptr);
  EXPECT_EQ(module.buildId, "abcdef0123");
  EXPECT_EQ(module.symbolSource, ".symtab");
  EXPECT_EQ(module.symbols.lookup(0x1010)->name, "_ZN6sample3runEv");
  // local_asm has no size: it reaches the next function (exported, from .dynsym).
  EXPECT_EQ(module.symbols.lookup(0x10bf)->name, "local_asm");
  EXPECT_EQ(module.symbols.lookup(0x10c4)->name, "exported");
  EXPECT_FALSE(module.symbols.lookup(0x10d0));
}

TEST(ElfImage, BuildIdFromAProgramHeaderNoteWhenSectionsAreGone) {
  auto elf = sampleImage();
  elf.noteSegment = true;
  auto bytes = elf.build();
  // Wipe the section table pointer: only program headers remain, as in some packed binaries.
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  header.e_shoff = 0;
  header.e_shnum = 0;
  std::memcpy(bytes.data(), &header, sizeof(header));
  const ElfImage image = parseOrDie(bytes);
  EXPECT_EQ(image.buildId(), "abcdef0123");
  EXPECT_TRUE(image.sections().empty());
  EXPECT_FALSE(image.functionSymbols(ElfImage::kSymtab));
}

TEST(ElfImage, RejectsWhatIsNotALittleEndianElf64) {
  const auto bytes = sampleImage().build();
  EXPECT_EQ(ElfImage::parse({}).error().code, ErrorCode::Parse);
  EXPECT_FALSE(ElfImage::parse(std::span(bytes).first(63)));
  auto badMagic = bytes;
  badMagic[1] = std::byte{'X'};
  EXPECT_FALSE(ElfImage::parse(badMagic));
  auto elf32 = bytes;
  elf32[EI_CLASS] = std::byte{ELFCLASS32};
  EXPECT_FALSE(ElfImage::parse(elf32));
  auto bigEndian = bytes;
  bigEndian[EI_DATA] = std::byte{ELFDATA2MSB};
  EXPECT_FALSE(ElfImage::parse(bigEndian));
}

// Overwrites a field of the ELF header.
template <typename Field>
std::vector<std::byte> withHeaderField(std::vector<std::byte> bytes, size_t offset, Field value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(value));
  return bytes;
}

TEST(ElfImage, HostileHeaderTablesAreErrors) {
  const auto bytes = sampleImage().build();
  EXPECT_FALSE(ElfImage::parse(
      withHeaderField(bytes, offsetof(Elf64_Ehdr, e_shoff), uint64_t{0xfffffffffffffff0})));
  EXPECT_FALSE(
      ElfImage::parse(withHeaderField(bytes, offsetof(Elf64_Ehdr, e_shnum), uint16_t{0xfff0})));
  EXPECT_FALSE(
      ElfImage::parse(withHeaderField(bytes, offsetof(Elf64_Ehdr, e_shentsize), uint16_t{8})));
  EXPECT_FALSE(ElfImage::parse(
      withHeaderField(bytes, offsetof(Elf64_Ehdr, e_phoff), uint64_t{0xffffffffffffff00})));
  EXPECT_FALSE(
      ElfImage::parse(withHeaderField(bytes, offsetof(Elf64_Ehdr, e_phentsize), uint16_t{1})));
  // A names index past the table only loses the names.
  const auto noNames = withHeaderField(bytes, offsetof(Elf64_Ehdr, e_shstrndx), uint16_t{200});
  const ElfImage image = parseOrDie(noNames);
  EXPECT_EQ(image.findSection(".text"), nullptr);
  EXPECT_FALSE(image.debugLink());
  EXPECT_EQ(image.buildId(), "abcdef0123");  // found by section type
}

// Finds the section header of `name` in a built image and lets `edit` change it.
void editSection(std::vector<std::byte>& bytes,
                 std::string_view name,
                 const std::function<void(Elf64_Shdr&)>& edit) {
  const ElfImage image = parseOrDie(bytes);
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  for (size_t i = 0; i < image.sections().size(); ++i) {
    if (image.sections()[i].name == name) {
      Elf64_Shdr raw;
      const size_t at = header.e_shoff + i * sizeof(Elf64_Shdr);
      std::memcpy(&raw, bytes.data() + at, sizeof(raw));
      edit(raw);
      std::memcpy(bytes.data() + at, &raw, sizeof(raw));
      return;
    }
  }
  FAIL() << "no section " << name;
}

TEST(ElfImage, HostileSymbolTablesAreErrorsOrSkippedEntries) {
  const auto clean = sampleImage().build();
  {
    auto bytes = clean;
    editSection(bytes, ".symtab", [](Elf64_Shdr& s) { s.sh_size = 0xffffffffffff; });
    EXPECT_FALSE(parseOrDie(bytes).functionSymbols(ElfImage::kSymtab));
  }
  {
    auto bytes = clean;
    editSection(bytes, ".symtab", [](Elf64_Shdr& s) { s.sh_offset = 0xfffffffffffffff8; });
    EXPECT_FALSE(parseOrDie(bytes).functionSymbols(ElfImage::kSymtab));
  }
  {
    auto bytes = clean;
    editSection(bytes, ".symtab", [](Elf64_Shdr& s) { s.sh_entsize = 0; });
    EXPECT_FALSE(parseOrDie(bytes).functionSymbols(ElfImage::kSymtab));
  }
  {
    auto bytes = clean;
    editSection(bytes, ".symtab", [](Elf64_Shdr& s) { s.sh_link = 999; });
    EXPECT_FALSE(parseOrDie(bytes).functionSymbols(ElfImage::kSymtab));
  }
  {
    // A string table cut short: names that no longer end inside it are skipped.
    auto bytes = clean;
    editSection(bytes, ".strtab", [](Elf64_Shdr& s) { s.sh_size = 5; });
    auto symbols = parseOrDie(bytes).functionSymbols(ElfImage::kSymtab);
    ASSERT_TRUE(symbols);
    EXPECT_TRUE(symbols->empty());
  }
  {
    auto bytes = clean;
    editSection(bytes, ".strtab", [](Elf64_Shdr& s) { s.sh_type = SHT_NOBITS; });
    EXPECT_FALSE(parseOrDie(bytes).functionSymbols(ElfImage::kSymtab));
  }
}

TEST(ElfImage, HostileNotesAndDebugLinks) {
  const auto clean = sampleImage().build();
  {
    auto bytes = clean;
    editSection(bytes, ".note.gnu.build-id", [](Elf64_Shdr& s) { s.sh_size = 11; });
    EXPECT_EQ(parseOrDie(bytes).buildId(), "");
  }
  {
    auto bytes = clean;
    editSection(bytes, ".gnu_debuglink", [](Elf64_Shdr& s) { s.sh_size = 10; });  // no NUL, no CRC
    EXPECT_FALSE(parseOrDie(bytes).debugLink());
  }
  // A descriptor size that runs past the note area.
  const std::vector<std::byte> note = [] {
    std::vector<std::byte> out;
    TestElfBuilder::append32(out, 4);
    TestElfBuilder::append32(out, 0xffffffff);
    TestElfBuilder::append32(out, NT_GNU_BUILD_ID);
    TestElfBuilder::appendBytes(out, "GNU", 4);
    return out;
  }();
  EXPECT_EQ(findGnuBuildId(note, 4), "");
  EXPECT_EQ(findGnuBuildId({}, 4), "");
}

TEST(ElfImage, DebugLinkWithADirectoryPartIsIgnored) {
  auto elf = sampleImage();
  elf.sections.pop_back();  // the sample's debug link
  elf.setDebugLink("../../etc/passwd", 1);
  const auto bytes = elf.build();
  EXPECT_FALSE(parseOrDie(bytes).debugLink());
}

TEST(ElfImage, EveryTruncationIsAnErrorOrAConsistentImage) {
  const auto bytes = sampleImage().build();
  for (size_t size = 0; size <= bytes.size(); ++size) {
    auto image = ElfImage::parse(std::span(bytes).first(size));
    if (image) {
      (void)image->functionSymbols(ElfImage::kSymtab);
      (void)loadModuleSymbols(*image, nullptr);
    }
  }
}

TEST(DebugFileCandidates, BuildIdPathThenDebugLinkLocations) {
  EXPECT_EQ(debugFileCandidates("/usr/bin/app", "abcdef", ElfDebugLink{"app.debug", 0}),
            (std::vector<std::string>{"/usr/lib/debug/.build-id/ab/cdef.debug",
                                      "/usr/bin/app.debug",
                                      "/usr/bin/.debug/app.debug",
                                      "/usr/lib/debug/usr/bin/app.debug"}));
  EXPECT_EQ(
      debugFileCandidates("/app", "", ElfDebugLink{"app.debug", 0}),
      (std::vector<std::string>{"/app.debug", "/.debug/app.debug", "/usr/lib/debug/app.debug"}));
  EXPECT_TRUE(debugFileCandidates("/app", "", std::nullopt).empty());
}

}  // namespace
}  // namespace kprof::agent
