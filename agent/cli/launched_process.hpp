// The command `kprof record -- CMD ARGS` profiles: started held before exec so sampling is running
// from its first instruction, and traced only for its exit, so kprof can read its memory maps —
// needed to symbolize — before the kernel tears them down.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/core/result.hpp"

namespace kprof::agent {

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system, including reaped children
  double peak_rss_bytes = 0;
  int exit_code = 0;  // 128 + signal when killed by a signal
};

class LaunchedProcess {
 public:
  // Forks `argv`; the child waits until release() before exec. PATH is searched.
  static Result<LaunchedProcess> launch(const std::vector<std::string>& argv);

  LaunchedProcess(LaunchedProcess&& other) noexcept;
  LaunchedProcess& operator=(LaunchedProcess&&) = delete;
  LaunchedProcess(const LaunchedProcess&) = delete;
  LaunchedProcess& operator=(const LaunchedProcess&) = delete;
  ~LaunchedProcess();  // kills and reaps a child still running

  pid_t pid() const { return pid_; }

  // Lets the child exec. Fails when exec failed (command not found, not executable).
  Status release();

  // Waits up to `timeout` for the child to reach its exit. Returns true when it is exiting: its
  // maps are still readable until finish(). Signals the child receives are passed on to it.
  bool waitForExit(std::chrono::milliseconds timeout);

  // Asks a child that is still running to stop (SIGTERM, then SIGKILL after `grace`).
  void terminate(std::chrono::milliseconds grace);

  // Lets the exiting child go and reaps it.
  Result<ProcessUsage> finish();

  // Whether exit holding is in effect (ptrace may be refused in some sandboxes).
  bool holdsExit() const { return traced_; }

 private:
  LaunchedProcess(pid_t pid, int go_fd, int exec_error_fd)
      : pid_(pid), go_fd_(go_fd), exec_error_fd_(exec_error_fd) {}
  bool handleStop(int status);

  pid_t pid_ = -1;
  int go_fd_ = -1;
  int exec_error_fd_ = -1;
  bool traced_ = false;
  bool exiting_ = false;
  bool reaped_ = false;
  std::optional<int> wait_status_;
};

}  // namespace kprof::agent
