#include "common/core/result.hpp"

namespace kprof {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "InvalidArgument";
    case ErrorCode::NotFound:
      return "NotFound";
    case ErrorCode::AlreadyExists:
      return "AlreadyExists";
    case ErrorCode::Conflict:
      return "Conflict";
    case ErrorCode::Expired:
      return "Expired";
    case ErrorCode::PermissionDenied:
      return "PermissionDenied";
    case ErrorCode::Unauthenticated:
      return "Unauthenticated";
    case ErrorCode::ResourceExhausted:
      return "ResourceExhausted";
    case ErrorCode::Unavailable:
      return "Unavailable";
    case ErrorCode::Timeout:
      return "Timeout";
    case ErrorCode::Parse:
      return "Parse";
    case ErrorCode::Io:
      return "Io";
    case ErrorCode::Internal:
      return "Internal";
  }
  return "Unknown";
}

std::string Error::toString() const {
  std::string out(errorCodeName(code));
  out += ": ";
  out += message;
  return out;
}

Error Error::wrap(std::string_view context) const {
  std::string wrapped(context);
  wrapped += ": ";
  wrapped += message;
  return Error{code, std::move(wrapped), retry_after};
}

}  // namespace kprof
