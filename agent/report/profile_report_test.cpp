#include "agent/report/profile_report.hpp"

#include <gtest/gtest.h>

#include "agent/report/baseline.hpp"

namespace kprof::agent {
namespace {

// main → parse (3 samples), main → compress (1 sample), and one frame with no symbol.
pprof::Profile exampleProfile() {
  pprof::ProfileBuilder builder(pprof::ProfileKind::Cpu);
  builder.setPeriod(10'000'000);
  const uint64_t mapping = builder.addMapping({.memory_start = 0x400000,
                                               .memory_limit = 0x500000,
                                               .file_offset = 0x1000,
                                               .filename = "/usr/bin/shop",
                                               .build_id = "abcd"});
  auto location = [&](const char* name, uint64_t address) {
    pprof::LocationInfo info{.mapping_id = mapping, .address = address};
    if (name != nullptr) {
      info.lines.push_back({.function_id = builder.addFunction({.name = name})});
    }
    return *builder.addLocation(info);
  };
  const uint64_t main = location("main", 0x401000);
  const uint64_t parse = location("shop::parse()", 0x402000);
  const uint64_t compress = location("shop::compress()", 0x403000);
  const uint64_t unknown = location(nullptr, 0x404010);
  const uint64_t parse_stack[] = {parse, main};
  const uint64_t compress_stack[] = {compress, main};
  const uint64_t unknown_stack[] = {unknown, main};
  const int64_t three[] = {3, 30'000'000};
  const int64_t one[] = {1, 10'000'000};
  EXPECT_TRUE(builder.addSample(parse_stack, three));
  EXPECT_TRUE(builder.addSample(compress_stack, one));
  EXPECT_TRUE(builder.addSample(unknown_stack, one));
  return std::move(builder).build();
}

TEST(ProfileReport, StacksAreRootFirstAndUnresolvedFramesKeepModuleAndOffset) {
  auto stacks = stacksOf(exampleProfile(), 1);
  ASSERT_TRUE(stacks);
  ASSERT_EQ(stacks->size(), 3u);
  EXPECT_EQ((*stacks)[0].frames, (std::vector<std::string>{"main", "shop::parse()"}));
  EXPECT_EQ((*stacks)[0].value, 30'000'000);
  // 0x404010 - 0x400000 + file offset 0x1000
  EXPECT_EQ((*stacks)[2].frames, (std::vector<std::string>{"main", "shop+0x5010"}));
}

TEST(ProfileReport, TopTableShowsFlatAndCumulativeInHumanUnits) {
  auto summary = pprof::summarize(exampleProfile(), 1);
  ASSERT_TRUE(summary);
  const std::string table = formatTopTable(*summary, 2);
  EXPECT_NE(table.find("30ms   60.00%   60.00%       30ms   60.00%  shop::parse()"),
            std::string::npos)
      << table;
  EXPECT_EQ(table.find("main"), std::string::npos) << "limited to 2 rows:\n" << table;
  const auto json = summaryJson(*summary, 10);
  EXPECT_EQ(json["total"], 50'000'000);
  EXPECT_EQ(json["unit"], "nanoseconds");
  EXPECT_EQ(json["functions"][0]["name"], "shop::parse()");
  EXPECT_DOUBLE_EQ(json["functions"][0]["flat_share"].get<double>(), 0.6);
}

TEST(ProfileReport, FormatsValuesByUnit) {
  EXPECT_EQ(formatValue(1'500'000'000, "nanoseconds"), "1.50s");
  EXPECT_EQ(formatValue(3 << 20, "bytes"), "3.00MiB");
  EXPECT_EQ(formatValue(42, "count"), "42");
}

TEST(ProfileReport, DiffOrdersFunctionsByChangeOfShare) {
  pprof::ProfileSummary base;
  base.totals = {{"cpu", "nanoseconds", 100}};
  base.functions = {{"a", 50, 50}, {"b", 50, 50}};
  pprof::ProfileSummary current;
  current.totals = {{"cpu", "nanoseconds", 100}};
  current.functions = {{"a", 45, 45}, {"b", 20, 20}, {"c", 35, 35}};
  const auto changes = diffShares(base, current);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].name, "c");  // +35pp
  EXPECT_EQ(changes[1].name, "b");  // -30pp
  EXPECT_NEAR(changes[1].delta(), -0.30, 1e-9);
  EXPECT_NE(formatShareChanges(changes, 3).find("+35.00pp  c"), std::string::npos);
}

Baseline baselineOf(double cpu, double wall, double rss) {
  Baseline b;
  b.name = "main";
  b.cost = {cpu, wall, rss};
  b.profile_total = 100;
  b.top_functions = {{"hot", 75, 75}};
  b.timestamp = "2026-11-22T00:00:00Z";
  return b;
}

TEST(Baseline, GrowthOverTheThresholdIsARegression) {
  const auto result =
      compareToBaseline(baselineOf(2.0, 3.0, 100e6), baselineOf(2.6, 3.1, 90e6), 20);
  EXPECT_TRUE(result.regressed);
  EXPECT_NEAR(result.figures[0].percent, 30.0, 1e-9);
  EXPECT_TRUE(result.figures[0].over_threshold);
  EXPECT_FALSE(result.figures[1].over_threshold);
  EXPECT_LT(result.figures[2].percent, 0);
  EXPECT_NE(result.report.find("REGRESSION"), std::string::npos);
  EXPECT_FALSE(compareToBaseline(baselineOf(2, 3, 1), baselineOf(2.2, 3, 1), 20).regressed);
}

TEST(Baseline, RoundTripsThroughJsonAndRejectsOtherFiles) {
  const Baseline original = baselineOf(1.5, 2.5, 1e6);
  auto back = baselineFromJson(baselineToJson(original));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->cost.cpu_seconds, 1.5);
  EXPECT_EQ(back->top_functions[0].name, "hot");
  EXPECT_FALSE(baselineFromJson(nlohmann::json{{"name", "x"}}));
  EXPECT_FALSE(checkBaselineName("../etc/passwd"));
  EXPECT_TRUE(checkBaselineName("nightly-2026.11"));
}

}  // namespace
}  // namespace kprof::agent
