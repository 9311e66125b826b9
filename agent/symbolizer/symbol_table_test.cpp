#include "agent/symbolizer/symbol_table.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

std::string nameAt(const SymbolTable& table, uint64_t address) {
  const auto match = table.lookup(address);
  return match ? std::string(match->name) : "<none>";
}

TEST(SymbolTable, FindsSizedSymbolsByBinarySearchInAnyInsertionOrder) {
  SymbolTableBuilder builder;
  builder.add(0x3000, 0x10, "c");
  builder.add(0x1000, 0x100, "a");
  builder.add(0x2000, 0x20, "b");
  const SymbolTable table = std::move(builder).build();
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(nameAt(table, 0xfff), "<none>");
  EXPECT_EQ(nameAt(table, 0x1000), "a");
  EXPECT_EQ(nameAt(table, 0x10ff), "a");
  EXPECT_EQ(nameAt(table, 0x1100), "<none>");  // past a's size, before b
  EXPECT_EQ(nameAt(table, 0x201f), "b");
  EXPECT_EQ(nameAt(table, 0x3010), "<none>");
  const auto match = table.lookup(0x2010);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->start, 0x2000u);
  EXPECT_EQ(match->end, 0x2020u);
}

TEST(SymbolTable, SizeZeroSymbolsReachTheNextSymbolButNotPastTheirLimit) {
  SymbolTableBuilder builder;
  builder.add(0x1000, 0, "asm_entry", /*limit=*/0x1800);
  builder.add(0x2000, 0, "asm_tail", /*limit=*/0x2400);
  builder.add(0x5000, 0, "no_limit");
  const SymbolTable table = std::move(builder).build();
  EXPECT_EQ(nameAt(table, 0x17ff), "asm_entry");
  EXPECT_EQ(nameAt(table, 0x1800), "<none>");  // section end, though the next symbol is further
  EXPECT_EQ(nameAt(table, 0x23ff), "asm_tail");
  EXPECT_EQ(nameAt(table, 0x2400), "<none>");
  EXPECT_EQ(nameAt(table, 0x5000), "no_limit");  // the last symbol without a limit: its address
  EXPECT_EQ(nameAt(table, 0x5001), "<none>");
}

TEST(SymbolTable, AliasesAtOneAddressKeepTheHighestRankThenTheFirstAdded) {
  SymbolTableBuilder builder;
  builder.add(0x1000, 8, "getpid_weak", UINT64_MAX, 1);
  builder.add(0x1000, 8, "__getpid", UINT64_MAX, 2);
  builder.add(0x1000, 8, "__getpid_second", UINT64_MAX, 2);
  builder.add(0x2000, 8, "first");
  builder.add(0x2000, 8, "second");
  const SymbolTable table = std::move(builder).build();
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(nameAt(table, 0x1004), "__getpid");
  EXPECT_EQ(nameAt(table, 0x2004), "first");
}

TEST(SymbolTable, EmptyTableAndOverflowingSizes) {
  EXPECT_FALSE(SymbolTable().lookup(0));
  SymbolTableBuilder builder;
  builder.add(UINT64_MAX - 4, 100, "wraps");
  const SymbolTable table = std::move(builder).build();
  EXPECT_EQ(nameAt(table, UINT64_MAX - 1), "wraps");
}

TEST(SymbolTable, ForEachVisitsSymbolsInAddressOrder) {
  SymbolTableBuilder builder;
  builder.add(0x20, 4, "b");
  builder.add(0x10, 4, "a");
  const SymbolTable table = std::move(builder).build();
  std::string seen;
  table.forEach([&](uint64_t start, uint64_t size, std::string_view name) {
    seen += std::string(name) + "@" + std::to_string(start) + "+" + std::to_string(size) + " ";
  });
  EXPECT_EQ(seen, "a@16+4 b@32+4 ");
  EXPECT_GT(table.memoryBytes(), 0u);
}

}  // namespace
}  // namespace kprof::agent
