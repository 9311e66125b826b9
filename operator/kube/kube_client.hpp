// The real Api: JSON over HTTP(S) to a Kubernetes API server through kprof::http::Client.
// Every request carries the User-Agent, Accept: application/json and the current credentials
// (a bearer token re-read from its file as it rotates, or basic auth); TLS trust and client
// certificates come from the ClusterConfig. Error answers become Errors per api.hpp (see
// status_error.hpp); transport failures are Unavailable or Timeout. Thread-safe: controllers may
// share one client, and a watch may run on its own thread beside other calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/client.hpp"
#include "operator/kube/api.hpp"
#include "operator/kube/bearer_token.hpp"
#include "operator/kube/cluster_config.hpp"

namespace kprof::kube {

struct KubeClientOptions {
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // each non-watch call
  // A watch stream may stay open this much longer than the timeoutSeconds the server was given
  // before the client gives up on it (Timeout).
  std::chrono::milliseconds watch_slack{std::chrono::seconds(30)};
  std::string user_agent = "kprof-operator/0.1";
  // fieldManager for create and update (patches take PatchOptions::field_manager).
  std::string field_manager = "kprof-operator";
  std::size_t max_response_bytes = 64 << 20;
  // Re-read a token file at least this often even when it looks unchanged.
  std::chrono::seconds token_max_age{std::chrono::minutes(1)};
  const Clock* clock = nullptr;  // for token refresh; the system clock when null
};

class KubeClient final : public Api {
 public:
  using Options = KubeClientOptions;

  // Checks the configuration and loads the TLS material and token now, so a broken kubeconfig
  // or service account fails at startup rather than on the first request.
  static Result<std::unique_ptr<KubeClient>> create(ClusterConfig config, Options options = {});

  Result<Object> get(const ResourceType& type, std::string_view ns, std::string_view name) override;
  // One page: follow ObjectList::continue_token (or use listAll). Items get the type's kind and
  // apiVersion when the server leaves them out, as it does in lists.
  Result<ObjectList> list(const ResourceType& type,
                          std::string_view ns,
                          const ListOptions& options) override;
  // options.timeout must be positive: it becomes timeoutSeconds, and the stream is abandoned
  // (Timeout) if it stays open watch_slack longer.
  Status watch(const ResourceType& type,
               std::string_view ns,
               const WatchOptions& options,
               const WatchHandler& on_event) override;
  // create, update and updateStatus fill in apiVersion and kind from `type` when missing.
  Result<Object> create(const ResourceType& type,
                        std::string_view ns,
                        const Object& object) override;
  Result<Object> update(const ResourceType& type,
                        std::string_view ns,
                        const Object& object) override;
  Result<Object> updateStatus(const ResourceType& type,
                              std::string_view ns,
                              const Object& object) override;
  // Json patches must be arrays, the others objects. An Apply patch gets apiVersion, kind and
  // metadata.name filled in when missing (the server requires them).
  Result<Object> patch(const ResourceType& type,
                       std::string_view ns,
                       std::string_view name,
                       PatchType patch_type,
                       const Object& patch,
                       const PatchOptions& options) override;
  Status remove(const ResourceType& type, std::string_view ns, std::string_view name) override;

  const ClusterConfig& config() const { return config_; }

 private:
  KubeClient(ClusterConfig config,
             Options options,
             std::unique_ptr<SystemClock> own_clock,
             std::unique_ptr<http::Client> http,
             std::unique_ptr<BearerTokenSource> token);

  http::Request newRequest(std::string method, std::string path) const;
  // Sends and reads the whole answer; a non-2xx status becomes the decoded Error.
  Result<http::Response> exchange(const http::Request& request);
  Result<Object> exchangeForObject(const http::Request& request);
  Result<Object> write(std::string method,
                       const ResourceType& type,
                       std::string_view ns,
                       const Object& object,
                       std::string_view subresource);

  const ClusterConfig config_;
  const Options options_;
  std::unique_ptr<SystemClock> own_clock_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<BearerTokenSource> token_;
};

}  // namespace kprof::kube
