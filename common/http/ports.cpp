#include "common/http/ports.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

namespace kprof::http {

Result<std::uint16_t> pickFreePort(const std::string& host) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    length = sizeof(sockaddr_in6);
  } else {
    return fail(ErrorCode::InvalidArgument, "not a numeric IP address: '" + host + "'");
  }
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(ErrorCode::Io, std::string("socket: ") + std::strerror(errno));
  }
  auto error = [&](const char* call) {
    std::string message = std::string(call) + " " + host + ":0: " + std::strerror(errno);
    close(fd);
    return fail(ErrorCode::Unavailable, std::move(message));
  };
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return error("bind");
  }
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return error("getsockname");
  }
  std::uint16_t port = ntohs(address.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  close(fd);
  return port;
}

}  // namespace kprof::http
