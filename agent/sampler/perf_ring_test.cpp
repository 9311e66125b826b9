#include "agent/sampler/perf_ring.hpp"

#include <cstring>

#include <linux/perf_event.h>

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

// Builds a record the way the kernel lays it out: header, then the fields in order.
class RecordBuilder {
 public:
  explicit RecordBuilder(uint32_t type) : type_(type) { bytes_.resize(sizeof(perf_event_header)); }

  template <typename T>
  RecordBuilder& put(T value) {
    size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
    return *this;
  }

  std::vector<std::byte> build() const {
    std::vector<std::byte> out = bytes_;
    perf_event_header header{type_, 0, static_cast<uint16_t>(out.size())};
    std::memcpy(out.data(), &header, sizeof(header));
    return out;
  }

 private:
  uint32_t type_;
  std::vector<std::byte> bytes_;
};

TEST(ParseSampleRecordTest, ReadsTidTimeAndCallchain) {
  std::vector<std::byte> record = RecordBuilder(PERF_RECORD_SAMPLE)
                                      .put<uint32_t>(100)
                                      .put<uint32_t>(101)
                                      .put<uint64_t>(123456789)
                                      .put<uint64_t>(3)
                                      .put<uint64_t>(static_cast<uint64_t>(PERF_CONTEXT_USER))
                                      .put<uint64_t>(0x401000)
                                      .put<uint64_t>(0x402000)
                                      .build();
  std::optional<PerfSample> sample = parseSampleRecord(record);
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->pid, 100u);
  EXPECT_EQ(sample->tid, 101u);
  EXPECT_EQ(sample->time_ns, 123456789u);
  EXPECT_EQ(sample->callchain,
            (std::vector<uint64_t>{static_cast<uint64_t>(PERF_CONTEXT_USER), 0x401000, 0x402000}));
}

TEST(ParseSampleRecordTest, RejectsCallchainLongerThanTheRecord) {
  std::vector<std::byte> record = RecordBuilder(PERF_RECORD_SAMPLE)
                                      .put<uint32_t>(100)
                                      .put<uint32_t>(101)
                                      .put<uint64_t>(1)
                                      .put<uint64_t>(1000)  // claims 1000 frames
                                      .put<uint64_t>(0x401000)
                                      .build();
  EXPECT_FALSE(parseSampleRecord(record).has_value());
}

TEST(ParseSampleRecordTest, RejectsTruncatedAndForeignRecords) {
  std::vector<std::byte> truncated = RecordBuilder(PERF_RECORD_SAMPLE).put<uint32_t>(100).build();
  EXPECT_FALSE(parseSampleRecord(truncated).has_value());
  std::vector<std::byte> lost =
      RecordBuilder(PERF_RECORD_LOST).put<uint64_t>(1).put<uint64_t>(9).build();
  EXPECT_FALSE(parseSampleRecord(lost).has_value());
  EXPECT_FALSE(parseSampleRecord({}).has_value());
}

TEST(ParseLostRecordTest, ReadsTheLostCount) {
  std::vector<std::byte> lost =
      RecordBuilder(PERF_RECORD_LOST).put<uint64_t>(1).put<uint64_t>(9).build();
  EXPECT_EQ(parseLostRecord(lost), 9u);
  std::vector<std::byte> sample = RecordBuilder(PERF_RECORD_SAMPLE).put<uint64_t>(0).build();
  EXPECT_EQ(parseLostRecord(sample), std::nullopt);
}

}  // namespace
}  // namespace kprof::agent
