// The symbolizer's file I/O: RAII fds, read-only mappings with a size cap, whole-text reads of
// /proc files, and opening a path as a process in another mount namespace sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/core/os_error.hpp"
#include "common/core/result.hpp"
#include "common/core/unique_fd.hpp"

namespace kprof::agent {


// Which file this is, independent of the path used to reach it: the module cache's fallback key
// when a binary has no build id. A rebuilt file in place changes mtime or size.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t modifiedNs = 0;
  uint64_t size = 0;
  bool regular = false;  // a regular file, not a FIFO, device or directory

  std::string cacheKey() const;
};

Result<FileIdentity> identityOf(int fd);

// Opens an absolute `path` the way a process whose root directory is `rootDir` sees it (for
// example rootDir "/proc/42/root"): absolute symlinks and ".." stay inside that root, so a
// container cannot point the agent at host files. Uses openat2(RESOLVE_IN_ROOT); on kernels
// before 5.6 it falls back to opening rootDir + path, which does not contain symlinks.
Result<UniqueFd> openInRoot(const std::string& rootDir, std::string_view path);

// Opens a host path read-only without blocking on FIFOs.
Result<UniqueFd> openFile(const std::string& path);

// A read-only private mapping of a whole file, unmapped on destruction.
class MappedFile {
 public:
  // Refuses files larger than `maxBytes`, empty files and non-regular files.
  static Result<MappedFile> map(int fd, uint64_t maxBytes);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole file as text, such as /proc/<pid>/maps whose size stat reports as 0. Fails with
// ResourceExhausted past `maxBytes`.
Result<std::string> readTextFile(const std::string& path, size_t maxBytes);

// Reads a text file line by line (without the newline) through one small buffer, for files such as
// /proc/kallsyms that are megabytes long but only needed parsed: memory stays at one 64 KiB buffer
// plus the longest line. Fails with ResourceExhausted past `maxBytes` in total.
Status forEachLine(const std::string& path,
                   size_t maxBytes,
                   const std::function<void(std::string_view line)>& onLine);

}  // namespace kprof::agent
