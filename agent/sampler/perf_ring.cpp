#include "agent/sampler/perf_ring.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <linux/perf_event.h>
#include <sys/mman.h>

#include <unistd.h>

#include "common/core/os_error.hpp"

namespace kprof::agent {

namespace {

template <typename T>
bool readAt(std::span<const std::byte> bytes, size_t offset, T& out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) {
    return false;
  }
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

std::optional<perf_event_header> headerOf(std::span<const std::byte> record) {
  perf_event_header header{};
  if (!readAt(record, 0, header) || header.size != record.size()) {
    return std::nullopt;
  }
  return header;
}

}  // namespace

std::optional<PerfSample> parseSampleRecord(std::span<const std::byte> record) {
  std::optional<perf_event_header> header = headerOf(record);
  if (!header || header->type != PERF_RECORD_SAMPLE) {
    return std::nullopt;
  }
  PerfSample sample;
  size_t offset = sizeof(perf_event_header);
  uint64_t frames = 0;
  if (!readAt(record, offset, sample.pid) || !readAt(record, offset + 4, sample.tid) ||
      !readAt(record, offset + 8, sample.time_ns) || !readAt(record, offset + 16, frames)) {
    return std::nullopt;
  }
  offset += 24;
  if (frames > (record.size() - offset) / sizeof(uint64_t)) {
    return std::nullopt;
  }
  sample.callchain.resize(frames);
  std::memcpy(sample.callchain.data(), record.data() + offset, frames * sizeof(uint64_t));
  return sample;
}

std::optional<uint64_t> parseLostRecord(std::span<const std::byte> record) {
  std::optional<perf_event_header> header = headerOf(record);
  uint64_t lost = 0;
  // Layout: header, u64 id, u64 lost.
  if (!header || header->type != PERF_RECORD_LOST ||
      !readAt(record, sizeof(perf_event_header) + 8, lost)) {
    return std::nullopt;
  }
  return lost;
}

Result<PerfRing> PerfRing::map(UniqueFd event, uint32_t data_pages) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t length = page * (1 + static_cast<size_t>(data_pages));
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, event.get(), 0);
  if (base == MAP_FAILED) {
    return errnoError(errno, "mmap perf ring");
  }
  return PerfRing(std::move(event), base, length);
}

PerfRing::PerfRing(PerfRing&& other) noexcept
    : event_(std::move(other.event_)),
      base_(std::exchange(other.base_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      scratch_(std::move(other.scratch_)) {}

PerfRing& PerfRing::operator=(PerfRing&& other) noexcept {
  if (this != &other) {
    unmap();
    event_ = std::move(other.event_);
    base_ = std::exchange(other.base_, nullptr);
    length_ = std::exchange(other.length_, 0);
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

PerfRing::~PerfRing() {
  unmap();
}

void PerfRing::unmap() {
  if (base_ != nullptr) {
    munmap(base_, length_);
    base_ = nullptr;
  }
}

void PerfRing::consume(const std::function<void(std::span<const std::byte>)>& on_record) {
  if (base_ == nullptr) {
    return;
  }
  auto* meta = static_cast<perf_event_mmap_page*>(base_);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const auto* data =
      static_cast<const std::byte*>(base_) + (meta->data_offset ? meta->data_offset : page);
  const uint64_t size = meta->data_size ? meta->data_size : length_ - page;

  // The kernel publishes data_head after writing; acquire pairs with its release.
  const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  auto copyOut = [&](uint64_t position, std::byte* out, size_t count) {
    size_t offset = position % size;
    size_t first = std::min<size_t>(count, size - offset);
    std::memcpy(out, data + offset, first);
    std::memcpy(out + first, data, count - first);
  };
  while (head - tail >= sizeof(perf_event_header)) {
    perf_event_header header{};
    copyOut(tail, reinterpret_cast<std::byte*>(&header), sizeof(header));
    if (header.size < sizeof(header) || header.size > head - tail) {
      break;  // not fully written yet (cannot happen below head) or corrupt: stop here
    }
    scratch_.resize((header.size + 7) / 8);
    auto* record = reinterpret_cast<std::byte*>(scratch_.data());
    copyOut(tail, record, header.size);
    on_record(std::span<const std::byte>(record, header.size));
    tail += header.size;
  }
  // Release: the kernel may reuse the space only after we are done reading it.
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

}  // namespace kprof::agent
