#include "operator/kube/bearer_token.hpp"

#include <cerrno>

#include <sys/stat.h>

#include "common/core/os_error.hpp"
#include "common/log/log.hpp"
#include "operator/kube/small_file.hpp"

namespace kprof::kube {

namespace {

constexpr std::size_t kMaxTokenBytes = 64 << 10;

std::string trimmed(std::string_view text) {
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return {};
  }
  auto last = text.find_last_not_of(space);
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

BearerTokenSource::BearerTokenSource(std::string token,
                                     std::string token_file,
                                     const Clock& clock,
                                     std::chrono::seconds max_age)
    : token_file_(std::move(token_file)),
      clock_(clock),
      max_age_(max_age),
      token_(trimmed(token)) {}

Result<std::unique_ptr<BearerTokenSource>> BearerTokenSource::open(std::string token,
                                                                   std::string token_file,
                                                                   const Clock& clock,
                                                                   std::chrono::seconds max_age) {
  std::unique_ptr<BearerTokenSource> source(
      new BearerTokenSource(std::move(token), std::move(token_file), clock, max_age));
  if (!source->token_file_.empty()) {
    std::lock_guard lock(source->mutex_);
    Status loaded = source->reload();
    if (!loaded && source->token_.empty()) {
      return loaded.error().wrap("bearer token");
    }
    source->failing_ = !loaded;
  }
  return source;
}

std::optional<BearerTokenSource::FileStamp> BearerTokenSource::stampOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return FileStamp{
      static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
      static_cast<std::int64_t>(info.st_size),
      static_cast<std::uint64_t>(info.st_ino)};
}

Status BearerTokenSource::reload() {
  next_read_ = clock_.now() + max_age_;
  std::optional<FileStamp> stamp = stampOf(token_file_);
  auto content = readSmallFile(token_file_, kMaxTokenBytes);
  std::string token = content ? trimmed(*content) : std::string();
  if (!stamp || token.empty()) {
    ++stats_.failed_reads;
    if (!content) {
      return content.error();
    }
    return fail(ErrorCode::InvalidArgument, "token file " + token_file_ + " is empty");
  }
  token_ = std::move(token);
  stamp_ = *stamp;
  have_stamp_ = true;
  ++stats_.reads;
  return ok();
}

std::string BearerTokenSource::current() {
  std::lock_guard lock(mutex_);
  if (token_file_.empty()) {
    return token_;
  }
  std::optional<FileStamp> stamp = stampOf(token_file_);
  bool due = clock_.now() >= next_read_ || !stamp || !have_stamp_ || *stamp != stamp_;
  if (!due) {
    return token_;
  }
  Status loaded = reload();
  if (!loaded && !failing_) {
    log::logger("kube")->warn("keeping the previous bearer token: {}", loaded.error().toString());
  } else if (loaded && failing_) {
    log::logger("kube")->info("bearer token file {} readable again", token_file_);
  }
  failing_ = !loaded;
  return token_;
}

BearerTokenSource::Stats BearerTokenSource::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace kprof::kube
