#include "common/pprof/merge.hpp"

#include <set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/pprof/codec.hpp"
#include "common/pprof/example_profiles.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::pprof {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000'000;

TEST(Merge, SameStacksAreSummedAndNothingIsDuplicated) {
  std::vector<Profile> inputs{examples::cpuProfile(1),
                              examples::cpuProfile(2, examples::kStartNanos + 30 * kSecond)};
  auto merged = merge(inputs);
  ASSERT_TRUE(merged) << merged.error().toString();
  ASSERT_TRUE(validate(*merged));

  const Profile& single = inputs[0];
  EXPECT_EQ(merged->sample_size(), single.sample_size());
  EXPECT_EQ(merged->location_size(), single.location_size());
  EXPECT_EQ(merged->function_size(), single.function_size());
  EXPECT_EQ(merged->mapping_size(), single.mapping_size());
  std::set<std::string> distinct(merged->string_table().begin(), merged->string_table().end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(merged->string_table_size()));

  auto totals = summarize(*merged, 0);
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->totals[0].total, 18 * 3);
  EXPECT_EQ(totals->totals[1].total, 18 * 3 * examples::kCpuPeriod);
  // Labels survive: the pod of the first sample is still there.
  ASSERT_GT(merged->sample(0).label_size(), 0);
  EXPECT_EQ(merged->string_table(merged->sample(0).label(0).str()), "checkout-7d9f-abcde");
}

TEST(Merge, TimeIsTheEarliestStartAndDurationSpansAllInputs) {
  // Inputs out of order: 10 s starting at +30 s, then 10 s starting at +0 s.
  std::vector<Profile> inputs{examples::cpuProfile(1, examples::kStartNanos + 30 * kSecond),
                              examples::cpuProfile(1, examples::kStartNanos)};
  auto merged = merge(inputs);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->time_nanos(), examples::kStartNanos);
  EXPECT_EQ(merged->duration_nanos(), 40 * kSecond);
  EXPECT_EQ(merged->period(), examples::kCpuPeriod);
}

TEST(Merge, DedupesAcrossDifferentIdNumbering) {
  // The same profile with its locations renumbered (as another producer might) merges into the
  // same locations, not duplicates.
  Profile renumbered = examples::cpuProfile();
  for (auto& location : *renumbered.mutable_location()) {
    location.set_id(location.id() + 100);
  }
  for (auto& sample : *renumbered.mutable_sample()) {
    for (auto& id : *sample.mutable_location_id()) {
      id += 100;
    }
  }
  std::vector<Profile> inputs{examples::cpuProfile(), renumbered};
  auto merged = merge(inputs);
  ASSERT_TRUE(merged) << merged.error().toString();
  EXPECT_EQ(merged->location_size(), inputs[0].location_size());
  EXPECT_EQ(merged->sample_size(), inputs[0].sample_size());
  EXPECT_THAT(merged->sample(0).value(), ElementsAre(14, 14 * examples::kCpuPeriod));
}

TEST(Merge, SamplesWithDifferentLabelsStaySeparate) {
  ProfileBuilder a(ProfileKind::Cpu);
  ProfileBuilder b(ProfileKind::Cpu);
  for (ProfileBuilder* builder : {&a, &b}) {
    uint64_t f = builder->addFunction({"f", "", "", 0});
    uint64_t at = *builder->addLocation({0, 0x10, {{f, 1}}});
    std::string_view pod = builder == &a ? "pod-a" : "pod-b";
    ASSERT_TRUE(builder->addSample(std::vector<uint64_t>{at},
                                   std::vector<int64_t>{1, 10},
                                   std::vector<SampleLabel>{SampleLabel::text("pod", pod)}));
  }
  std::vector<Profile> inputs{std::move(a).build(), std::move(b).build()};
  auto merged = merge(inputs);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->sample_size(), 2);
  EXPECT_EQ(merged->location_size(), 1);
}

TEST(Merge, DifferentSampleTypesAreRefused) {
  std::vector<Profile> inputs{examples::cpuProfile(), examples::allocProfile()};
  auto merged = merge(inputs);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(merged.error().message,
              HasSubstr("input 0 has [samples/count, cpu/nanoseconds], input 1 has "
                        "[alloc_objects/count, alloc_space/bytes]"));
}

TEST(Merge, DifferentPeriodTypesAreRefused) {
  ProfileSchema schema = schemaFor(ProfileKind::Cpu);
  schema.period_type = {"cpu", "cycles"};
  std::vector<Profile> inputs{examples::cpuProfile(), ProfileBuilder(schema).build()};
  auto merged = merge(inputs);
  ASSERT_FALSE(merged);
  EXPECT_THAT(merged.error().message, HasSubstr("different period types"));
}

TEST(Merge, NothingToMergeIsAnError) {
  auto merged = merge({});
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, ErrorCode::InvalidArgument);
}

TEST(Merge, InvalidInputIsRefusedNotFollowed) {
  Profile broken = examples::cpuProfile();
  broken.mutable_sample(0)->set_location_id(0, 999);
  std::vector<Profile> inputs{examples::cpuProfile(), broken};
  auto merged = merge(inputs);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, ErrorCode::Parse);
  EXPECT_THAT(merged.error().message, HasSubstr("merge input 1: sample 0: location id 999"));
}

TEST(Merge, SingleInputComesOutEquivalent) {
  Profile original = examples::cpuProfile();
  auto merged = merge(std::span<const Profile>(&original, 1));
  ASSERT_TRUE(merged);
  // The example is built by the same builder, so even the bytes match.
  EXPECT_EQ(*encode(*merged), *encode(original));
}

TEST(Merge, CommentsAreKeptOnceAndUntimedDurationsAdd) {
  ProfileBuilder a(ProfileKind::Wall);
  a.addComment("from agent a");
  a.setTimeNanos(0, 5 * kSecond);
  ProfileBuilder b(ProfileKind::Wall);
  b.addComment("from agent a");
  b.addComment("from agent b");
  b.setTimeNanos(0, 7 * kSecond);
  std::vector<Profile> inputs{std::move(a).build(), std::move(b).build()};
  auto merged = merge(inputs);
  ASSERT_TRUE(merged);
  std::vector<std::string> comments;
  for (int64_t comment : merged->comment()) {
    comments.push_back(merged->string_table(static_cast<int>(comment)));
  }
  EXPECT_THAT(comments, ElementsAre("from agent a", "from agent b"));
  EXPECT_EQ(merged->time_nanos(), 0);
  EXPECT_EQ(merged->duration_nanos(), 12 * kSecond);
}

}  // namespace
}  // namespace kprof::pprof
