#include "common/metrics/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>

namespace kprof::metrics {
namespace {

// A stat line whose command name holds a space and a ')', as a hostile process name can.
constexpr std::string_view kStat =
    "4242 (kprof a)b) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 3 0 1000 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
constexpr std::string_view kStatm = "25600 2560 300 10 0 1000 0\n";

TEST(ProcessStat, ParsesCpuTimeMemoryAndStartTime) {
  auto sample = parseProcessStat(kStat, kStatm, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(sample) << sample.error().toString();
  EXPECT_DOUBLE_EQ(sample->cpu_seconds, 3.0);  // (250 + 50) ticks at 100 Hz
  EXPECT_DOUBLE_EQ(sample->resident_bytes, 2560.0 * 4096);
  EXPECT_DOUBLE_EQ(sample->virtual_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(sample->start_time_seconds, 1'700'000'010.0);
}

TEST(ProcessStat, RejectsTruncatedInput) {
  EXPECT_FALSE(parseProcessStat("4242 (kprof) S 1 2", kStatm, 100, 4096, 0));
  EXPECT_FALSE(parseProcessStat("no parenthesis", kStatm, 100, 4096, 0));
  EXPECT_FALSE(parseProcessStat(kStat, "", 100, 4096, 0));
}

TEST(MetricsRegistry, RendersCountersAndProcessMetricsAsPrometheusText) {
  MetricsRegistry metrics;
  auto& uploads = prometheus::BuildCounter()
                      .Name("kprof_uploads_total")
                      .Help("Profiles uploaded.")
                      .Register(metrics.registry());
  uploads.Add({{"target", "pyroscope"}}).Increment(2);

  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE kprof_uploads_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("kprof_uploads_total{target=\"pyroscope\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("process_cpu_seconds_total "), std::string::npos) << text;
}

TEST(ProcessStat, ReadsThisProcess) {
  auto sample = readSelf();
  ASSERT_TRUE(sample) << sample.error().toString();
  EXPECT_GT(sample->resident_bytes, 0);
  EXPECT_GT(sample->open_fds, 2);  // at least stdin, stdout, stderr
}

}  // namespace
}  // namespace kprof::metrics
