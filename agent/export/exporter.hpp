// Where finished profiles go. Sampling hands an Upload to an Exporter and moves on: the Pyroscope
// exporter queues it (bounded, drop-oldest) and a background thread sends it with timeouts and
// jittered exponential backoff; the file exporter writes it at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "agent/export/pyroscope_ingest.hpp"
#include "agent/export/upload_queue.hpp"
#include "common/core/backoff.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct ExportStats {
  uint64_t uploads = 0;  // accepted by the target
  uint64_t upload_bytes = 0;
  uint64_t upload_errors = 0;  // failed attempts, retried or not
  uint64_t rejected = 0;       // permanent failures (4xx other than 429): dropped, not retried
  uint64_t dropped = 0;        // pushed out of the full queue
  uint64_t queued = 0;
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  // Never blocks on the network.
  virtual void submit(Upload upload) = 0;
  virtual ExportStats stats() const = 0;
  // Stops background work, trying to flush what is queued until `deadline` passes.
  virtual void shutdown(std::chrono::milliseconds deadline) = 0;
};

// The network edge: posts one request, returns the HTTP status or a transport Error
// (Unavailable, Timeout). The real one wraps kprof_http's client; tests hand in a fake.
class IngestTransport {
 public:
  virtual ~IngestTransport() = default;
  virtual Result<int> post(const OutgoingRequest& request, std::chrono::milliseconds timeout) = 0;
};

// Is a failed attempt worth retrying? Transport errors, 5xx and 429 are; other 4xx are not.
bool isRetryable(const Result<int>& outcome);

struct PyroscopeExporterOptions {
  PyroscopeTarget target;
  UploadQueueLimits queue;
  std::chrono::milliseconds timeout{10'000};
  BackoffPolicy backoff{
      std::chrono::milliseconds(250), std::chrono::milliseconds(30'000), 2.0, 0.2};
  uint32_t max_attempts = 8;  // then the upload is dropped and counted
};

class PyroscopeExporter final : public Exporter {
 public:
  PyroscopeExporter(PyroscopeExporterOptions options,
                    std::unique_ptr<IngestTransport> transport,
                    Clock& clock);
  ~PyroscopeExporter() override;

  void submit(Upload upload) override;
  ExportStats stats() const override;
  void shutdown(std::chrono::milliseconds deadline) override;

 private:
  void sendLoop();

  PyroscopeExporterOptions options_;
  std::unique_ptr<IngestTransport> transport_;
  Clock& clock_;
  UploadQueue queue_;
  Backoff backoff_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> target_failing_{
      false};  // read by shutdown(), which must not wait on a dead target
  std::atomic<uint64_t> uploads_{0};
  std::atomic<uint64_t> upload_bytes_{0};
  std::atomic<uint64_t> upload_errors_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> failed_out_{0};  // dropped after max_attempts
  std::thread sender_;
};

// Writes `<directory>/<type>_<UTC timestamp>.pb.gz` (plus a counter when two land in the same
// second), through a temporary file and rename so a reader never sees half a profile.
class FileExporter final : public Exporter {
 public:
  explicit FileExporter(std::string directory);

  void submit(Upload upload) override;
  ExportStats stats() const override;
  void shutdown(std::chrono::milliseconds /*deadline*/) override {}

  // The path the last successful submit wrote; empty before.
  std::string lastPath() const;

 private:
  std::string directory_;
  mutable std::mutex mutex_;
  std::string last_path_;
  ExportStats stats_;
};

// The file name for an upload: "cpu_20261122T021500Z.pb.gz".
std::string profileFileName(const std::string& profile_type,
                            std::chrono::system_clock::time_point until);

}  // namespace kprof::agent
