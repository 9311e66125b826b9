// The real IngestTransport: posts over kprof_http's client (HTTP or HTTPS, with timeouts).
#pragma once

#include <memory>

#include "agent/export/exporter.hpp"
#include "common/http/client.hpp"

namespace kprof::agent {

class HttpIngestTransport final : public IngestTransport {
 public:
  // `base_url` is the target's URL; a path prefix in it ("https://host/pyroscope") is kept.
  static Result<std::unique_ptr<HttpIngestTransport>> create(const std::string& base_url);

  Result<int> post(const OutgoingRequest& request, std::chrono::milliseconds timeout) override;

 private:
  explicit HttpIngestTransport(std::unique_ptr<http::Client> client) : client_(std::move(client)) {}
  std::unique_ptr<http::Client> client_;
};

}  // namespace kprof::agent
