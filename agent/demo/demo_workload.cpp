// The bundled demo workload that `scripts/demo.sh` and the sampler tests profile: two hot C++
// functions that split the CPU 3:1 by construction (same kernel, three times the rounds), in a
// namespace so the profile shows demangled C++ names.
//
//   kprof-demo-workload [SECONDS] [THREADS]     (defaults: 5 seconds, 1 thread)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace kprof_demo {

// The shared kernel, inlined into both hot functions so each owns its samples.
__attribute__((always_inline)) inline uint64_t xorshift(uint64_t x, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

constexpr int kRoundsPerUnit = 20000;

class RecordParser {
 public:
  // Three quarters of the work.
  __attribute__((noinline)) uint64_t parseRecords(uint64_t seed) {
    return xorshift(seed, 3 * kRoundsPerUnit);
  }
};

// One quarter of the work.
__attribute__((noinline)) uint64_t compressBlocks(uint64_t seed) {
  return xorshift(seed, kRoundsPerUnit);
}

volatile uint64_t sink = 0;

void run(std::chrono::steady_clock::time_point deadline) {
  RecordParser parser;
  uint64_t seed = 88172645463325252ULL;
  while (std::chrono::steady_clock::now() < deadline) {
    seed = parser.parseRecords(seed) + 1;
    seed = compressBlocks(seed) + 1;
    sink = seed;
  }
}

}  // namespace kprof_demo

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (seconds <= 0 || threads <= 0 || threads > 64) {
    std::fprintf(stderr, "usage: kprof-demo-workload [SECONDS>0] [THREADS 1..64]\n");
    return 2;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) {
    workers.emplace_back(kprof_demo::run, deadline);
  }
  kprof_demo::run(deadline);
  for (auto& worker : workers) {
    worker.join();
  }
  return 0;
}
