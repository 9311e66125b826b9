// How long the agent spends turning an interval's samples into an upload, and the store spends
// reading one back: building, encoding (raw and gzipped) and decoding a profile of 10,000 samples
// over 2,000 locations, about what a busy service yields per 10 s interval at 100 Hz per thread.
#include <cstdlib>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

#include "common/pprof/codec.hpp"
#include "common/pprof/example_profiles.hpp"

namespace kprof::pprof {
namespace {

constexpr size_t kSamples = 10'000;
constexpr size_t kLocations = 2'000;

const Profile& benchProfile() {
  static const Profile profile = examples::syntheticProfile(ProfileKind::Cpu, kSamples, kLocations);
  return profile;
}

std::string mustEncode(Result<std::string> bytes) {
  if (!bytes) {
    std::abort();
  }
  return *std::move(bytes);
}

void setCounters(benchmark::State& state, const std::string& raw, const std::string& gzipped) {
  state.counters["raw_bytes"] = static_cast<double>(raw.size());
  state.counters["gzip_bytes"] = static_cast<double>(gzipped.size());
  state.counters["samples_per_s"] = benchmark::Counter(
      static_cast<double>(kSamples), benchmark::Counter::kIsIterationInvariantRate);
  // Throughput in serialized (uncompressed) profile bytes.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}

void BM_Build(benchmark::State& state) {
  for (auto _ : state) {
    Profile profile = examples::syntheticProfile(ProfileKind::Cpu, kSamples, kLocations);
    benchmark::DoNotOptimize(profile);
  }
  state.counters["samples_per_s"] = benchmark::Counter(
      static_cast<double>(kSamples), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Build)->Unit(benchmark::kMillisecond);

void BM_Encode(benchmark::State& state) {
  const Profile& profile = benchProfile();
  std::string raw;
  for (auto _ : state) {
    raw = mustEncode(encode(profile));
    benchmark::DoNotOptimize(raw.data());
  }
  setCounters(state, raw, mustEncode(encodeGzip(profile)));
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_EncodeGzip(benchmark::State& state) {
  const Profile& profile = benchProfile();
  std::string gzipped;
  for (auto _ : state) {
    gzipped = mustEncode(encodeGzip(profile));
    benchmark::DoNotOptimize(gzipped.data());
  }
  setCounters(state, mustEncode(encode(profile)), gzipped);
}
BENCHMARK(BM_EncodeGzip)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const std::string raw = mustEncode(encode(benchProfile()));
  for (auto _ : state) {
    auto decoded = decode(raw);
    if (!decoded) {
      state.SkipWithError(decoded.error().toString().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded->sample_size());
  }
  setCounters(state, raw, mustEncode(encodeGzip(benchProfile())));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_DecodeGzip(benchmark::State& state) {
  const std::string gzipped = mustEncode(encodeGzip(benchProfile()));
  for (auto _ : state) {
    auto decoded = decode(gzipped);
    if (!decoded) {
      state.SkipWithError(decoded.error().toString().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded->sample_size());
  }
  setCounters(state, mustEncode(encode(benchProfile())), gzipped);
}
BENCHMARK(BM_DecodeGzip)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kprof::pprof

// KPROF_BENCH_PROFILE_OUT=path writes the benchmark's profile there (gzipped) before running, so
// other pprof tools can be timed on the same input (docs/benchmarks.md).
int main(int argc, char** argv) {
  if (const char* out = std::getenv("KPROF_BENCH_PROFILE_OUT")) {
    std::ofstream(out, std::ios::binary)
        << kprof::pprof::mustEncode(kprof::pprof::encodeGzip(kprof::pprof::benchProfile()));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
