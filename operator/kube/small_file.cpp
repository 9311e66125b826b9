#include "operator/kube/small_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "common/core/os_error.hpp"
#include "common/core/unique_fd.hpp"

namespace kprof::kube {

Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errnoError(errno, "reading " + path);
  }
  std::string content;
  char buffer[8192];
  while (true) {
    ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoError(errno, "reading " + path);
    }
    if (got == 0) {
      return content;
    }
    content.append(buffer, static_cast<std::size_t>(got));
    if (content.size() > max_bytes) {
      return fail(ErrorCode::ResourceExhausted,
                  path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
}

}  // namespace kprof::kube
