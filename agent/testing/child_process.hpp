// Helpers for tests that run real kprof processes (the agent, the demo workload): start one
// with its output in a log file, stop it with a bounded wait, and wait (bounded) for a condition.
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

// Polls `done` every 50 ms until it holds or `within` has passed.
bool eventuallyWithin(const std::function<bool()>& done, std::chrono::milliseconds within);

}  // namespace kprof::testing
