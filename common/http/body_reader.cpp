#include "common/http/body_reader.hpp"

#include <algorithm>
#include <exception>

namespace kprof::http::detail {

std::string describeCurrentException() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

BodyReader::BodyReader(concurrency::streams::istream body, ChunkHandler on_chunk, EndHandler on_end)
    : body_(std::move(body)), on_chunk_(std::move(on_chunk)), on_end_(std::move(on_end)) {}

std::shared_ptr<BodyReader> BodyReader::create(concurrency::streams::istream body,
                                               ChunkHandler on_chunk,
                                               EndHandler on_end) {
  return std::shared_ptr<BodyReader>(
      new BodyReader(std::move(body), std::move(on_chunk), std::move(on_end)));
}

void BodyReader::readNext() {
  if (!body_.is_valid()) {
    finish(End::Complete, {});
    return;
  }
  auto self = shared_from_this();
  try {
    // One byte completes as soon as anything has arrived; the rest is taken below without waiting.
    body_.streambuf().getn(scratch_.data(), 1).then([self](pplx::task<std::size_t> read) {
      self->onRead(std::move(read));
    });
  } catch (...) {
    finish(End::Failed, describeCurrentException());
  }
}

void BodyReader::onRead(pplx::task<std::size_t> read) {
  std::size_t count = 0;
  try {
    count = read.get();
    if (count == 0) {
      finish(End::Complete, {});
      return;
    }
    // Take what else has arrived straight from the buffer's blocks, without another wait.
    auto buffer = body_.streambuf();
    while (count < scratch_.size()) {
      std::uint8_t* block = nullptr;
      std::size_t available = 0;
      if (!buffer.acquire(block, available) || available == 0) {
        break;
      }
      std::size_t taken = std::min(available, scratch_.size() - count);
      std::copy_n(block, taken, scratch_.data() + count);
      buffer.release(block, taken);
      count += taken;
    }
  } catch (...) {
    finish(End::Failed, describeCurrentException());
    return;
  }
  Next next = on_chunk_(std::string_view(reinterpret_cast<const char*>(scratch_.data()), count));
  if (next == Next::Stop) {
    finish(End::Stopped, {});
  } else if (next == Next::Continue) {
    readNext();
  }
}

void BodyReader::finish(End end, const std::string& error) {
  EndHandler on_end = std::move(on_end_);
  // Drop the callbacks so whatever they captured is released with this reader's last task.
  on_chunk_ = nullptr;
  on_end_ = nullptr;
  if (on_end) {
    on_end(end, error);
  }
}

}  // namespace kprof::http::detail
