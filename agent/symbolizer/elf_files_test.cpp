// The ELF reader and file access over real binaries: the test binary, libc, a non-PIE program,
// its stripped copies and debug file, and corrupted copies of them.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include <elf.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/file_access.hpp"
#include "agent/symbolizer/module_symbols.hpp"
#include "agent/symbolizer/test_fixtures.hpp"

namespace kprof::agent {
namespace {

using testing::readBytes;
using testing::ScratchDir;
using testing::writeBytes;

const std::string kTarget = KPROF_NOPIE_TARGET;

struct LoadedElf {
  MappedFile file;
  ElfImage image;
};

LoadedElf load(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_GE(fd.get(), 0) << path;
  auto file = MappedFile::map(fd.get(), uint64_t{1} << 30);
  EXPECT_TRUE(file) << path << ": " << file.error().toString();
  auto image = ElfImage::parse(file->bytes());
  EXPECT_TRUE(image) << path << ": " << image.error().toString();
  return LoadedElf{std::move(file).value(), std::move(image).value()};
}

TEST(ElfFiles, TheTestBinaryIsAPieWithSymbolsAndABuildId) {
  const auto elf = load("/proc/self/exe");
  EXPECT_EQ(elf.image.fileType(), ElfFileType::Dynamic);
  EXPECT_TRUE(elf.image.hasSymtab());
  EXPECT_EQ(elf.image.buildId().size(), 40u);  // SHA-1, ld's default
  EXPECT_FALSE(elf.image.loadSegments().empty());
  const ModuleSymbols module = loadModuleSymbols(elf.image, nullptr);
  EXPECT_GT(module.symbols.size(), 1000u);
  EXPECT_EQ(module.symbolSource, ".symtab");
}

TEST(ElfFiles, LibcExportsItsFunctionsThroughDynsym) {
  const auto elf = load("/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(elf.image.fileType(), ElfFileType::Dynamic);
  auto symbols = elf.image.functionSymbols(ElfImage::kDynsym);
  ASSERT_TRUE(symbols);
  bool sawGetpid = false;
  for (const auto& symbol : *symbols) {
    sawGetpid = sawGetpid || symbol.name == "getpid";
  }
  EXPECT_TRUE(sawGetpid);
  EXPECT_FALSE(elf.image.buildId().empty());
}

TEST(ElfFiles, NonPieTargetAndItsStrippedCopies) {
  const auto full = load(kTarget);
  const auto stripped = load(kTarget + ".stripped");
  const auto linked = load(kTarget + ".linked");
  const auto debug = load(kTarget + ".debug");
  EXPECT_EQ(full.image.fileType(), ElfFileType::Executable);
  EXPECT_TRUE(full.image.hasSymtab());
  EXPECT_FALSE(stripped.image.hasSymtab());
  EXPECT_EQ(stripped.image.buildId(), full.image.buildId());
  EXPECT_TRUE(debug.image.hasSymtab());
  EXPECT_EQ(debug.image.buildId(), full.image.buildId());
  // The debug-link copy has no build id, so its debug file is recognized by CRC.
  EXPECT_EQ(linked.image.buildId(), "");
  ASSERT_TRUE(linked.image.debugLink());
  EXPECT_EQ(linked.image.debugLink()->fileName,
            std::filesystem::path(kTarget + ".debug").filename().string());
  const auto debugBytes = debug.file.bytes();
  EXPECT_EQ(linked.image.debugLink()->crc,
            crc32(0, reinterpret_cast<const Bytef*>(debugBytes.data()), debugBytes.size()));
  // Only .symtab names the non-exported function; the stripped copy cannot.
  const auto names = [](const ModuleSymbols& module) {
    std::vector<std::string> out;
    module.symbols.forEach(
        [&](uint64_t, uint64_t, std::string_view name) { out.emplace_back(name); });
    return out;
  };
  const std::string spinWork = "_ZN12kprof_target8spinWorkEi";
  EXPECT_THAT(names(loadModuleSymbols(full.image, nullptr)), ::testing::Contains(spinWork));
  EXPECT_THAT(names(loadModuleSymbols(stripped.image, nullptr)),
              ::testing::Not(::testing::Contains(spinWork)));
  // Segments survive stripping: the same addresses translate the same way.
  ASSERT_EQ(full.image.loadSegments().size(), stripped.image.loadSegments().size());
  for (size_t i = 0; i < full.image.loadSegments().size(); ++i) {
    EXPECT_EQ(full.image.loadSegments()[i].virtualAddress,
              stripped.image.loadSegments()[i].virtualAddress);
    EXPECT_EQ(full.image.loadSegments()[i].fileOffset, stripped.image.loadSegments()[i].fileOffset);
  }
}

// Parses `bytes` as far as it goes; only a crash or a sanitizer report fails the test.
void parseEverything(std::span<const std::byte> bytes) {
  auto image = ElfImage::parse(bytes);
  if (!image) {
    return;
  }
  (void)image->functionSymbols(ElfImage::kSymtab);
  (void)image->functionSymbols(ElfImage::kDynsym);
  const ModuleSymbols module = loadModuleSymbols(*image, nullptr);
  (void)module.symbols.lookup(0x401000);
}

TEST(ElfFiles, TruncatedRealBinariesAreErrorsNotCrashes) {
  for (const std::string& path : {kTarget, kTarget + ".debug", kTarget + ".stripped"}) {
    const auto bytes = readBytes(path);
    ASSERT_FALSE(bytes.empty());
    size_t parsed = 0;
    for (size_t size = 0; size < bytes.size(); size += 61) {
      parseEverything(std::span(bytes).first(size));
      parsed += ElfImage::parse(std::span(bytes).first(size)) ? 1 : 0;
    }
    // The section table sits at the end: almost every truncation loses it and must fail.
    EXPECT_LT(parsed, bytes.size() / 61 / 2) << path;
  }
}

TEST(ElfFiles, CorruptedRealBinariesAreErrorsNotCrashes) {
  const auto clean = readBytes(kTarget);
  std::mt19937 random(12345);
  std::uniform_int_distribution<size_t> position(0, clean.size() - 1);
  std::uniform_int_distribution<int> value(0, 255);
  const auto sectionTable = ElfImage::parse(clean)->sections().size();
  ASSERT_GT(sectionTable, 0u);
  for (int round = 0; round < 2000; ++round) {
    auto bytes = clean;
    const int flips = 1 + round % 8;
    for (int i = 0; i < flips; ++i) {
      // Aim half the damage at the headers, where it matters most.
      const size_t at = round % 2 == 0 ? position(random) % 64 : position(random);
      bytes[at] = static_cast<std::byte>(value(random));
    }
    parseEverything(bytes);
  }
  // The section header table itself, overwritten with 0xff.
  auto bytes = clean;
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(header.e_shoff), bytes.end(), std::byte{0xff});
  parseEverything(bytes);
}

TEST(MappedFile, RefusesLargeEmptyAndNonRegularFiles) {
  ScratchDir dir;
  const auto small = dir.path() / "small";
  const auto empty = dir.path() / "empty";
  writeBytes(small, "0123456789", 10);
  writeBytes(empty, "", 0);
  UniqueFd smallFd(::open(small.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd emptyFd(::open(empty.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd dirFd(::open(dir.path().c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(MappedFile::map(smallFd.get(), 9).error().code, ErrorCode::ResourceExhausted);
  auto mapped = MappedFile::map(smallFd.get(), 10);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->bytes().size(), 10u);
  EXPECT_FALSE(MappedFile::map(emptyFd.get(), 100));
  EXPECT_EQ(MappedFile::map(dirFd.get(), 100).error().code, ErrorCode::InvalidArgument);
}

TEST(OpenInRoot, AbsoluteSymlinksResolveInsideTheRoot) {
  ScratchDir dir;
  const auto root = dir.path() / "root";
  writeBytes(root / "usr/lib/libreal.so", "inside", 6);
  std::filesystem::create_directories(root / "lib");
  // In the container, /lib/libalias.so → /usr/lib/libreal.so; on the host that path is elsewhere.
  std::filesystem::create_symlink("/usr/lib/libreal.so", root / "lib/libalias.so");
  auto fd = openInRoot(root.string(), "/lib/libalias.so");
  ASSERT_TRUE(fd) << fd.error().toString();
  char buffer[6];
  ASSERT_EQ(::read(fd->get(), buffer, sizeof(buffer)), 6);
  EXPECT_EQ(std::string(buffer, 6), "inside");
  // ".." cannot climb out of the root either.
  writeBytes(dir.path() / "outside", "secret", 6);
  EXPECT_FALSE(openInRoot(root.string(), "/../outside"));
  EXPECT_EQ(openInRoot(root.string(), "/missing").error().code, ErrorCode::NotFound);
  EXPECT_EQ(openInRoot((dir.path() / "nope").string(), "/x").error().code, ErrorCode::NotFound);
}

TEST(ReadTextFile, ReadsProcFilesWhoseSizeIsZeroAndHonoursTheLimit) {
  auto maps = readTextFile("/proc/self/maps", 16 << 20);
  ASSERT_TRUE(maps);
  EXPECT_NE(maps->find("[stack]"), std::string::npos);
  EXPECT_EQ(readTextFile("/proc/self/maps", 10).error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(readTextFile("/nonexistent/kprof", 10).error().code, ErrorCode::NotFound);
}

}  // namespace
}  // namespace kprof::agent
