#include "agent/cli/launched_process.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace kprof::agent {
namespace {

int exitCodeOf(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

void closeFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

}  // namespace

Result<LaunchedProcess> LaunchedProcess::launch(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    return fail(ErrorCode::InvalidArgument, "no command to run");
  }
  int go[2];
  int exec_error[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(exec_error, O_CLOEXEC) != 0) {
    return fail(ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    return fail(ErrorCode::Io, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: wait for the go byte (or EOF when kprof died), then exec. Only async-signal-safe
    // calls from here on.
    ::close(go[1]);
    ::close(exec_error[0]);
    char byte = 0;
    while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte != 'g') {
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    const int err = errno;
    (void)!::write(exec_error[1], &err, sizeof(err));
    ::_exit(127);
  }
  ::close(go[0]);
  ::close(exec_error[1]);
  LaunchedProcess process(pid, go[1], exec_error[0]);
  // Trace only the exit event: the child stops there with its memory intact.
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, PTRACE_O_TRACEEXIT) == 0) {
    process.traced_ = true;
  }
  return process;
}

LaunchedProcess::LaunchedProcess(LaunchedProcess&& other) noexcept
    : pid_(other.pid_),
      go_fd_(other.go_fd_),
      exec_error_fd_(other.exec_error_fd_),
      traced_(other.traced_),
      exiting_(other.exiting_),
      reaped_(other.reaped_),
      wait_status_(other.wait_status_) {
  other.pid_ = -1;
  other.go_fd_ = -1;
  other.exec_error_fd_ = -1;
}

LaunchedProcess::~LaunchedProcess() {
  closeFd(go_fd_);
  closeFd(exec_error_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {
    }
  }
}

Status LaunchedProcess::release() {
  const char go = 'g';
  if (::write(go_fd_, &go, 1) != 1) {
    return fail(ErrorCode::Io, std::string("cannot start the command: ") + std::strerror(errno));
  }
  closeFd(go_fd_);
  // The exec-error pipe closes on a successful exec (CLOEXEC) or carries errno.
  int err = 0;
  ssize_t n = 0;
  while ((n = ::read(exec_error_fd_, &err, sizeof(err))) < 0 && errno == EINTR) {
  }
  closeFd(exec_error_fd_);
  if (n == sizeof(err)) {
    return fail(ErrorCode::NotFound, std::string("cannot run the command: ") + std::strerror(err));
  }
  return ok();
}

bool LaunchedProcess::handleStop(int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    reaped_ = true;
    wait_status_ = status;
    return true;
  }
  if (!WIFSTOPPED(status)) {
    return false;
  }
  const int event = status >> 16;
  if (event == PTRACE_EVENT_EXIT) {
    exiting_ = true;  // stay stopped: the maps are readable until finish()
    return true;
  }
  // A signal meant for the command: deliver it. A group-stop (event stop) just continues.
  const int signal = event == 0 ? WSTOPSIG(status) : 0;
  ::ptrace(PTRACE_CONT, pid_, nullptr, signal == SIGTRAP ? 0 : signal);
  return false;
}

bool LaunchedProcess::waitForExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exiting_ && !reaped_) {
    int status = 0;
    const pid_t got = ::waitpid(pid_, &status, WNOHANG | __WALL);
    if (got == pid_) {
      if (handleStop(status)) {
        break;
      }
      continue;
    }
    if (got < 0 && errno != EINTR) {
      return true;  // no such child any more
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void LaunchedProcess::terminate(std::chrono::milliseconds grace) {
  if (exiting_ || reaped_) {
    return;
  }
  ::kill(pid_, SIGTERM);
  if (!waitForExit(grace)) {
    ::kill(pid_, SIGKILL);
    waitForExit(std::chrono::milliseconds(5000));
  }
}

Result<ProcessUsage> LaunchedProcess::finish() {
  if (!reaped_) {
    if (traced_) {
      ::ptrace(PTRACE_DETACH, pid_, nullptr, 0);
    }
    int status = 0;
    pid_t got = 0;
    while ((got = ::waitpid(pid_, &status, __WALL)) < 0 && errno == EINTR) {
    }
    while (got == pid_ && WIFSTOPPED(status)) {  // a last stop raced the detach
      ::ptrace(PTRACE_DETACH, pid_, nullptr, 0);
      while ((got = ::waitpid(pid_, &status, __WALL)) < 0 && errno == EINTR) {
      }
    }
    reaped_ = true;
    wait_status_ = status;
  }
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  ProcessUsage out;
  out.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  out.peak_rss_bytes = static_cast<double>(usage.ru_maxrss) * 1024.0;
  out.exit_code = wait_status_ ? exitCodeOf(*wait_status_) : -1;
  return out;
}

}  // namespace kprof::agent
