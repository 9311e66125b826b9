#include "common/pprof/profile_builder.hpp"

#include <chrono>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kprof::pprof {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> sampleTypeNames(const Profile& profile) {
  std::vector<std::string> names;
  for (const auto& type : profile.sample_type()) {
    names.push_back(profile.string_table(type.type()) + "/" + profile.string_table(type.unit()));
  }
  return names;
}

TEST(ProfileBuilder, StringTableStartsWithEmptyStringAndInternsOnce) {
  ProfileBuilder builder(ProfileKind::Cpu);
  EXPECT_EQ(builder.internString(""), 0);
  int64_t pod = builder.internString("pod");
  EXPECT_GT(pod, 0);
  EXPECT_EQ(builder.internString("pod"), pod);
  EXPECT_NE(builder.internString("pods"), pod);

  Profile profile = std::move(builder).build();
  ASSERT_GT(profile.string_table_size(), 0);
  EXPECT_EQ(profile.string_table(0), "");
  EXPECT_EQ(profile.string_table(static_cast<int>(pod)), "pod");
  int copies = 0;
  for (const auto& text : profile.string_table()) {
    copies += text == "pod" ? 1 : 0;
  }
  EXPECT_EQ(copies, 1);
}

TEST(ProfileBuilder, PresetsNameSampleTypesAsGoAndPyroscopeDo) {
  auto check = [](ProfileKind kind,
                  std::vector<std::string> types,
                  const std::string& period,
                  const std::string& default_type) {
    Profile profile = ProfileBuilder(kind).build();
    EXPECT_EQ(sampleTypeNames(profile), types) << profileKindName(kind);
    EXPECT_EQ(profile.string_table(profile.period_type().type()) + "/" +
                  profile.string_table(profile.period_type().unit()),
              period);
    EXPECT_EQ(profile.string_table(profile.default_sample_type()), default_type);
  };
  check(ProfileKind::Cpu, {"samples/count", "cpu/nanoseconds"}, "cpu/nanoseconds", "cpu");
  check(ProfileKind::Alloc,
        {"alloc_objects/count", "alloc_space/bytes"},
        "space/bytes",
        "alloc_space");
  check(ProfileKind::Inuse,
        {"inuse_objects/count", "inuse_space/bytes"},
        "space/bytes",
        "inuse_space");
  check(
      ProfileKind::Lock, {"contentions/count", "delay/nanoseconds"}, "contentions/count", "delay");
  check(ProfileKind::Wall, {"samples/count", "wall/nanoseconds"}, "wall/nanoseconds", "wall");
}

TEST(ProfileBuilder, ProfileKindNamesRoundTrip) {
  for (ProfileKind kind : {ProfileKind::Cpu,
                           ProfileKind::Alloc,
                           ProfileKind::Inuse,
                           ProfileKind::Lock,
                           ProfileKind::Wall}) {
    EXPECT_EQ(parseProfileKind(profileKindName(kind)), kind);
  }
  EXPECT_EQ(parseProfileKind("heap"), std::nullopt);
  EXPECT_EQ(parseProfileKind(""), std::nullopt);
}

TEST(ProfileBuilder, CustomSchema) {
  ProfileBuilder builder(ProfileSchema{{{"events", "count"}}, {"events", "count"}, ""});
  Profile profile = std::move(builder).build();
  EXPECT_THAT(sampleTypeNames(profile), ElementsAre("events/count"));
  EXPECT_EQ(profile.default_sample_type(), 0);  // unset: viewers pick the last type
}

TEST(ProfileBuilder, FunctionsAreInternedByContentWithIdsFromOne) {
  ProfileBuilder builder(ProfileKind::Cpu);
  uint64_t foo = builder.addFunction({"foo", "_Z3foov", "foo.cc", 10});
  uint64_t bar = builder.addFunction({"bar", "_Z3barv", "bar.cc", 20});
  EXPECT_EQ(foo, 1u);
  EXPECT_EQ(bar, 2u);
  EXPECT_EQ(builder.addFunction({"foo", "_Z3foov", "foo.cc", 10}), foo);
  // Same name elsewhere is another function (e.g. static functions in two files).
  EXPECT_EQ(builder.addFunction({"foo", "_Z3foov", "other.cc", 10}), 3u);
  EXPECT_EQ(builder.addFunction({"foo", "_Z3foov", "foo.cc", 11}), 4u);

  Profile profile = std::move(builder).build();
  ASSERT_EQ(profile.function_size(), 4);
  const auto& first = profile.function(0);
  EXPECT_EQ(first.id(), 1u);
  EXPECT_EQ(profile.string_table(first.name()), "foo");
  EXPECT_EQ(profile.string_table(first.system_name()), "_Z3foov");
  EXPECT_EQ(profile.string_table(first.filename()), "foo.cc");
  EXPECT_EQ(first.start_line(), 10);
}

TEST(ProfileBuilder, MappingsAreInternedByContentIncludingBuildId) {
  ProfileBuilder builder(ProfileKind::Cpu);
  MappingInfo app{.memory_start = 0x400000,
                  .memory_limit = 0x500000,
                  .file_offset = 0x1000,
                  .filename = "/app/server",
                  .build_id = "abc123",
                  .has_functions = true};
  uint64_t id = builder.addMapping(app);
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(builder.addMapping(app), id);
  MappingInfo rebuilt = app;
  rebuilt.build_id = "def456";
  EXPECT_EQ(builder.addMapping(rebuilt), 2u);

  Profile profile = std::move(builder).build();
  ASSERT_EQ(profile.mapping_size(), 2);
  const auto& mapping = profile.mapping(0);
  EXPECT_EQ(mapping.id(), 1u);
  EXPECT_EQ(mapping.memory_start(), 0x400000u);
  EXPECT_EQ(mapping.memory_limit(), 0x500000u);
  EXPECT_EQ(mapping.file_offset(), 0x1000u);
  EXPECT_EQ(profile.string_table(mapping.filename()), "/app/server");
  EXPECT_EQ(profile.string_table(mapping.build_id()), "abc123");
  EXPECT_TRUE(mapping.has_functions());
  EXPECT_FALSE(mapping.has_line_numbers());
}

TEST(ProfileBuilder, LocationsAreInternedAndKeepInlineOrder) {
  ProfileBuilder builder(ProfileKind::Cpu);
  uint64_t mapping = builder.addMapping(
      {.memory_start = 0x1000, .memory_limit = 0x2000, .filename = "/lib/x.so", .build_id = ""});
  uint64_t inner = builder.addFunction({"inner", "", "", 0});
  uint64_t outer = builder.addFunction({"outer", "", "", 0});
  LocationInfo inlined{mapping, 0x1234, {{inner, 5, 3}, {outer, 9}}};
  auto first = builder.addLocation(inlined);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(*first, 1u);
  EXPECT_EQ(*builder.addLocation(inlined), 1u);
  EXPECT_EQ(*builder.addLocation({mapping, 0x1238, {{inner, 5}}}), 2u);

  Profile profile = std::move(builder).build();
  ASSERT_EQ(profile.location_size(), 2);
  const auto& location = profile.location(0);
  EXPECT_EQ(location.mapping_id(), mapping);
  EXPECT_EQ(location.address(), 0x1234u);
  ASSERT_EQ(location.line_size(), 2);
  EXPECT_EQ(location.line(0).function_id(), inner);
  EXPECT_EQ(location.line(0).line(), 5);
  EXPECT_EQ(location.line(0).column(), 3);
  EXPECT_EQ(location.line(1).function_id(), outer);
}

TEST(ProfileBuilder, LocationWithUnknownMappingOrFunctionIsRejected) {
  ProfileBuilder builder(ProfileKind::Cpu);
  uint64_t function = builder.addFunction({"f", "", "", 0});
  auto bad_mapping = builder.addLocation({7, 0x10, {{function, 1}}});
  ASSERT_FALSE(bad_mapping);
  EXPECT_EQ(bad_mapping.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(bad_mapping.error().message, HasSubstr("mapping id 7"));
  auto bad_function = builder.addLocation({0, 0x10, {{function + 1, 1}}});
  ASSERT_FALSE(bad_function);
  EXPECT_THAT(bad_function.error().message, HasSubstr("function id 2"));
  EXPECT_EQ(std::move(builder).build().location_size(), 0);
}

class SampleTest : public ::testing::Test {
 protected:
  SampleTest() {
    uint64_t f = builder_.addFunction({"f", "", "", 0});
    uint64_t g = builder_.addFunction({"g", "", "", 0});
    leaf_ = *builder_.addLocation({0, 0x10, {{f, 1}}});
    caller_ = *builder_.addLocation({0, 0x20, {{g, 2}}});
  }
  ProfileBuilder builder_{ProfileKind::Cpu};
  uint64_t leaf_ = 0;
  uint64_t caller_ = 0;
};

TEST_F(SampleTest, SameStackAndLabelsAreSummedIntoOneSample) {
  std::vector<uint64_t> stack{leaf_, caller_};
  std::vector<SampleLabel> labels{SampleLabel::text("pod", "a")};
  ASSERT_TRUE(builder_.addSample(stack, std::vector<int64_t>{1, 10}, labels));
  ASSERT_TRUE(builder_.addSample(stack, std::vector<int64_t>{2, 20}, labels));
  // A different label value, or the reversed stack, is a different sample.
  ASSERT_TRUE(builder_.addSample(
      stack, std::vector<int64_t>{4, 40}, std::vector<SampleLabel>{SampleLabel::text("pod", "b")}));
  ASSERT_TRUE(builder_.addSample(
      std::vector<uint64_t>{caller_, leaf_}, std::vector<int64_t>{8, 80}, labels));
  EXPECT_EQ(builder_.sampleCount(), 3u);

  Profile profile = std::move(builder_).build();
  ASSERT_EQ(profile.sample_size(), 3);
  EXPECT_THAT(profile.sample(0).location_id(), ElementsAre(leaf_, caller_));
  EXPECT_THAT(profile.sample(0).value(), ElementsAre(3, 30));
  EXPECT_THAT(profile.sample(1).value(), ElementsAre(4, 40));
  EXPECT_THAT(profile.sample(2).location_id(), ElementsAre(caller_, leaf_));
}

TEST_F(SampleTest, TextAndNumericLabelsAreInterned) {
  ASSERT_TRUE(builder_.addSample(std::vector<uint64_t>{leaf_},
                                 std::vector<int64_t>{1, 10},
                                 std::vector<SampleLabel>{
                                     SampleLabel::text("pod", "checkout-1"),
                                     SampleLabel::number("request_size", 512, "bytes"),
                                     SampleLabel::number("thread_id", 7),
                                 }));
  Profile profile = std::move(builder_).build();
  ASSERT_EQ(profile.sample_size(), 1);
  const auto& labels = profile.sample(0).label();
  ASSERT_EQ(labels.size(), 3);
  auto str = [&](int64_t index) { return profile.string_table(static_cast<int>(index)); };
  EXPECT_EQ(str(labels[0].key()), "pod");
  EXPECT_EQ(str(labels[0].str()), "checkout-1");
  EXPECT_EQ(labels[0].num_unit(), 0);
  EXPECT_EQ(str(labels[1].key()), "request_size");
  EXPECT_EQ(labels[1].str(), 0);
  EXPECT_EQ(labels[1].num(), 512);
  EXPECT_EQ(str(labels[1].num_unit()), "bytes");
  EXPECT_EQ(str(labels[2].key()), "thread_id");
  EXPECT_EQ(labels[2].num(), 7);
  EXPECT_EQ(labels[2].num_unit(), 0);
}

TEST_F(SampleTest, EmptyTextLabelValueMeansNoLabel) {
  ASSERT_TRUE(builder_.addSample(
      std::vector<uint64_t>{leaf_},
      std::vector<int64_t>{1, 10},
      std::vector<SampleLabel>{SampleLabel::text("version", ""), SampleLabel::text("pod", "a")}));
  // Without the empty label it is the same sample.
  ASSERT_TRUE(builder_.addSample(std::vector<uint64_t>{leaf_},
                                 std::vector<int64_t>{1, 10},
                                 std::vector<SampleLabel>{SampleLabel::text("pod", "a")}));
  Profile profile = std::move(builder_).build();
  ASSERT_EQ(profile.sample_size(), 1);
  ASSERT_EQ(profile.sample(0).label_size(), 1);
  EXPECT_EQ(profile.string_table(profile.sample(0).label(0).key()), "pod");
  EXPECT_THAT(profile.sample(0).value(), ElementsAre(2, 20));
}

TEST_F(SampleTest, InvalidSamplesAreRejectedWithoutSideEffects) {
  auto wrong_count = builder_.addSample(std::vector<uint64_t>{leaf_}, std::vector<int64_t>{1});
  ASSERT_FALSE(wrong_count);
  EXPECT_EQ(wrong_count.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(wrong_count.error().message, HasSubstr("1 values but the profile has 2"));

  auto unknown = builder_.addSample(std::vector<uint64_t>{leaf_, 99}, std::vector<int64_t>{1, 1});
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message, HasSubstr("location id 99"));
  EXPECT_FALSE(builder_.addSample(std::vector<uint64_t>{0}, std::vector<int64_t>{1, 1}));

  auto no_key = builder_.addSample(std::vector<uint64_t>{leaf_},
                                   std::vector<int64_t>{1, 1},
                                   std::vector<SampleLabel>{SampleLabel::text("", "x")});
  ASSERT_FALSE(no_key);
  EXPECT_THAT(no_key.error().message, HasSubstr("empty key"));
  EXPECT_EQ(builder_.sampleCount(), 0u);
}

TEST(ProfileBuilder, TimePeriodAndComments) {
  ProfileBuilder builder(ProfileKind::Cpu);
  builder.setPeriod(10'000'000);
  builder.setTime(std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}},
                  std::chrono::seconds{10});
  builder.addComment("kprof 0.1.0");
  Profile profile = std::move(builder).build();
  EXPECT_EQ(profile.period(), 10'000'000);
  EXPECT_EQ(profile.time_nanos(), int64_t{1'700'000'000} * 1'000'000'000);
  EXPECT_EQ(profile.duration_nanos(), int64_t{10} * 1'000'000'000);
  ASSERT_EQ(profile.comment_size(), 1);
  EXPECT_EQ(profile.string_table(profile.comment(0)), "kprof 0.1.0");
}

TEST(ProfileBuilder, SummedValuesSaturateInsteadOfOverflowing) {
  ProfileBuilder builder(ProfileKind::Cpu);
  uint64_t f = builder.addFunction({"f", "", "", 0});
  uint64_t at = *builder.addLocation({0, 0x10, {{f, 1}}});
  std::vector<uint64_t> stack{at};
  int64_t big = std::numeric_limits<int64_t>::max() - 1;
  ASSERT_TRUE(builder.addSample(stack, std::vector<int64_t>{big, 1}));
  ASSERT_TRUE(builder.addSample(stack, std::vector<int64_t>{big, 1}));
  Profile profile = std::move(builder).build();
  EXPECT_THAT(profile.sample(0).value(), ElementsAre(std::numeric_limits<int64_t>::max(), 2));
}

}  // namespace
}  // namespace kprof::pprof
