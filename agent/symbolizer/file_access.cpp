#include "agent/symbolizer/file_access.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <fcntl.h>
#include <unistd.h>

namespace kprof::agent {
namespace {

// O_NONBLOCK: a FIFO planted where a binary or perf map should be must not hang the agent; it has
// no effect on regular files.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

}  // namespace

std::string FileIdentity::cacheKey() const {
  return "file:" + std::to_string(device) + ":" + std::to_string(inode) + ":" +
         std::to_string(modifiedNs) + ":" + std::to_string(size);
}

Result<FileIdentity> identityOf(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return errnoError(errno, "fstat");
  }
  return FileIdentity{.device = info.st_dev,
                      .inode = info.st_ino,
                      .modifiedNs = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                                    info.st_mtim.tv_nsec,
                      .size = static_cast<uint64_t>(info.st_size),
                      .regular = S_ISREG(info.st_mode)};
}

Result<UniqueFd> openInRoot(const std::string& rootDir, std::string_view path) {
  const std::string pathText(path);
  UniqueFd root(::open(rootDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    return errnoError(errno, rootDir);
  }
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const int fd =
      static_cast<int>(::syscall(SYS_openat2, root.get(), pathText.c_str(), &how, sizeof(how)));
  if (fd >= 0) {
    return UniqueFd(fd);
  }
  if (errno != ENOSYS) {
    return errnoError(errno, rootDir + pathText);
  }
  const std::string joined = rootDir + pathText;
  const int fallback = ::open(joined.c_str(), kOpenFlags);
  if (fallback < 0) {
    return errnoError(errno, joined);
  }
  return UniqueFd(fallback);
}

Result<UniqueFd> openFile(const std::string& path) {
  const int fd = ::open(path.c_str(), kOpenFlags);
  if (fd < 0) {
    return errnoError(errno, path);
  }
  return UniqueFd(fd);
}

Result<MappedFile> MappedFile::map(int fd, uint64_t maxBytes) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return errnoError(errno, "fstat");
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(ErrorCode::InvalidArgument, "not a regular file");
  }
  if (info.st_size <= 0) {
    return fail(ErrorCode::Parse, "empty file");
  }
  if (static_cast<uint64_t>(info.st_size) > maxBytes) {
    return fail(ErrorCode::ResourceExhausted,
                "file of " + std::to_string(info.st_size) + " bytes is over the limit");
  }
  const auto size = static_cast<size_t>(info.st_size);
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) {
    return errnoError(errno, "mmap");
  }
  return MappedFile(data, size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) {
      ::munmap(data_, size_);
    }
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
  }
}

namespace {

// Reads a file through one 64 KiB buffer, handing each chunk to `onChunk`; fails with
// ResourceExhausted past `maxBytes` in total.
Status forEachChunk(const std::string& path,
                    size_t maxBytes,
                    const std::function<void(std::string_view chunk)>& onChunk) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return errnoError(errno, path);
  }
  char buffer[64 * 1024];
  size_t total = 0;
  while (true) {
    const ssize_t count = ::read(fd.get(), buffer, sizeof(buffer));
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoError(errno, path);
    }
    if (count == 0) {
      return ok();
    }
    total += static_cast<size_t>(count);
    if (total > maxBytes) {
      return fail(ErrorCode::ResourceExhausted, path + ": larger than the read limit");
    }
    onChunk(std::string_view(buffer, static_cast<size_t>(count)));
  }
}

}  // namespace

Result<std::string> readTextFile(const std::string& path, size_t maxBytes) {
  std::string text;
  KPROF_TRY(forEachChunk(path, maxBytes, [&](std::string_view chunk) { text.append(chunk); }));
  return text;
}

Status forEachLine(const std::string& path,
                   size_t maxBytes,
                   const std::function<void(std::string_view line)>& onLine) {
  std::string partial;  // the start of a line whose end is in the next chunk
  KPROF_TRY(forEachChunk(path, maxBytes, [&](std::string_view chunk) {
    for (size_t newline = chunk.find('\n'); newline != std::string_view::npos;
         newline = chunk.find('\n')) {
      if (partial.empty()) {
        onLine(chunk.substr(0, newline));
      } else {
        partial.append(chunk.substr(0, newline));
        onLine(partial);
        partial.clear();
      }
      chunk.remove_prefix(newline + 1);
    }
    partial.append(chunk);
  }));
  if (!partial.empty()) {
    onLine(partial);
  }
  return ok();
}

}  // namespace kprof::agent
