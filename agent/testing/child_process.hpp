// Helpers for tests that run real processes (the agent, the demo workload, kubectl, helm): start
// one with its output in a log file, or run one to completion capturing its output, stop it with a
// bounded wait, and wait (bounded) for a condition.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kprof::testing {

// Starts argv[0] (a path) with `argv`, stdout and stderr into `log_path`, and `environment` set
// on top of this process's. Returns the child's pid.
pid_t spawnChild(const std::vector<std::string>& argv,
                 const std::string& log_path,
                 const std::map<std::string, std::string>& environment = {});

// Stops a child this test started: SIGTERM, then SIGKILL if it has not exited within `grace`.
void stopChild(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(10));

struct ProcessResult {
  int exit_code = -1;  // -1: killed at the deadline, killed by a signal or failed to start
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with exactly `env`, stdin from /dev/null, capturing stdout and stderr;
// killed after `timeout`.
ProcessResult runProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout);

// Polls `done` every 50 ms until it holds or `within` has passed.
bool eventuallyWithin(const std::function<bool()>& done, std::chrono::milliseconds within);

}  // namespace kprof::testing
