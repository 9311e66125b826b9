#include "common/pprof/codec.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/pprof/example_profiles.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::pprof {
namespace {

using ::testing::HasSubstr;

std::string encoded(const Profile& profile) {
  auto bytes = encode(profile);
  EXPECT_TRUE(bytes) << bytes.error().toString();
  return bytes ? *bytes : std::string();
}

std::string gzipped(const Profile& profile) {
  auto bytes = encodeGzip(profile);
  EXPECT_TRUE(bytes) << bytes.error().toString();
  return bytes ? *bytes : std::string();
}

TEST(Codec, RawAndGzipRoundTrip) {
  Profile original = examples::cpuProfile();
  std::string raw = encoded(original);
  for (const std::string& bytes : {raw, gzipped(original)}) {
    auto decoded = decode(bytes);
    ASSERT_TRUE(decoded) << decoded.error().toString();
    EXPECT_EQ(encoded(*decoded), raw);
    EXPECT_EQ(decoded->sample_size(), original.sample_size());
  }
}

TEST(Codec, GzipHeaderHasNoTimestampOrName) {
  std::string bytes = gzipped(examples::cpuProfile());
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_TRUE(isGzip(bytes));
  EXPECT_EQ(static_cast<unsigned char>(bytes[2]), 8);   // deflate
  EXPECT_EQ(bytes[3], 0);                               // flags: no name, comment or extra
  EXPECT_EQ(bytes.substr(4, 4), std::string(4, '\0'));  // mtime 0
  EXPECT_LT(bytes.size(), encoded(examples::cpuProfile()).size());
}

TEST(Codec, ConcatenatedGzipMembersDecodeAsOneStream) {
  std::string raw = encoded(examples::cpuProfile());
  size_t half = raw.size() / 2;
  std::string two_members = *gzip(raw.substr(0, half)) + *gzip(raw.substr(half));
  auto decoded = decode(two_members);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(encoded(*decoded), raw);
}

TEST(Codec, EmptyInputIsAParseError) {
  auto decoded = decode("");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::Parse);
  EXPECT_THAT(decoded.error().message, HasSubstr("empty"));
}

TEST(Codec, TruncatedRawProfileIsAParseError) {
  std::string raw = encoded(examples::cpuProfile());
  for (size_t keep : {raw.size() - 1, raw.size() / 2, size_t{3}}) {
    auto decoded = decode(raw.substr(0, keep));
    ASSERT_FALSE(decoded) << "kept " << keep << " bytes";
    EXPECT_EQ(decoded.error().code, ErrorCode::Parse);
  }
}

TEST(Codec, TruncatedGzipIsAParseError) {
  std::string bytes = gzipped(examples::cpuProfile());
  auto decoded = decode(bytes.substr(0, bytes.size() - 6));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::Parse);
  EXPECT_THAT(decoded.error().message, HasSubstr("truncated gzip"));
}

TEST(Codec, CorruptGzipIsAParseError) {
  std::string bytes = gzipped(examples::cpuProfile());
  bytes[3] = static_cast<char>(0xE0);  // reserved header flag bits
  auto bad_header = decode(bytes);
  ASSERT_FALSE(bad_header);
  EXPECT_EQ(bad_header.error().code, ErrorCode::Parse);
  EXPECT_THAT(bad_header.error().message, HasSubstr("corrupt gzip"));

  std::string bad_crc = gzipped(examples::cpuProfile());
  bad_crc[bad_crc.size() - 5] ^= 0x55;  // the CRC32 in the trailer
  auto decoded = decode(bad_crc);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::Parse);

  auto trailing = decode(gzipped(examples::cpuProfile()) + "junk");
  ASSERT_FALSE(trailing);
  EXPECT_THAT(trailing.error().message, HasSubstr("after the end of the gzip stream"));
}

TEST(Codec, GzipBombIsRefusedAtTheLimit) {
  // 64 MiB of zeros compress to about 64 KiB.
  std::string bomb = *gzip(std::string(size_t{64} << 20, '\0'));
  ASSERT_LT(bomb.size(), size_t{1} << 20);
  auto decoded = decode(bomb, DecodeLimits{.max_decoded_bytes = size_t{4} << 20});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::ResourceExhausted);
  EXPECT_THAT(decoded.error().message, HasSubstr("more than 4194304 bytes"));

  // Exactly at the limit is fine; one byte over is not.
  std::string payload = std::string(1000, 'x');
  EXPECT_TRUE(gunzip(*gzip(payload), 1000));
  auto over = gunzip(*gzip(payload), 999);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::ResourceExhausted);
}

TEST(Codec, RawInputOverTheLimitIsRefused) {
  std::string raw = encoded(examples::cpuProfile());
  auto decoded = decode(raw, DecodeLimits{.max_decoded_bytes = raw.size() - 1});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::ResourceExhausted);
  EXPECT_TRUE(decode(raw, DecodeLimits{.max_decoded_bytes = raw.size()}));
}

TEST(Codec, StringsNeedNotBeUtf8) {
  // Symbol names and paths come from binaries and file systems, which do not promise UTF-8.
  ProfileBuilder builder(ProfileKind::Cpu);
  const std::string latin1_name = "caf\xe9::brew()";
  uint64_t function = builder.addFunction({latin1_name, "", "/src/\xff\xfe.cc", 0});
  uint64_t location = *builder.addLocation({0, 0x10, {{function, 1}}});
  ASSERT_TRUE(builder.addSample(std::vector<uint64_t>{location}, std::vector<int64_t>{1, 10}));
  auto decoded = decode(gzipped(std::move(builder).build()));
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(decoded->string_table(static_cast<int>(decoded->function(0).name())), latin1_name);
}

TEST(Codec, NotAProfileIsAParseError) {
  auto decoded = decode("hello, this is not a profile");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::Parse);
}

// Each case breaks one rule of the format in an otherwise valid profile and expects decode to
// name it.
struct InvalidCase {
  const char* name;
  void (*breakIt)(Profile&);
  const char* message;

  friend void PrintTo(const InvalidCase& c, std::ostream* out) { *out << c.name; }
};

class DecodeInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(DecodeInvalid, NamesTheBrokenElement) {
  Profile profile = examples::cpuProfile();
  GetParam().breakIt(profile);
  auto decoded = decode(encoded(profile));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::Parse);
  EXPECT_THAT(decoded.error().message, HasSubstr("invalid profile"));
  EXPECT_THAT(decoded.error().message, HasSubstr(GetParam().message));
  Status direct = validate(profile);
  ASSERT_FALSE(direct);
  EXPECT_THAT(direct.error().message, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Codec,
    DecodeInvalid,
    ::testing::Values(
        InvalidCase{"NonEmptyFirstString",
                    [](Profile& p) { p.set_string_table(0, "x"); },
                    "string_table[0] must be the empty string"},
        InvalidCase{"NoStringTable",
                    [](Profile& p) { p.clear_string_table(); },
                    "string_table[0] must be the empty string"},
        InvalidCase{"FunctionNamePastTable",
                    [](Profile& p) { p.mutable_function(1)->set_name(1000); },
                    "function 2 name: string index 1000 out of range"},
        InvalidCase{"NegativeStringIndex",
                    [](Profile& p) { p.mutable_mapping(0)->set_build_id(-1); },
                    "mapping 1 build_id: string index -1 out of range"},
        InvalidCase{"LabelKeyPastTable",
                    [](Profile& p) { p.mutable_sample(0)->mutable_label(0)->set_key(1 << 20); },
                    "sample 0 label key"},
        InvalidCase{"SampleTypePastTable",
                    [](Profile& p) { p.mutable_sample_type(1)->set_unit(500); },
                    "sample_type 1 unit"},
        InvalidCase{"CommentPastTable", [](Profile& p) { p.set_comment(0, 77); }, "comment 0"},
        InvalidCase{"UnknownLocation",
                    [](Profile& p) { p.mutable_sample(2)->set_location_id(0, 42); },
                    "sample 2: location id 42 not found"},
        InvalidCase{"UnknownMapping",
                    [](Profile& p) { p.mutable_location(0)->set_mapping_id(9); },
                    "location 1: mapping id 9 not found"},
        InvalidCase{"UnknownFunction",
                    [](Profile& p) { p.mutable_location(3)->mutable_line(1)->set_function_id(31); },
                    "location 4: function id 31 not found"},
        InvalidCase{"DuplicateLocationId",
                    [](Profile& p) { p.mutable_location(1)->set_id(1); },
                    "location id 1 is used twice"},
        InvalidCase{"ZeroFunctionId",
                    [](Profile& p) { p.mutable_function(0)->set_id(0); },
                    "function 0 has id 0"},
        InvalidCase{"TooFewValues",
                    [](Profile& p) { p.mutable_sample(1)->mutable_value()->RemoveLast(); },
                    "sample 1: has 1 values but the profile has 2 sample types"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Codec, ArbitraryNonzeroIdsAreValid) {
  // Some producers use addresses as ids; only uniqueness and references matter.
  Profile profile = examples::cpuProfile();
  auto renumber = [](uint64_t id) { return id * 1000 + 7; };
  for (auto& location : *profile.mutable_location()) {
    location.set_id(renumber(location.id()));
  }
  for (auto& sample : *profile.mutable_sample()) {
    for (auto& id : *sample.mutable_location_id()) {
      id = renumber(id);
    }
  }
  auto decoded = decode(encoded(profile));
  ASSERT_TRUE(decoded) << decoded.error().toString();
  auto summary = summarize(*decoded, 1);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->functions.front().name, "checkout::parseJson(std::string_view)");
}

TEST(Codec, CorruptedBytesNeverCrash) {
  // A deterministic sweep of single-byte corruptions over both encodings; each decode must
  // return (a profile or an error) and any profile it returns must summarize. The fuzz target
  // explores far more; this keeps the property in every unit test run.
  Profile profile = examples::cpuProfile();
  for (const std::string& original : {encoded(profile), gzipped(profile)}) {
    for (size_t i = 0; i < original.size(); ++i) {
      for (unsigned char flip : {0x01, 0x80, 0xff}) {
        std::string bytes = original;
        bytes[i] = static_cast<char>(static_cast<unsigned char>(bytes[i]) ^ flip);
        auto decoded = decode(bytes);
        if (decoded && decoded->sample_type_size() > 0) {
          EXPECT_TRUE(summarize(*decoded, 0)) << "byte " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kprof::pprof
