// A CPU-bound workload for the overhead benchmark (bench/overhead.sh): THREADS threads each run a
// fixed integer kernel for SECONDS seconds and count finished operations; at the end it prints the
// total as operations per second. Built with frame pointers, like the demo workload, so both
// profilers unwind it the same way.
//
//   kprof-throughput-workload [SECONDS] [THREADS]     (defaults: 10 seconds, 2 threads)
//
// Output, two lines: "ops_per_second <value>" (wall clock) and "ops_per_cpu_second <value>" (per
// second of this process's user + system CPU time). The second is insensitive to how much of the
// machine other processes take, and still charges what a profiler does in the workload's context
// (sampling interrupts, unwinding, cache and TLB pollution), but not the profiler's own process.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace {

// One operation: a few hundred dependent multiply/xorshift steps (~1 µs), deep enough in a call
// chain that samples carry a few frames.
__attribute__((noinline)) uint64_t mix(uint64_t x) {
  for (int i = 0; i < 256; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x *= 0x9E3779B97F4A7C15ULL;
  }
  return x;
}

__attribute__((noinline)) uint64_t operation(uint64_t seed) { return mix(seed) + mix(seed + 1); }

std::atomic<bool> stop{false};

void worker(uint64_t seed, uint64_t& count, uint64_t& sink) {
  uint64_t done = 0;
  uint64_t x = seed;
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 64; ++i) x = operation(x);
    done += 64;
  }
  count = done;
  sink = x;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  if (seconds <= 0 || threads <= 0) {
    std::fprintf(stderr, "usage: %s [SECONDS] [THREADS]\n", argv[0]);
    return 2;
  }
  std::vector<uint64_t> counts(threads), sinks(threads);
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(worker, 0x1234 + t, std::ref(counts[t]), std::ref(sinks[t]));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& thread : pool) thread.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t total = 0, fold = 0;
  for (int t = 0; t < threads; ++t) {
    total += counts[t];
    fold ^= sinks[t];
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 +
                     usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
  std::printf("ops_per_second %.1f\n", total / elapsed);
  std::printf("ops_per_cpu_second %.1f\n", total / cpu);
  std::printf("cpu_seconds %.3f\n", cpu);
  return fold == 42 ? 1 : 0;  // keeps the work observable
}
