#include "agent/export/http_transport.hpp"

namespace kprof::agent {

Result<std::unique_ptr<HttpIngestTransport>> HttpIngestTransport::create(
    const std::string& base_url) {
  http::ClientOptions options;
  options.base_url = base_url;
  options.max_response_bytes = 1 << 20;  // ingest answers are small; don't buffer a hostile one
  auto client = http::Client::create(options);
  if (!client) {
    return client.error();
  }
  return std::unique_ptr<HttpIngestTransport>(new HttpIngestTransport(std::move(*client)));
}

Result<int> HttpIngestTransport::post(const OutgoingRequest& request,
                                      std::chrono::milliseconds timeout) {
  http::Request out;
  out.method = request.method;
  out.path = request.path;
  out.query = request.query;
  out.body = request.body;
  for (const auto& [name, value] : request.headers) {
    out.headers.set(name, value);
  }
  auto response = client_->send(out, timeout);
  if (!response) {
    return response.error();
  }
  return response->status;
}

}  // namespace kprof::agent
