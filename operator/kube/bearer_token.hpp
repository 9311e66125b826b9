// The bearer token a Kubernetes client sends. In-cluster service-account tokens are projected
// files that the kubelet rotates (about hourly), and kubeconfig users may name a tokenFile, so a
// token file is re-read when it changes: its modification time, size or inode differ from the
// last successful read (checked on each use, one stat), and in any case at least once per
// `max_age`. A read that fails or finds an empty file keeps the last good token, so a rotation
// caught half-way does not break requests. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::kube {

class BearerTokenSource {
 public:
  struct Stats {
    std::uint64_t reads = 0;         // successful reads of the file, the first included
    std::uint64_t failed_reads = 0;  // reads or stats that failed, or found an empty file
  };

  // With a `token_file`, reads it now and fails if it is unreadable or empty, unless a static
  // `token` is there to fall back on (kubeconfig's token + tokenFile: the file wins once read).
  // With neither, current() is "" (anonymous).
  static Result<std::unique_ptr<BearerTokenSource>> open(
      std::string token,
      std::string token_file,
      const Clock& clock,
      std::chrono::seconds max_age = std::chrono::minutes(1));

  // The token to send now, without surrounding whitespace; "" for none.
  std::string current();
  Stats stats() const;

 private:
  // What identifies one version of the file.
  struct FileStamp {
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    std::uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };

  BearerTokenSource(std::string token,
                    std::string token_file,
                    const Clock& clock,
                    std::chrono::seconds max_age);
  static std::optional<FileStamp> stampOf(const std::string& path);
  Status reload();  // with mutex_ held

  const std::string token_file_;
  const Clock& clock_;
  const std::chrono::seconds max_age_;

  mutable std::mutex mutex_;
  std::string token_;
  FileStamp stamp_;
  bool have_stamp_ = false;
  bool failing_ = false;  // the latest read failed; logged once per streak
  Clock::SteadyTime next_read_{};
  Stats stats_;
};

}  // namespace kprof::kube
