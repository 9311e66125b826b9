#include "agent/export/upload_queue.hpp"

namespace kprof::agent {

void UploadQueue::push(Upload upload) {
  {
    std::lock_guard lock(mutex_);
    bytes_ += upload.pprof_gz.size();
    items_.push_back(std::move(upload));
    ++enqueued_;
    dropOldestOverLimits();
  }
  available_.notify_one();
}

void UploadQueue::requeueFront(Upload upload) {
  {
    std::lock_guard lock(mutex_);
    if (items_.size() + 1 > limits_.max_items ||
        bytes_ + upload.pprof_gz.size() > limits_.max_bytes) {
      ++dropped_;
      return;
    }
    bytes_ += upload.pprof_gz.size();
    items_.push_front(std::move(upload));
  }
  available_.notify_one();
}

std::optional<Upload> UploadQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  available_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
  if (items_.empty()) {
    return std::nullopt;
  }
  Upload upload = std::move(items_.front());
  items_.pop_front();
  bytes_ -= upload.pprof_gz.size();
  return upload;
}

void UploadQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  available_.notify_all();
}

UploadQueueStats UploadQueue::stats() const {
  std::lock_guard lock(mutex_);
  return UploadQueueStats{enqueued_, dropped_, items_.size(), bytes_};
}

void UploadQueue::dropOldestOverLimits() {
  // The newest upload always stays, even when it alone is over the byte budget.
  while (items_.size() > 1 && (items_.size() > limits_.max_items || bytes_ > limits_.max_bytes)) {
    bytes_ -= items_.front().pprof_gz.size();
    items_.pop_front();
    ++dropped_;
  }
}

}  // namespace kprof::agent
