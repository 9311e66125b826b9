// Helpers for the common/http tests: temporary files, certificates made at test time, a raw TCP
// client for requests the real client would not send, and raw OpenSSL peers whose protocol
// versions the test controls. Every wait is bounded.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/http/certificates.hpp"

namespace kprof::http::testing {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes in place (truncate + write), as a careless rotation would.
  void write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

CertificateKeyPair makeCa(const std::string& common_name);
// A leaf for `common_name` with SANs localhost and 127.0.0.1 (plus `extra_dns`).
CertificateKeyPair makeLeaf(const CertificateKeyPair& ca,
                            const std::string& common_name,
                            bool client_auth = false,
                            const std::string& extra_dns = "",
                            bool loopback_sans = true);

// Runs `done` until true or the deadline; true if it became true.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = 5s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

// A plain TCP connection to 127.0.0.1 with deadline-bounded I/O.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool sendAll(std::string_view data, std::chrono::milliseconds within = 5s);
  // Sends `chunk` repeatedly until the server answers (readable socket), the peer closes or
  // `max_bytes` have gone out. Returns the bytes sent.
  std::size_t sendUntilAnswered(std::string_view chunk,
                                std::size_t max_bytes,
                                std::chrono::milliseconds within = 10s);
  // Reads one response: head, then a Content-Length or chunked body, or until close.
  std::optional<RawResponse> readResponse(std::chrono::milliseconds within = 5s);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // reads more into buffer_
  int fd_ = -1;
  std::string buffer_;
};

// One TLS handshake from a raw OpenSSL client whose versions the test picks; optionally sends an
// HTTP request and reads the reply.
struct TlsProbe {
  bool connected = false;
  std::string error;                  // OpenSSL's reason when the handshake failed
  bool peer_refused_version = false;  // the server sent a protocol_version alert
  std::string version;                // "TLSv1.2"
  std::string peer_common_name;
  std::string reply;  // raw HTTP reply if a request was sent
};
// min/max are TLS1_VERSION ... TLS1_3_VERSION. Allows legacy versions on the client side
// (security level 0) so that a refusal can only come from the server.
TlsProbe probeTls(std::uint16_t port,
                  int min_version,
                  int max_version,
                  const std::string& http_request = "",
                  std::chrono::milliseconds within = 5s);

// A minimal raw OpenSSL server on 127.0.0.1 for control experiments: accepts connections one at a
// time, answers any HTTP request with 200 and the client certificate's CN (or "none").
class RawTlsServer {
 public:
  struct Options {
    CertificateKeyPair serving;
    std::string client_ca_pem;  // non-empty: require a client certificate from this CA
    int min_version = 0;        // 0: OpenSSL's default
    bool legacy = false;        // security level 0, so TLS 1.0/1.1 are possible
  };
  explicit RawTlsServer(Options options);
  ~RawTlsServer();
  std::uint16_t port() const { return port_; }
  bool ready() const { return listen_fd_ >= 0; }

 private:
  void serve();
  Options options_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace kprof::http::testing
