// Test helpers for the privileged sampler tests: child processes to profile, sums over drained
// stacks, and the rule that missing privilege skips a test with the reason instead of passing.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/syscall.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "agent/sampler/sampling_engine.hpp"

// Skips the calling test when `status` failed for lack of privilege; any other failure is left
// for the caller's assertion.
#define KPROF_SKIP_WITHOUT_PRIVILEGE(status)                                                      \
  do {                                                                                            \
    if (!(status) && (status).error().code == ::kprof::ErrorCode::PermissionDenied) {             \
      GTEST_SKIP() << "needs CAP_BPF/CAP_PERFMON (run as root): " << (status).error().toString(); \
    }                                                                                             \
  } while (false)

namespace kprof::agent::testing {

// Burns CPU in this function forever, so samples have a known leaf in the test binary.
[[noreturn]] __attribute__((noinline)) inline void spinForever() {
  volatile uint64_t counter = 0;
  while (true) {
    counter = counter + 1;
  }
}

// Two different leaf functions, so samples land on at least two distinct stacks.
__attribute__((noinline)) inline void spinUp(uint64_t rounds) {
  volatile uint64_t counter = 0;
  for (uint64_t i = 0; i < rounds; ++i) {
    counter = counter + 1;
  }
}
__attribute__((noinline)) inline void spinDown(uint64_t rounds) {
  volatile uint64_t counter = rounds;
  while (counter > 0) {
    counter = counter - 1;
  }
}
[[noreturn]] inline void spinInTwoFunctions() {
  while (true) {
    spinUp(2'000'000);
    spinDown(2'000'000);
  }
}

// Sleeps forever in 50 ms naps: almost all of its time is off the CPU.
[[noreturn]] inline void napForever() {
  while (true) {
    timespec nap{0, 50'000'000};
    nanosleep(&nap, nullptr);
  }
}

// A forked child running `body`, killed and reaped when this goes out of scope.
class ChildProcess {
 public:
  static ChildProcess fork(const std::function<void()>& body) { return start(body, 0); }
  // The child is pid 1 of a new PID namespace (needs CAP_SYS_ADMIN); pid() is its pid here.
  static ChildProcess forkInNewPidNamespace(const std::function<void()>& body) {
    return start(body, CLONE_NEWPID);
  }

  ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  static ChildProcess start(const std::function<void()>& body, unsigned long clone_flags) {
    // A raw clone with no new stack behaves like fork and can add namespace flags.
    long pid = clone_flags == 0
                   ? ::fork()
                   : syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid == 0) {
      body();
      _exit(0);  // no atexit handlers (or leak checks) in the child
    }
    return ChildProcess(static_cast<pid_t>(pid));
  }

  pid_t pid_ = -1;
};

inline void sleepMs(int ms) {
  timespec duration{ms / 1000, (ms % 1000) * 1'000'000L};
  while (nanosleep(&duration, &duration) != 0) {
  }
}

// CPU time a process has had so far (sum_exec_runtime from /proc/<pid>/schedstat); 0 if unknown.
inline uint64_t onCpuNs(pid_t pid) {
  std::ifstream schedstat("/proc/" + std::to_string(pid) + "/schedstat");
  uint64_t on_cpu_ns = 0;
  schedstat >> on_cpu_ns;
  return on_cpu_ns;
}

// cpu-clock samples expected for `on_cpu_ns` of CPU time at `frequency_hz`. The machine may be
// shared with other work, so tests compare samples with the CPU time the child really got.
inline double expectedSamples(uint64_t on_cpu_ns, uint32_t frequency_hz = 100) {
  return static_cast<double>(on_cpu_ns) * frequency_hz / 1e9;
}

inline uint64_t totalCount(const std::vector<RawStack>& stacks, uint32_t pid, ProfileKind kind) {
  uint64_t total = 0;
  for (const RawStack& stack : stacks) {
    if (stack.pid == pid && stack.kind == kind) {
      total += stack.count;
    }
  }
  return total;
}

inline uint64_t totalValueNs(const std::vector<RawStack>& stacks, uint32_t pid, ProfileKind kind) {
  uint64_t total = 0;
  for (const RawStack& stack : stacks) {
    if (stack.pid == pid && stack.kind == kind) {
      total += stack.value_ns;
    }
  }
  return total;
}

inline uint64_t countAll(const std::vector<RawStack>& stacks) {
  uint64_t total = 0;
  for (const RawStack& stack : stacks) {
    total += stack.count;
  }
  return total;
}

// Executable mappings of this test binary; forked children share them.
inline std::vector<std::pair<uint64_t, uint64_t>> ownTextRanges() {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  char exe[4096] = {};
  ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (length <= 0) {
    return ranges;
  }
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode, path;
    fields >> range >> perms >> offset >> device >> inode >> path;
    if (perms.size() < 3 || perms[2] != 'x' || path != exe) {
      continue;
    }
    size_t dash = range.find('-');
    ranges.emplace_back(std::stoull(range.substr(0, dash), nullptr, 16),
                        std::stoull(range.substr(dash + 1), nullptr, 16));
  }
  return ranges;
}

inline bool inRanges(uint64_t ip, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  for (const auto& [low, high] : ranges) {
    if (ip >= low && ip < high) {
      return true;
    }
  }
  return false;
}

}  // namespace kprof::agent::testing
