#include "common/pprof/summary.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/pprof/example_profiles.hpp"

namespace kprof::pprof {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> rows(const ProfileSummary& summary) {
  std::vector<std::string> out;
  for (const FunctionCost& cost : summary.functions) {
    out.push_back(cost.name + " " + std::to_string(cost.flat) + " " + std::to_string(cost.cum));
  }
  return out;
}

TEST(Summary, TotalsPerSampleType) {
  auto summary = summarize(examples::cpuProfile(), 1);
  ASSERT_TRUE(summary) << summary.error().toString();
  ASSERT_EQ(summary->totals.size(), 2u);
  EXPECT_EQ(summary->totals[0].type, "samples");
  EXPECT_EQ(summary->totals[0].unit, "count");
  EXPECT_EQ(summary->totals[0].total, 18);
  EXPECT_EQ(summary->totals[1].type, "cpu");
  EXPECT_EQ(summary->totals[1].unit, "nanoseconds");
  EXPECT_EQ(summary->totals[1].total, 18 * examples::kCpuPeriod);
}

TEST(Summary, FlatGoesToTheLeafAndCumCountsEachFunctionOncePerSample) {
  // Samples of the example: parseJson (inlined into handleRequest) 7, memmove under parseJson 3,
  // handleRequest 2, walkTree recursing twice 5, serve 1; all under serve and main.
  auto summary = summarize(examples::cpuProfile(), 0);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->sample_index, 0u);
  EXPECT_THAT(rows(*summary),
              ElementsAre("checkout::parseJson(std::string_view) 7 10",
                          "checkout::walkTree(Node const*) 5 5",
                          "__memmove_avx_unaligned_erms 3 3",
                          "checkout::handleRequest(Request const&) 2 17",
                          "checkout::Server::serve() 1 18",
                          "main 0 18"));
}

TEST(Summary, CumulativeOrder) {
  auto summary = summarize(examples::cpuProfile(), 1, CostOrder::Cumulative);
  ASSERT_TRUE(summary);
  std::vector<std::string> names;
  for (const FunctionCost& cost : summary->functions) {
    names.push_back(cost.name);
  }
  // serve and main tie on cum; serve has more flat.
  EXPECT_THAT(names,
              ElementsAre("checkout::Server::serve()",
                          "main",
                          "checkout::handleRequest(Request const&)",
                          "checkout::parseJson(std::string_view)",
                          "checkout::walkTree(Node const*)",
                          "__memmove_avx_unaligned_erms"));
  EXPECT_EQ(summary->functions[0].cum, 18 * examples::kCpuPeriod);
}

TEST(Summary, UnsymbolizedFramesAreNamedByAddress) {
  auto summary = summarize(examples::allocProfile(), 1);
  ASSERT_TRUE(summary);
  EXPECT_THAT(rows(*summary),
              ElementsAre("operator new(unsigned long) 1572864 1572864",
                          "main 0 1572864",
                          "0x4050f0 0 1048576",
                          "checkout::Cache::insert(Key, Value) 0 524288"));
}

TEST(Summary, SampleIndexOutOfRange) {
  auto summary = summarize(examples::cpuProfile(), 2);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(summary.error().message, HasSubstr("the profile has 2 sample types"));
}

TEST(Summary, InvalidProfileIsAnErrorNotACrash) {
  Profile broken = examples::cpuProfile();
  broken.mutable_sample(0)->set_location_id(0, 12345);
  EXPECT_FALSE(summarize(broken, 0));
}

TEST(Summary, FindSampleIndexByNameOrDefault) {
  Profile cpu = examples::cpuProfile();
  EXPECT_EQ(*findSampleIndex(cpu, "samples"), 0u);
  EXPECT_EQ(*findSampleIndex(cpu, "cpu"), 1u);
  EXPECT_EQ(*findSampleIndex(cpu), 1u);  // default_sample_type "cpu"
  auto missing = findSampleIndex(cpu, "alloc_space");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);

  Profile no_default =
      ProfileBuilder(ProfileSchema{{{"a", "count"}, {"b", "count"}}, {"a", "count"}, ""}).build();
  EXPECT_EQ(*findSampleIndex(no_default), 1u);  // the last, as pprof viewers choose
}

}  // namespace
}  // namespace kprof::pprof
