// Incremental reading of a cpprestsdk message body (internal to common/http). cpprestsdk fills a
// body buffer as bytes arrive but offers only "read n bytes", which waits for all n; this reads
// whatever has arrived, so callers can enforce size limits early and stream lines as they come.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <cpprest/streams.h>

namespace kprof::http::detail {

class BodyReader : public std::enable_shared_from_this<BodyReader> {
 public:
  enum class Next { Continue, Pause, Stop };
  enum class End {
    Complete,  // the buffer reached its end; the message's content_ready() says whether whole
    Stopped,   // the chunk handler returned Stop
    Failed,    // the buffer reported an error (connection lost, aborted)
  };
  using ChunkHandler = std::function<Next(std::string_view chunk)>;
  using EndHandler = std::function<void(End end, const std::string& error)>;

  // A reader that has not read yet, so the caller can store it before callbacks start. on_chunk
  // and on_end run one at a time on cpprestsdk's thread pool; the chunk view is valid only during
  // the call. on_end runs exactly once, unless the reader is dropped while paused.
  static std::shared_ptr<BodyReader> create(concurrency::streams::istream body,
                                            ChunkHandler on_chunk,
                                            EndHandler on_end);

  // Reads until on_chunk pauses or stops, or the body ends. Call once to start and once after
  // each Pause.
  void read() { readNext(); }

 private:
  BodyReader(concurrency::streams::istream body, ChunkHandler on_chunk, EndHandler on_end);
  void readNext();
  void onRead(pplx::task<std::size_t> read);
  void finish(End end, const std::string& error);

  concurrency::streams::istream body_;
  ChunkHandler on_chunk_;
  EndHandler on_end_;
  std::array<std::uint8_t, 16 * 1024> scratch_{};
};

// The message of an exception caught by `catch (...)`.
std::string describeCurrentException();

}  // namespace kprof::http::detail
