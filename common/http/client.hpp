// An HTTP(S) client on cpprestsdk's http_client: Request/Response values, per-request deadlines,
// TLS with a custom CA and client certificates (kubeconfig style), and line-by-line streaming of
// long responses such as Kubernetes watches. Transport failures come back as Errors: connection
// problems as Unavailable, an expired deadline as Timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/core/result.hpp"
#include "common/http/message.hpp"

namespace kprof::http {

struct ClientTlsOptions {
  // Trusted CAs instead of the system store: a PEM file or PEM text (either, not both).
  std::string ca_file;
  std::string ca_pem;
  // A client certificate (chain) and key, as files or PEM text.
  std::string client_certificate_file;
  std::string client_key_file;
  std::string client_certificate_pem;
  std::string client_key_pem;
  bool insecure_skip_verify = false;
  // The name to verify in the server's certificate and send as SNI, when it differs from the URL
  // host (a kubeconfig's tls-server-name). Also sent as the Host header.
  std::string server_name;
};

struct ClientOptions {
  std::string base_url;     // "https://10.96.0.1:443"; request paths are appended
  ClientTlsOptions tls;     // used for https URLs
  Headers default_headers;  // on every request unless the request sets them, e.g. Authorization
  std::size_t max_response_bytes = 64 << 20;  // larger bodies fail with ResourceExhausted
};

struct StreamOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // the whole stream
  std::stop_token stop;  // request_stop() ends the stream promptly
  std::size_t max_line_bytes = 16 << 20;
};

// Called with each complete line, without its "\n" or "\r\n"; blank lines are skipped. Runs on
// the thread that called streamLines. Return false to end the stream.
using LineHandler = std::function<bool(std::string_view line)>;

class Client {
 public:
  // Reads and checks the TLS material now, so a bad kubeconfig fails here, not on first use.
  static Result<std::unique_ptr<Client>> create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request` (path and query relative to base_url) and reads the whole response within
  // `timeout`. Any HTTP status is a successful Result; only transport failures are Errors.
  Result<Response> send(const Request& request, std::chrono::milliseconds timeout);

  // Sends `request` and, for a 2xx answer, hands the body to `on_line` line by line as it
  // arrives. Returns the response head (body empty) when the server ends the stream, on_line
  // returns false or options.stop is requested; fails with Timeout when options.timeout expires
  // first. A non-2xx answer is returned whole, body included, without calling on_line.
  Result<Response> streamLines(const Request& request,
                               const LineHandler& on_line,
                               const StreamOptions& options);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kprof::http
