#include "common/http/test_support.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include "common/http/certificate_store.hpp"
#include "common/http/openssl_handles.hpp"

namespace kprof::http::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

int connectLoopback(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

void setSocketTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof(value));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof(value));
}

int remainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

std::string commonNameOf(X509* certificate) {
  char name[256] = {};
  if (certificate == nullptr ||
      X509_NAME_get_text_by_NID(
          X509_get_subject_name(certificate), NID_commonName, name, sizeof(name)) < 0) {
    return {};
  }
  return name;
}

// OpenSSL writes with write(2): a peer that has already closed must not kill the test process.
void ignoreSigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "kprof-http-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::write(const std::string& name, std::string_view content) const {
  std::ofstream out(path_ / name, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

CertificateKeyPair makeCa(const std::string& common_name) {
  auto now = std::chrono::system_clock::now();
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + std::chrono::hours(24);
  auto ca = createCertificateAuthority(spec);
  if (!ca) {
    throw std::runtime_error(ca.error().toString());
  }
  return *ca;
}

CertificateKeyPair makeLeaf(const CertificateKeyPair& ca,
                            const std::string& common_name,
                            bool client_auth,
                            const std::string& extra_dns,
                            bool loopback_sans) {
  auto now = std::chrono::system_clock::now();
  CertificateSpec spec;
  spec.common_name = common_name;
  if (loopback_sans) {
    spec.dns_names = {"localhost"};
    spec.ip_addresses = {"127.0.0.1"};
  }
  if (!extra_dns.empty()) {
    spec.dns_names.push_back(extra_dns);
  }
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + std::chrono::hours(24);
  spec.client_auth = client_auth;
  auto leaf = issueCertificate(ca, spec);
  if (!leaf) {
    throw std::runtime_error(leaf.error().toString());
  }
  return *leaf;
}

RawConnection::RawConnection(std::uint16_t port) : fd_(connectLoopback(port)) {}

RawConnection::~RawConnection() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool RawConnection::sendAll(std::string_view data, std::chrono::milliseconds within) {
  auto deadline = SteadyClock::now() + within;
  while (!data.empty()) {
    pollfd entry{fd_, POLLOUT, 0};
    if (poll(&entry, 1, remainingMs(deadline)) <= 0) {
      return false;
    }
    ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
    if (sent > 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
  }
  return true;
}

std::size_t RawConnection::sendUntilAnswered(std::string_view chunk,
                                             std::size_t max_bytes,
                                             std::chrono::milliseconds within) {
  auto deadline = SteadyClock::now() + within;
  std::size_t total = 0;
  std::size_t offset = 0;  // into chunk
  while (total < max_bytes && SteadyClock::now() < deadline) {
    pollfd entry{fd_, POLLIN | POLLOUT, 0};
    if (poll(&entry, 1, remainingMs(deadline)) <= 0) {
      break;
    }
    if ((entry.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      break;  // the server answered or closed
    }
    std::size_t length = std::min(chunk.size() - offset, max_bytes - total);
    ssize_t sent = send(fd_, chunk.data() + offset, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      break;
    }
    total += static_cast<std::size_t>(sent);
    offset = (offset + static_cast<std::size_t>(sent)) % chunk.size();
  }
  return total;
}

bool RawConnection::fill(SteadyClock::time_point deadline) {
  pollfd entry{fd_, POLLIN, 0};
  if (poll(&entry, 1, remainingMs(deadline)) <= 0) {
    return false;
  }
  char data[16384];
  ssize_t received = recv(fd_, data, sizeof(data), 0);
  if (received <= 0) {
    return false;
  }
  buffer_.append(data, static_cast<std::size_t>(received));
  return true;
}

std::optional<RawResponse> RawConnection::readResponse(std::chrono::milliseconds within) {
  auto deadline = SteadyClock::now() + within;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) {
      return std::nullopt;
    }
  }
  RawResponse response;
  response.head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  if (response.head.size() < 12) {
    return std::nullopt;
  }
  response.status = std::atoi(response.head.c_str() + 9);
  std::string head = lower(response.head);
  auto length_at = head.find("content-length:");
  if (length_at != std::string::npos) {
    std::size_t length = std::strtoul(head.c_str() + length_at + 15, nullptr, 10);
    while (buffer_.size() < length) {
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
    while (true) {
      std::size_t line_end;
      while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) {
          return std::nullopt;
        }
      }
      std::size_t size = std::strtoul(buffer_.c_str(), nullptr, 16);
      while (buffer_.size() < line_end + 2 + size + 2) {
        if (!fill(deadline)) {
          return std::nullopt;
        }
      }
      response.body += buffer_.substr(line_end + 2, size);
      buffer_.erase(0, line_end + 2 + size + 2);
      if (size == 0) {
        break;
      }
    }
  } else {
    while (fill(deadline)) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
  }
  return response;
}

TlsProbe probeTls(std::uint16_t port,
                  int min_version,
                  int max_version,
                  const std::string& http_request,
                  std::chrono::milliseconds within) {
  ignoreSigpipe();
  TlsProbe probe;
  int fd = connectLoopback(port);
  if (fd < 0) {
    probe.error = "TCP connect failed";
    return probe;
  }
  setSocketTimeouts(fd, within);
  ossl::SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  // Everything the library still implements, so any refusal is the server's.
  SSL_CTX_set_security_level(context.get(), 0);
  SSL_CTX_set_cipher_list(context.get(), "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(context.get(), min_version);
  SSL_CTX_set_max_proto_version(context.get(), max_version);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  ossl::SslPtr ssl(SSL_new(context.get()));
  SSL_set_fd(ssl.get(), fd);
  SSL_set_tlsext_host_name(ssl.get(), "localhost");
  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    unsigned long first = ERR_peek_error();
    probe.peer_refused_version = ERR_GET_REASON(first) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION;
    probe.error = ossl::takeErrors();
    close(fd);
    return probe;
  }
  probe.connected = true;
  probe.version = SSL_get_version(ssl.get());
  ossl::X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
  probe.peer_common_name = commonNameOf(peer.get());
  if (!http_request.empty()) {
    SSL_write(ssl.get(), http_request.data(), static_cast<int>(http_request.size()));
    char data[4096];
    auto deadline = SteadyClock::now() + within;
    while (SteadyClock::now() < deadline) {
      int received = SSL_read(ssl.get(), data, sizeof(data));
      if (received <= 0) {
        break;
      }
      probe.reply.append(data, static_cast<std::size_t>(received));
      auto head_end = probe.reply.find("\r\n\r\n");
      auto length_at = lower(probe.reply).find("content-length:");
      if (head_end != std::string::npos && length_at != std::string::npos &&
          probe.reply.size() >=
              head_end + 4 + std::strtoul(probe.reply.c_str() + length_at + 15, nullptr, 10)) {
        break;
      }
    }
  }
  SSL_shutdown(ssl.get());
  close(fd);
  return probe;
}

RawTlsServer::RawTlsServer(Options options) : options_(std::move(options)) {
  ignoreSigpipe();
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (listen_fd_ >= 0) {
      close(listen_fd_);
    }
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

RawTlsServer::~RawTlsServer() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
  }
}

void RawTlsServer::serve() {
  ossl::SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  if (options_.legacy) {
    SSL_CTX_set_security_level(context.get(), 0);
    SSL_CTX_set_cipher_list(context.get(), "ALL:@SECLEVEL=0");
  }
  if (options_.min_version != 0) {
    SSL_CTX_set_min_proto_version(context.get(), options_.min_version);
  }
  auto identity =
      TlsIdentity::fromPem(options_.serving.certificate_pem, options_.serving.private_key_pem);
  if (!identity || !(*identity)->applyTo(context.get())) {
    return;
  }
  if (!options_.client_ca_pem.empty()) {
    auto authorities = ossl::parseCertificates(options_.client_ca_pem);
    if (!authorities) {
      return;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(context.get());
    for (auto& authority : *authorities) {
      X509_STORE_add_cert(store, authority.get());
    }
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  while (!stopping_) {
    pollfd entry{listen_fd_, POLLIN, 0};
    if (poll(&entry, 1, 50) <= 0) {
      continue;
    }
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    setSocketTimeouts(fd, 5s);
    ossl::SslPtr ssl(SSL_new(context.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) {
      std::string request;
      char data[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        int received = SSL_read(ssl.get(), data, sizeof(data));
        if (received <= 0) {
          break;
        }
        request.append(data, static_cast<std::size_t>(received));
      }
      if (request.find("\r\n\r\n") == std::string::npos) {
        close(fd);
        continue;  // a handshake-only probe
      }
      ossl::X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
      std::string body = peer ? commonNameOf(peer.get()) : "none";
      std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      SSL_write(ssl.get(), reply.data(), static_cast<int>(reply.size()));
      SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    close(fd);
  }
}

}  // namespace kprof::http::testing
