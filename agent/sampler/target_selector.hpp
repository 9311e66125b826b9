// Which processes an engine samples: a set of pids, every process of one PID namespace (the
// sidecar's case: the pod's shared namespace), or everything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/core/result.hpp"

namespace kprof::agent {

// Inode of the initial PID namespace (PROC_PID_INIT_INO in the kernel).
inline constexpr uint64_t kInitialPidNamespaceInode = 0xEFFFFFFCU;

struct TargetSelector {
  enum class Mode { All, Pids, PidNamespace };

  Mode mode = Mode::All;
  std::set<uint32_t> pids;   // Mode::Pids: tgids as seen from the agent's PID namespace
  uint64_t pidns_inode = 0;  // Mode::PidNamespace: inode of the namespace's /proc/<pid>/ns/pid

  static TargetSelector all() { return {}; }
  static TargetSelector processes(std::set<uint32_t> tgids) {
    return {Mode::Pids, std::move(tgids), 0};
  }
  static TargetSelector pidNamespace(uint64_t inode) { return {Mode::PidNamespace, {}, inode}; }

  // pidns_inode is the task's active PID namespace; only read in Mode::PidNamespace.
  bool matches(uint32_t tgid, std::optional<uint64_t> pidns_inode) const;
  // "all processes", "pids 12,40", "pid namespace 4026532201".
  std::string describe() const;
};

// "pid:[4026531836]" (the text of a /proc/<pid>/ns/pid link) → 4026531836.
std::optional<uint64_t> parseNamespaceLink(std::string_view link_text);

// Inode of the PID namespace of `process` ("self" or a pid) under proc_root.
Result<uint64_t> readPidNamespaceInode(const std::filesystem::path& proc_root,
                                       std::string_view process);

// Remembers each process's PID namespace so per-sample filtering reads /proc once per process.
// Pids can be reused, so the owner clears it now and then (every drain).
class PidNamespaceCache {
 public:
  explicit PidNamespaceCache(std::filesystem::path proc_root) : proc_root_(std::move(proc_root)) {}

  // nullopt when the process is gone or unreadable.
  std::optional<uint64_t> lookup(uint32_t tgid);
  void clear() { inodes_.clear(); }

 private:
  std::filesystem::path proc_root_;
  std::unordered_map<uint32_t, std::optional<uint64_t>> inodes_;
};

}  // namespace kprof::agent
