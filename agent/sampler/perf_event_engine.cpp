#include "agent/sampler/perf_event_engine.hpp"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>

#include <linux/perf_event.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <poll.h>
#include <unistd.h>

#include "agent/sampler/callchain.hpp"
#include "common/core/os_error.hpp"

namespace kprof::agent {

namespace {

constexpr int kPollTimeoutMs = 100;

// Thread ids of a process from <proc>/<pid>/task; empty when the process is gone.
std::vector<int> threadsOf(const std::filesystem::path& proc_root, uint32_t pid) {
  std::vector<int> tids;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(proc_root / std::to_string(pid) / "task", error)) {
    std::string name = entry.path().filename().string();
    int tid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), tid);
    if (ec == std::errc{} && end == name.data() + name.size()) {
      tids.push_back(tid);
    }
  }
  return tids;
}

}  // namespace

PerfEventEngine::PerfEventEngine(SamplerConfig config)
    : config_(std::move(config)),
      aggregator_(config_.max_counts),
      pidns_cache_(config_.proc_root) {}

PerfEventEngine::~PerfEventEngine() {
  stop();
}

Result<std::vector<CpuClockEvent>> PerfEventEngine::plannedEvents(bool include_kernel) const {
  Result<std::vector<int>> cpus = readOnlineCpus(config_.online_cpus_file);
  if (!cpus) {
    return cpus.error();
  }
  CpuClockEvent base;
  base.period_ns = samplePeriodNs(config_);
  base.callchain = true;
  base.include_kernel = include_kernel;
  base.start_disabled = true;
  base.wakeup_bytes = config_.perf_ring_pages * static_cast<uint32_t>(sysconf(_SC_PAGESIZE)) / 4;

  std::vector<CpuClockEvent> events;
  if (config_.targets.mode != TargetSelector::Mode::Pids) {
    // Every task on every CPU; samples are filtered by pid namespace as they arrive.
    for (int cpu : *cpus) {
      CpuClockEvent event = base;
      event.cpu = cpu;
      events.push_back(event);
    }
    return events;
  }
  // One event per existing thread and CPU: the kernel refuses to mmap an inherited event that
  // is not bound to a CPU. Inherit covers threads and children created later; children are
  // filtered out by pid when their samples arrive.
  for (uint32_t pid : config_.targets.pids) {
    for (int tid : threadsOf(config_.proc_root, pid)) {
      for (int cpu : *cpus) {
        CpuClockEvent event = base;
        event.pid = tid;
        event.cpu = cpu;
        event.inherit = true;
        events.push_back(event);
      }
    }
  }
  if (events.empty()) {
    return fail(ErrorCode::NotFound,
                "no target process is running (" + config_.targets.describe() + ")");
  }
  return events;
}

Result<PerfEventEngine::OpenEvents> PerfEventEngine::openEvents(bool include_kernel) const {
  Result<std::vector<CpuClockEvent>> planned = plannedEvents(include_kernel);
  if (!planned) {
    return planned.error();
  }
  OpenEvents open;
  std::map<int, int> ring_fd_of_cpu;
  for (const CpuClockEvent& event : *planned) {
    Result<UniqueFd> fd = openCpuClockEvent(event);
    if (!fd) {
      // A thread that exited since we listed it is not an error.
      if (event.pid > 0 && fd.error().code == ErrorCode::NotFound) {
        continue;
      }
      return fd.error();
    }
    // All events of one CPU share that CPU's ring.
    if (auto ring = ring_fd_of_cpu.find(event.cpu); ring != ring_fd_of_cpu.end()) {
      if (ioctl(fd->get(), PERF_EVENT_IOC_SET_OUTPUT, ring->second) != 0) {
        return errnoError(errno, "redirecting perf event output");
      }
      open.redirected.push_back(std::move(*fd));
      continue;
    }
    Result<PerfRing> ring = PerfRing::map(std::move(*fd), config_.perf_ring_pages);
    if (!ring) {
      return ring.error();
    }
    ring_fd_of_cpu[event.cpu] = ring->fd();
    open.rings.push_back(std::move(*ring));
  }
  if (open.rings.empty()) {
    return fail(ErrorCode::NotFound, "no target thread left to sample");
  }
  return open;
}

std::vector<int> PerfEventEngine::eventFds() const {
  std::vector<int> fds;
  for (const PerfRing& ring : rings_) {
    fds.push_back(ring.fd());
  }
  for (const UniqueFd& fd : redirected_) {
    fds.push_back(fd.get());
  }
  return fds;
}

Status PerfEventEngine::check() {
  if (checked_) {
    return ok();
  }
  KPROF_TRY(validateConfig(config_));
  if (!config_.cpu) {
    return fail(ErrorCode::Unavailable, "off-CPU profiling needs the eBPF engine");
  }
  Result<OpenEvents> events = openEvents(/*include_kernel=*/true);
  if (!events && events.error().code == ErrorCode::PermissionDenied) {
    // perf_event_paranoid 2 without CAP_PERFMON still allows user-only sampling of our own
    // processes.
    events = openEvents(/*include_kernel=*/false);
    kernel_callchains_ = false;
  }
  if (!events) {
    return events.error();
  }
  int wakeup = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeup < 0) {
    return errnoError(errno, "eventfd");
  }
  wakeup_.reset(wakeup);
  rings_ = std::move(events->rings);
  redirected_ = std::move(events->redirected);
  checked_ = true;
  return ok();
}

Status PerfEventEngine::start() {
  KPROF_TRY(check());
  if (running_.exchange(true)) {
    return ok();
  }
  for (int fd : eventFds()) {
    if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      Error error = errnoError(errno, "enabling perf event");
      stop();
      return error;
    }
  }
  reader_ = std::thread([this] { readLoop(); });
  return ok();
}

void PerfEventEngine::stop() {
  if (!running_.exchange(false)) {
    return;
  }
  for (int fd : eventFds()) {
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(wakeup_.get(), &one, sizeof(one));
  if (reader_.joinable()) {
    reader_.join();
  }
  std::lock_guard lock(mutex_);
  consumeRingsLocked();
}

void PerfEventEngine::readLoop() {
  std::vector<pollfd> fds;
  for (const PerfRing& ring : rings_) {
    fds.push_back(pollfd{ring.fd(), POLLIN, 0});
  }
  fds.push_back(pollfd{wakeup_.get(), POLLIN, 0});
  while (running_.load()) {
    poll(fds.data(), fds.size(), kPollTimeoutMs);
    for (pollfd& entry : fds) {
      // A per-thread event whose thread has exited reports POLLHUP forever; stop polling it
      // (its ring is still read below).
      if (entry.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        entry.fd = -1;
      }
    }
    std::lock_guard lock(mutex_);
    consumeRingsLocked();
  }
}

void PerfEventEngine::consumeRingsLocked() {
  for (PerfRing& ring : rings_) {
    ring.consume([this](std::span<const std::byte> record) { handleRecordLocked(record); });
  }
}

void PerfEventEngine::handleRecordLocked(std::span<const std::byte> record) {
  if (std::optional<uint64_t> lost = parseLostRecord(record)) {
    stats_.lost += *lost;
    return;
  }
  std::optional<PerfSample> sample = parseSampleRecord(record);
  if (!sample || sample->pid == 0) {
    return;  // another record type, or the idle task
  }
  std::optional<uint64_t> pidns;
  if (config_.targets.mode == TargetSelector::Mode::PidNamespace) {
    pidns = pidns_cache_.lookup(sample->pid);
  }
  if (!config_.targets.matches(sample->pid, pidns)) {
    return;
  }
  ++stats_.samples;
  SplitCallchain split = splitCallchain(sample->callchain);
  // A sample with neither user nor kernel frames lost its callchain; kernel threads have no
  // user frames by nature and are not counted.
  if (split.user_ips.empty() && split.kernel_ips.empty()) {
    ++stats_.missing_user_stacks;
  }
  RawStack stack{sample->pid,
                 config_.per_thread ? std::optional<uint32_t>(sample->tid) : std::nullopt,
                 std::move(split.user_ips),
                 std::move(split.kernel_ips),
                 1,
                 samplePeriodNs(config_),
                 ProfileKind::Cpu};
  if (!aggregator_.add(std::move(stack))) {
    ++stats_.lost;
  }
}

Result<std::vector<RawStack>> PerfEventEngine::drain() {
  if (!checked_) {
    return fail(ErrorCode::Unavailable, "perf_event engine is not running");
  }
  std::lock_guard lock(mutex_);
  consumeRingsLocked();
  ++stats_.drains;
  pidns_cache_.clear();  // pids may have been reused since
  return aggregator_.take();
}

SamplerStats PerfEventEngine::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string PerfEventEngine::summary() const {
  std::string text =
      "cpu-clock at " + std::to_string(config_.frequency_hz) + " Hz, " +
      std::to_string(rings_.size() + redirected_.size()) +
      (config_.targets.mode == TargetSelector::Mode::Pids ? " thread×CPU" : " per-CPU") +
      " events, " +
      (kernel_callchains_ ? "user+kernel callchains"
                          : "user-only callchains (no privilege for kernel)");
  return text + "; targets: " + config_.targets.describe();
}

}  // namespace kprof::agent
