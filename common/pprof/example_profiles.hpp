// Small, fixed profiles shared by the pprof unit, golden, interop and fuzz-seed tests. Changing
// them changes the golden files: regenerate those (see golden_test.cpp) in the same change.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/pprof/profile_builder.hpp"

namespace kprof::pprof::examples {

// 2023-11-14T22:13:20Z, a fixed start so encodings are stable.
inline constexpr int64_t kStartNanos = int64_t{1'700'000'000} * 1'000'000'000;
inline constexpr int64_t kCpuPeriod = 10'000'000;  // 100 Hz

// Aborts on a builder error: these inputs are fixed, so an error is a bug in the test data.
inline uint64_t must(Result<uint64_t> id) {
  if (!id) {
    std::abort();
  }
  return *id;
}
inline void must(const Status& status) {
  if (!status) {
    std::abort();
  }
}

// A symbolized CPU profile of a checkout service: one binary with a build id, libc, an inlined
// frame, recursion, string and numeric labels. `scale` multiplies every sample count, so two
// calls with different scales give distinguishable profiles with the same stacks.
inline Profile cpuProfile(int64_t scale = 1, int64_t start_nanos = kStartNanos) {
  ProfileBuilder builder(ProfileKind::Cpu);
  builder.setPeriod(kCpuPeriod);
  builder.setTimeNanos(start_nanos, 10'000'000'000);

  uint64_t binary = builder.addMapping({.memory_start = 0x400000,
                                        .memory_limit = 0x800000,
                                        .file_offset = 0,
                                        .filename = "/app/checkout",
                                        .build_id = "b1d0c0ffee15900d5eed0123456789abcdef0123",
                                        .has_functions = true,
                                        .has_filenames = true,
                                        .has_line_numbers = true,
                                        .has_inline_frames = true});
  uint64_t libc = builder.addMapping({.memory_start = 0x7f0000000000,
                                      .memory_limit = 0x7f0000200000,
                                      .file_offset = 0x28000,
                                      .filename = "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                      .build_id = "e1a5d1bc0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                                      .has_functions = true});

  uint64_t main_fn = builder.addFunction({"main", "main", "src/main.cc", 10});
  uint64_t serve = builder.addFunction(
      {"checkout::Server::serve()", "_ZN8checkout6Server5serveEv", "src/server.cc", 40});
  uint64_t handle = builder.addFunction({"checkout::handleRequest(Request const&)",
                                         "_ZN8checkout13handleRequestERK7Request",
                                         "src/handler.cc",
                                         12});
  uint64_t parse =
      builder.addFunction({"checkout::parseJson(std::string_view)",
                           "_ZN8checkout9parseJsonESt17basic_string_viewIcSt11char_traitsIcEE",
                           "src/json.cc",
                           7});
  uint64_t walk = builder.addFunction(
      {"checkout::walkTree(Node const*)", "_ZN8checkout8walkTreeEPK4Node", "src/tree.cc", 3});
  uint64_t memcpy_fn = builder.addFunction({"__memmove_avx_unaligned_erms", "", "", 0});

  uint64_t at_main = must(builder.addLocation({binary, 0x401010, {{main_fn, 15}}}));
  uint64_t at_serve = must(builder.addLocation({binary, 0x402020, {{serve, 52}}}));
  uint64_t at_handle = must(builder.addLocation({binary, 0x403030, {{handle, 20}}}));
  // parseJson inlined into handleRequest at one address.
  uint64_t at_parse = must(builder.addLocation({binary, 0x403070, {{parse, 9}, {handle, 24}}}));
  uint64_t at_walk_leaf = must(builder.addLocation({binary, 0x404010, {{walk, 5}}}));
  uint64_t at_walk_call = must(builder.addLocation({binary, 0x404040, {{walk, 8}}}));
  uint64_t at_memcpy = must(builder.addLocation({libc, 0x7f0000031234, {{memcpy_fn, 0}}}));

  const SampleLabel pod_a = SampleLabel::text("pod", "checkout-7d9f-abcde");
  const SampleLabel pod_b = SampleLabel::text("pod", "checkout-7d9f-fghij");
  const SampleLabel request_size = SampleLabel::number("request_size", 512, "bytes");
  const SampleLabel thread = SampleLabel::number("thread_id", 4242);

  struct Row {
    std::vector<uint64_t> stack;
    int64_t count;
    std::vector<SampleLabel> labels;
  };
  const std::vector<Row> rows = {
      {{at_parse, at_serve, at_main}, 7, {pod_a, request_size}},
      {{at_memcpy, at_parse, at_serve, at_main}, 3, {pod_a, request_size}},
      {{at_handle, at_serve, at_main}, 2, {pod_b}},
      {{at_walk_leaf, at_walk_call, at_walk_call, at_handle, at_serve, at_main},
       5,
       {pod_b, thread}},
      {{at_serve, at_main}, 1, {}},
  };
  for (const Row& row : rows) {
    int64_t count = row.count * scale;
    must(builder.addSample(row.stack, std::vector<int64_t>{count, count * kCpuPeriod}, row.labels));
  }
  builder.addComment("example cpu profile");
  return std::move(builder).build();
}

// A heap allocation profile: unsymbolized mapping-less frames next to symbolized ones.
inline Profile allocProfile() {
  ProfileBuilder builder(ProfileKind::Alloc);
  builder.setPeriod(512 * 1024);
  builder.setTimeNanos(kStartNanos, 60'000'000'000);
  uint64_t main_fn = builder.addFunction({"main", "main", "src/main.cc", 10});
  uint64_t cache = builder.addFunction({"checkout::Cache::insert(Key, Value)",
                                        "_ZN8checkout5Cache6insertE3Key5Value",
                                        "src/cache.cc",
                                        30});
  uint64_t alloc = builder.addFunction({"operator new(unsigned long)", "_Znwm", "", 0});
  uint64_t at_main = must(builder.addLocation({0, 0x401010, {{main_fn, 15}}}));
  uint64_t at_cache = must(builder.addLocation({0, 0x405000, {{cache, 33}}}));
  uint64_t at_new = must(builder.addLocation({0, 0x7f00000a0000, {{alloc, 0}}}));
  uint64_t at_unknown = must(builder.addLocation({0, 0x4050f0, {}}));
  const SampleLabel bytes = SampleLabel::number("bytes", 4096, "bytes");
  must(builder.addSample(std::vector<uint64_t>{at_new, at_cache, at_main},
                         std::vector<int64_t>{128, 128 * 4096},
                         std::vector<SampleLabel>{bytes}));
  must(builder.addSample(std::vector<uint64_t>{at_new, at_unknown, at_main},
                         std::vector<int64_t>{16, 16 * 65536}));
  builder.addComment("example alloc profile");
  return std::move(builder).build();
}

// A deterministic profile of the given size, shaped like a real one: three mappings, stacks 8 to
// 23 frames deep, every fifth location an inlined pair, pod and thread labels. Functions that are
// inlined are never called directly, so tools that mark inlined frames keep one row per name.
// Used by the interop test (a few hundred samples) and the benchmark (10,000).
inline Profile syntheticProfile(ProfileKind kind,
                                size_t sample_count,
                                size_t location_count,
                                uint64_t seed = 1) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&state](uint64_t bound) {  // a 64-bit LCG; quality does not matter here
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };

  ProfileBuilder builder(kind);
  const int64_t period = 10'000'000;
  builder.setPeriod(period);
  builder.setTimeNanos(kStartNanos, 10'000'000'000);

  std::vector<uint64_t> mappings;
  for (uint64_t m = 0; m < 3; ++m) {
    std::string filename = "/usr/lib/libsynthetic" + std::to_string(m) + ".so";
    std::string build_id = "5eed" + std::to_string(1000 + m) + "00112233445566778899aabbccdd";
    mappings.push_back(builder.addMapping({.memory_start = 0x400000 + (m << 32),
                                           .memory_limit = 0x800000 + (m << 32),
                                           .file_offset = 0,
                                           .filename = filename,
                                           .build_id = build_id,
                                           .has_functions = true,
                                           .has_filenames = true,
                                           .has_line_numbers = true,
                                           .has_inline_frames = true}));
  }
  auto addFunctions = [&](std::string_view prefix, size_t count) {
    std::vector<uint64_t> ids;
    for (size_t f = 0; f < count; ++f) {
      std::string name = std::string(prefix) + std::to_string(f) + "(int)";
      std::string file = "src/module" + std::to_string(f % 17) + ".cc";
      ids.push_back(builder.addFunction({name, "_Z" + name, file, static_cast<int64_t>(f)}));
    }
    return ids;
  };
  const std::vector<uint64_t> called = addFunctions("synthetic::work", location_count / 4 + 1);
  const std::vector<uint64_t> inlined = addFunctions("synthetic::inlined", location_count / 20 + 1);

  std::vector<uint64_t> locations;
  for (size_t l = 0; l < location_count; ++l) {
    LocationInfo location{mappings[l % mappings.size()], 0x400000 + (l % 3 << 32) + l * 16, {}};
    if (l % 5 == 4) {
      location.lines.push_back({inlined[next(inlined.size())], static_cast<int64_t>(l)});
    }
    location.lines.push_back({called[next(called.size())], static_cast<int64_t>(l)});
    locations.push_back(must(builder.addLocation(location)));
  }

  const std::string pods[] = {"api-0", "api-1", "api-2", "api-3"};
  std::vector<uint64_t> stack;
  while (builder.sampleCount() < sample_count) {
    stack.clear();
    size_t depth = 8 + next(16);
    for (size_t d = 0; d < depth; ++d) {
      stack.push_back(locations[next(locations.size())]);
    }
    int64_t count = static_cast<int64_t>(1 + next(5));
    std::vector<SampleLabel> labels{
        SampleLabel::text("pod", pods[next(4)]),
        SampleLabel::number("thread_id", static_cast<int64_t>(1 + next(8)))};
    must(builder.addSample(stack, std::vector<int64_t>{count, count * period}, labels));
  }
  return std::move(builder).build();
}

}  // namespace kprof::pprof::examples
