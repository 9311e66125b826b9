#include "agent/symbolizer/kallsyms.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(ParseKallsyms, TextSymbolsReachTheNextSymbol) {
  auto table = parseKallsyms(
      "ffffffff81000000 T _text\n"
      "ffffffff81000100 t do_one_initcall\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T schedule\n"
      "ffffffffc0a01000 t nft_do_chain\t[nf_tables]\n");
  ASSERT_TRUE(table) << table.error().toString();
  EXPECT_EQ(table->size(), 4u);
  EXPECT_EQ(table->lookup(0xffffffff81000150)->name, "do_one_initcall");
  // Data symbols are not boundaries: do_one_initcall reaches schedule.
  EXPECT_EQ(table->lookup(0xffffffff81000250)->name, "do_one_initcall");
  EXPECT_EQ(table->lookup(0xffffffff81000310)->name, "schedule");
  EXPECT_EQ(table->lookup(0xffffffffc0a01000)->name, "nft_do_chain");
  EXPECT_FALSE(table->lookup(0xffffffff80ffffff));
}

TEST(ParseKallsyms, AllZeroAddressesMeanRestrictedNotGarbage) {
  auto table = parseKallsyms(
      "0000000000000000 T _text\n"
      "0000000000000000 t do_one_initcall\n"
      "0000000000000000 T schedule\n");
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code, ErrorCode::Unavailable);
}

TEST(ParseKallsyms, EmptyOrMalformedTextIsAParseError) {
  EXPECT_EQ(parseKallsyms("").error().code, ErrorCode::Parse);
  EXPECT_EQ(parseKallsyms("garbage\nmore garbage\n").error().code, ErrorCode::Parse);
}

}  // namespace
}  // namespace kprof::agent
