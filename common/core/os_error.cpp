#include "common/core/os_error.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kprof {

namespace {

ErrorCode codeOfErrno(int errnum) {
  switch (errnum) {
    case EPERM:
    case EACCES:
      return ErrorCode::PermissionDenied;
    case ENOENT:
    case ENOTDIR:
    case ESRCH:
    case ENODEV:
      return ErrorCode::NotFound;
    case EINVAL:
      return ErrorCode::InvalidArgument;
    case EOPNOTSUPP:
    case ENOSYS:
      return ErrorCode::Unavailable;
    case ENOMEM:
    case E2BIG:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
      return ErrorCode::ResourceExhausted;
    default:
      return ErrorCode::Io;
  }
}

}  // namespace

Error errnoError(int errnum, std::string_view context) {
  int positive = std::abs(errnum);
  return makeError(codeOfErrno(positive), std::string(context) + ": " + std::strerror(positive));
}

}  // namespace kprof
