#include "agent/symbolizer/kallsyms.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/symbolizer/test_fixtures.hpp"

namespace kprof::agent {
namespace {

// Looks up `address` after loading the names it needs, as the symbolizer does per batch.
std::string nameAt(KernelSymbols& symbols, uint64_t address) {
  const std::vector<uint64_t> batch{address};
  EXPECT_TRUE(symbols.loadNames(batch));
  const auto match = symbols.lookup(address);
  return match ? std::string(match->name) : std::string("<none>");
}

TEST(KernelSymbols, TextSymbolsReachTheNextSymbol) {
  auto table = KernelSymbols::fromText(
      "ffffffff81000000 T _text\n"
      "ffffffff81000100 t do_one_initcall\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T schedule\n"
      "ffffffffc0a01000 t nft_do_chain\t[nf_tables]\n");
  ASSERT_TRUE(table) << table.error().toString();
  EXPECT_EQ(table->size(), 4u);
  EXPECT_EQ(nameAt(*table, 0xffffffff81000150), "do_one_initcall");
  // Data symbols are not boundaries: do_one_initcall reaches schedule.
  EXPECT_EQ(nameAt(*table, 0xffffffff81000250), "do_one_initcall");
  EXPECT_EQ(nameAt(*table, 0xffffffff81000310), "schedule");
  EXPECT_EQ(nameAt(*table, 0xffffffffc0a01000), "nft_do_chain");
  EXPECT_EQ(nameAt(*table, 0xffffffff80ffffff), "<none>");
  const auto match = table->lookup(0xffffffff81000150);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->start, 0xffffffff81000100u);
  EXPECT_EQ(match->end, 0xffffffff81000300u);
}

TEST(KernelSymbols, NamesAreOnlyKnownOnceLoaded) {
  auto table = KernelSymbols::fromText("ffffffff81000000 T _text\nffffffff81000300 T schedule\n");
  ASSERT_TRUE(table);
  EXPECT_FALSE(table->lookup(0xffffffff81000010));
  EXPECT_EQ(nameAt(*table, 0xffffffff81000010), "_text");
}

TEST(KernelSymbols, AliasesAtOneAddressTakeTheFirstName) {
  auto table = KernelSymbols::fromText(
      "ffffffff81000000 T _text\nffffffff81000000 T startup_64\nffffffff81000300 T schedule\n");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(nameAt(*table, 0xffffffff81000000), "_text");
}

TEST(KernelSymbols, AllZeroAddressesMeanRestrictedNotGarbage) {
  auto table = KernelSymbols::fromText(
      "0000000000000000 T _text\n"
      "0000000000000000 t do_one_initcall\n"
      "0000000000000000 T schedule\n");
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code, ErrorCode::Unavailable);
}

TEST(KernelSymbols, EmptyOrMalformedTextIsAParseError) {
  EXPECT_EQ(KernelSymbols::fromText("").error().code, ErrorCode::Parse);
  EXPECT_EQ(KernelSymbols::fromText("garbage\nmore garbage\n").error().code, ErrorCode::Parse);
}

// A module loaded after indexing shifts the lines; names must still come out right.
TEST(KernelSymbols, ReindexesWhenTheFileChangedUnderneath) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "kallsyms";
  testing::writeText(path,
                     "ffffffff81000000 T _text\n"
                     "ffffffff81000300 T schedule\n"
                     "ffffffff81000400 T after_schedule\n");
  auto table = KernelSymbols::fromFile(path.string(), 1 << 20);
  ASSERT_TRUE(table);
  testing::writeText(path,
                     "ffffffff80000000 T early_thing\n"
                     "ffffffff81000000 T _text\n"
                     "ffffffff81000300 T schedule\n"
                     "ffffffff81000400 T after_schedule\n");
  EXPECT_EQ(nameAt(*table, 0xffffffff81000310), "schedule");
  EXPECT_EQ(nameAt(*table, 0xffffffff80000010), "early_thing");
}

// The file is read through a 64 KiB buffer; symbols whose lines straddle a buffer boundary, and a
// last line without a newline, must come out whole.
TEST(KernelSymbols, StreamsAFileLargerThanItsBufferWithoutLosingLines) {
  testing::ScratchDir dir;
  std::string text;
  const int count = 20000;  // about 600 KB: many buffer boundaries
  auto addressOf = [](int i) { return 0xffffffff81000000ULL + 0x100ULL * static_cast<unsigned>(i); };
  for (int i = 0; i < count; ++i) {
    char line[64];
    std::snprintf(line, sizeof(line), "%016llx T kernel_function_%05d\n",
                  static_cast<unsigned long long>(addressOf(i)), i);
    text += line;
  }
  text += "ffffffff8f000000 T last_without_newline";
  const auto path = dir.path() / "kallsyms";
  testing::writeText(path, text);

  auto table = KernelSymbols::fromFile(path.string(), size_t{64} << 20);
  ASSERT_TRUE(table) << table.error().toString();
  EXPECT_EQ(table->size(), static_cast<size_t>(count) + 1);
  std::vector<uint64_t> batch;
  const std::vector<int> probes{0, 2184, 2185, 9999, count - 1};
  for (int i : probes) {
    batch.push_back(addressOf(i));
  }
  batch.push_back(0xffffffff8f000000ULL);
  ASSERT_TRUE(table->loadNames(batch));
  for (int i : probes) {
    char expected[32];
    std::snprintf(expected, sizeof(expected), "kernel_function_%05d", i);
    const auto match = table->lookup(addressOf(i));
    ASSERT_TRUE(match) << i;
    EXPECT_EQ(match->name, expected);
  }
  EXPECT_EQ(table->lookup(0xffffffff8f000000ULL)->name, "last_without_newline");
  // The index is 12 bytes a symbol; names are held only for the six looked up.
  EXPECT_LT(table->memoryBytes(), static_cast<size_t>(count + 1) * 12 + 6 * 100);
}

TEST(KernelSymbols, AFileOverTheLimitIsRefusedAndAMissingOneNamed) {
  testing::ScratchDir dir;
  const auto path = dir.path() / "kallsyms";
  testing::writeText(path, std::string(200000, 'x'));
  EXPECT_EQ(KernelSymbols::fromFile(path.string(), 100000).error().code,
            ErrorCode::ResourceExhausted);
  const auto missing = KernelSymbols::fromFile((dir.path() / "absent").string(), 100000);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("absent"), std::string::npos);
}

}  // namespace
}  // namespace kprof::agent
