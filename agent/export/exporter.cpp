#include "agent/export/exporter.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/log/log.hpp"

namespace kprof::agent {

bool isRetryable(const Result<int>& outcome) {
  if (!outcome) {
    return true;  // transport errors: the target may come back
  }
  return *outcome == 429 || *outcome >= 500;
}

PyroscopeExporter::PyroscopeExporter(PyroscopeExporterOptions options,
                                     std::unique_ptr<IngestTransport> transport,
                                     Clock& clock)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      queue_(options_.queue),
      backoff_(options_.backoff),
      sender_([this] { sendLoop(); }) {}

PyroscopeExporter::~PyroscopeExporter() {
  shutdown(std::chrono::milliseconds(0));
}

void PyroscopeExporter::submit(Upload upload) {
  queue_.push(std::move(upload));
}

ExportStats PyroscopeExporter::stats() const {
  const auto queue = queue_.stats();
  ExportStats out;
  out.uploads = uploads_;
  out.upload_bytes = upload_bytes_;
  out.upload_errors = upload_errors_;
  out.rejected = rejected_;
  out.dropped = queue.dropped + failed_out_;
  out.queued = queue.items;
  return out;
}

void PyroscopeExporter::shutdown(std::chrono::milliseconds deadline) {
  if (!sender_.joinable()) {
    return;
  }
  // Let the sender drain for up to `deadline`, then stop it.
  const auto until = clock_.now() + deadline;
  while (queue_.stats().items > 0 && clock_.now() < until && !target_failing_) {
    clock_.sleepFor(std::chrono::milliseconds(10));
  }
  stopping_ = true;
  queue_.close();
  sender_.join();
}

void PyroscopeExporter::sendLoop() {
  auto log = log::logger("agent");
  while (!stopping_) {
    auto upload = queue_.pop(std::chrono::milliseconds(200));
    if (!upload) {
      continue;
    }
    const OutgoingRequest request = buildIngestRequest(options_.target, *upload);
    const Result<int> outcome = transport_->post(request, options_.timeout);
    if (outcome && *outcome >= 200 && *outcome < 300) {
      ++uploads_;
      upload_bytes_ += upload->pprof_gz.size();
      if (backoff_.failures() > 0) {
        log->info("ingest target {} reachable again", options_.target.url);
      }
      backoff_.reset();
      target_failing_ = false;
      continue;
    }
    ++upload_errors_;
    if (!isRetryable(outcome)) {
      ++rejected_;
      log->warn("ingest target {} rejected {} profile with HTTP {}; dropped",
                options_.target.url,
                upload->profile_type,
                *outcome);
      continue;
    }
    if (backoff_.failures() == 0) {  // log the first failure of a run, not every retry
      log->warn("upload to {} failed ({}); retrying with backoff",
                options_.target.url,
                outcome ? "HTTP " + std::to_string(*outcome) : outcome.error().toString());
    }
    target_failing_ = true;
    if (++upload->attempts >= options_.max_attempts) {
      ++failed_out_;
    } else {
      queue_.requeueFront(std::move(*upload));
    }
    // Wait out the backoff in short steps so shutdown is not delayed by a 30 s wait.
    const auto wake = clock_.now() + backoff_.nextDelay();
    while (!stopping_ && clock_.now() < wake) {
      clock_.sleepFor(
          std::min<Clock::Duration>(wake - clock_.now(), std::chrono::milliseconds(100)));
    }
  }
}

std::string profileFileName(const std::string& profile_type,
                            std::chrono::system_clock::time_point until) {
  const std::time_t t = std::chrono::system_clock::to_time_t(until);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  return profile_type + "_" + stamp + ".pb.gz";
}

FileExporter::FileExporter(std::string directory) : directory_(std::move(directory)) {}

void FileExporter::submit(Upload upload) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  const std::string name = profileFileName(upload.profile_type, upload.until);
  std::filesystem::path path = std::filesystem::path(directory_) / name;
  for (int n = 1; std::filesystem::exists(path); ++n) {
    path = std::filesystem::path(directory_) /
           (name.substr(0, name.size() - 6) + "-" + std::to_string(n) + ".pb.gz");
  }
  const auto temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(upload.pprof_gz.data(), static_cast<std::streamsize>(upload.pprof_gz.size()));
    if (!out) {
      ++stats_.upload_errors;
      log::logger("agent")->error("cannot write profile {}", temporary);
      std::filesystem::remove(temporary, ec);
      return;
    }
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    ++stats_.upload_errors;
    log::logger("agent")->error(
        "cannot rename {} to {}: {}", temporary, path.string(), ec.message());
    return;
  }
  ++stats_.uploads;
  stats_.upload_bytes += upload.pprof_gz.size();
  last_path_ = path.string();
}

ExportStats FileExporter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string FileExporter::lastPath() const {
  std::lock_guard lock(mutex_);
  return last_path_;
}

}  // namespace kprof::agent
