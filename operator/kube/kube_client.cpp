#include "operator/kube/kube_client.hpp"

#include <optional>
#include <utility>

#include "common/log/log.hpp"
#include "operator/kube/resource_path.hpp"
#include "operator/kube/status_error.hpp"
#include "operator/kube/watch_event.hpp"

namespace kprof::kube {

namespace {

constexpr const char* kJson = "application/json";

// Objects come from callers and from the wire; a string with invalid UTF-8 must not make
// serialization throw, so it is replaced rather than refused.
std::string toJsonText(const Object& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A string member, or "" when it is missing or not a string.
std::string stringAt(const Object& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool isSuccess(int status) {
  return status >= 200 && status < 300;
}

std::string describe(const http::Request& request) {
  return request.method + " " + request.path;
}

// apiVersion and kind from the type when the object leaves them out.
Object withTypeMeta(Object object, const ResourceType& type) {
  if (!object.contains("apiVersion")) {
    object["apiVersion"] = type.apiVersion();
  }
  if (!object.contains("kind")) {
    object["kind"] = type.kind;
  }
  return object;
}

Result<std::string> objectName(const Object& object, const ResourceType& type) {
  const Object* name = nullptr;
  if (object.is_object()) {
    auto metadata = object.find("metadata");
    if (metadata != object.end() && metadata->is_object()) {
      auto found = metadata->find("name");
      if (found != metadata->end()) {
        name = &*found;
      }
    }
  }
  if (name == nullptr || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return fail(ErrorCode::InvalidArgument, type.resource + ": the object has no metadata.name");
  }
  return name->get<std::string>();
}

Result<Object> parseObject(const http::Request& request, const http::Response& response) {
  Object parsed = Object::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    std::string start = response.body.substr(0, 120);
    return fail(ErrorCode::Parse, describe(request) + ": response is not a JSON object: " + start);
  }
  return parsed;
}

}  // namespace

KubeClient::KubeClient(ClusterConfig config,
                       Options options,
                       std::unique_ptr<SystemClock> own_clock,
                       std::unique_ptr<http::Client> http,
                       std::unique_ptr<BearerTokenSource> token)
    : config_(std::move(config)),
      options_(std::move(options)),
      own_clock_(std::move(own_clock)),
      http_(std::move(http)),
      token_(std::move(token)) {}

Result<std::unique_ptr<KubeClient>> KubeClient::create(ClusterConfig config, Options options) {
  if (config.server.empty()) {
    return fail(ErrorCode::InvalidArgument, "cluster configuration has no server");
  }
  if (options.request_timeout.count() <= 0) {
    return fail(ErrorCode::InvalidArgument, "request timeout must be positive");
  }
  http::ClientOptions http_options;
  http_options.base_url = config.server;
  http_options.max_response_bytes = options.max_response_bytes;
  http_options.tls = {.ca_file = config.ca_file,
                      .ca_pem = config.ca_pem,
                      .client_certificate_file = config.client_certificate_file,
                      .client_key_file = config.client_key_file,
                      .client_certificate_pem = config.client_certificate_pem,
                      .client_key_pem = config.client_key_pem,
                      .insecure_skip_verify = config.insecure_skip_tls_verify,
                      .server_name = config.tls_server_name};
  http_options.default_headers.set("User-Agent", options.user_agent);
  http_options.default_headers.set("Accept", kJson);
  bool has_token = !config.token.empty() || !config.token_file.empty();
  if (!has_token && (!config.username.empty() || !config.password.empty())) {
    http_options.default_headers.set("Authorization",
                                     http::basicAuthorization(config.username, config.password));
  }
  auto http = http::Client::create(std::move(http_options));
  if (!http) {
    return http.error().wrap("Kubernetes client for " + config.server);
  }

  std::unique_ptr<SystemClock> own_clock;
  const Clock* clock = options.clock;
  if (clock == nullptr) {
    own_clock = std::make_unique<SystemClock>();
    clock = own_clock.get();
  }
  std::unique_ptr<BearerTokenSource> token;
  if (has_token) {
    auto opened =
        BearerTokenSource::open(config.token, config.token_file, *clock, options.token_max_age);
    if (!opened) {
      return opened.error();
    }
    token = std::move(*opened);
  }
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(config),
                                                    std::move(options),
                                                    std::move(own_clock),
                                                    std::move(*http),
                                                    std::move(token)));
}

http::Request KubeClient::newRequest(std::string method, std::string path) const {
  http::Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  if (token_) {
    std::string token = token_->current();
    if (!token.empty()) {
      request.headers.set("Authorization", http::bearerAuthorization(token));
    }
  }
  return request;
}

Result<http::Response> KubeClient::exchange(const http::Request& request) {
  auto response = http_->send(request, options_.request_timeout);
  if (!response) {
    return response.error().wrap(describe(request));
  }
  log::logger("kube")->debug("{} -> {}", describe(request), response->status);
  if (!isSuccess(response->status)) {
    return decodeErrorResponse(response->status, response->headers, response->body);
  }
  return response;
}

Result<Object> KubeClient::exchangeForObject(const http::Request& request) {
  auto response = exchange(request);
  if (!response) {
    return response.error();
  }
  return parseObject(request, *response);
}

Result<Object> KubeClient::get(const ResourceType& type,
                               std::string_view ns,
                               std::string_view name) {
  auto path = objectPath(type, ns, name);
  if (!path) {
    return path.error();
  }
  return exchangeForObject(newRequest("GET", std::move(*path)));
}

Result<ObjectList> KubeClient::list(const ResourceType& type,
                                    std::string_view ns,
                                    const ListOptions& options) {
  auto path = collectionPath(type, ns);
  if (!path) {
    return path.error();
  }
  http::Request request = newRequest("GET", std::move(*path));
  request.query = listQuery(options);
  auto body = exchangeForObject(request);
  if (!body) {
    return body.error();
  }
  ObjectList result;
  auto items = body->find("items");
  if (items != body->end() && !items->is_null()) {
    if (!items->is_array()) {
      return fail(ErrorCode::Parse, describe(request) + ": items is not a list");
    }
    result.items.reserve(items->size());
    for (Object& item : *items) {
      if (!item.is_object()) {
        return fail(ErrorCode::Parse, describe(request) + ": an item is not an object");
      }
      result.items.push_back(withTypeMeta(std::move(item), type));
    }
  }
  auto metadata = body->find("metadata");
  if (metadata != body->end() && metadata->is_object()) {
    result.resource_version = stringAt(*metadata, "resourceVersion");
    result.continue_token = stringAt(*metadata, "continue");
  }
  return result;
}

Status KubeClient::watch(const ResourceType& type,
                         std::string_view ns,
                         const WatchOptions& options,
                         const WatchHandler& on_event) {
  if (options.timeout.count() <= 0) {
    return fail(ErrorCode::InvalidArgument, "watch timeout must be positive");
  }
  auto path = collectionPath(type, ns);
  if (!path) {
    return path.error();
  }
  if (options.stop.stop_requested()) {
    return ok();
  }
  http::Request request = newRequest("GET", std::move(*path));
  request.query = watchQuery(options);

  // The first bad line or ERROR event ends the stream; it is the watch's outcome.
  std::optional<Error> failure;
  auto on_line = [&](std::string_view line) {
    if (options.stop.stop_requested()) {
      return false;
    }
    auto event = parseWatchLine(line);
    if (!event) {
      failure = event.error();
      return false;
    }
    return on_event(*event) && !options.stop.stop_requested();
  };
  http::StreamOptions stream_options;
  stream_options.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout) + options_.watch_slack;
  stream_options.stop = options.stop;
  auto response = http_->streamLines(request, on_line, stream_options);
  if (failure) {
    return *failure;
  }
  if (!response) {
    if (options.stop.stop_requested()) {
      return ok();
    }
    return response.error().wrap(describe(request));
  }
  log::logger("kube")->debug("{} (watch) -> {}", describe(request), response->status);
  if (!isSuccess(response->status)) {
    return decodeErrorResponse(response->status, response->headers, response->body);
  }
  return ok();
}

Result<Object> KubeClient::write(std::string method,
                                 const ResourceType& type,
                                 std::string_view ns,
                                 const Object& object,
                                 std::string_view subresource) {
  if (!object.is_object()) {
    return fail(ErrorCode::InvalidArgument, type.resource + ": the object must be a JSON object");
  }
  Result<std::string> path = fail(ErrorCode::Internal, "no path");
  if (method == "POST") {
    if (type.namespaced && ns.empty()) {
      return fail(ErrorCode::InvalidArgument,
                  "creating " + type.resource + ": a namespace is required");
    }
    path = collectionPath(type, ns);
  } else {
    auto name = objectName(object, type);
    if (!name) {
      return name.error();
    }
    path = objectPath(type, ns, *name, subresource);
  }
  if (!path) {
    return path.error();
  }
  http::Request request = newRequest(std::move(method), std::move(*path));
  if (!options_.field_manager.empty()) {
    request.query["fieldManager"] = options_.field_manager;
  }
  request.headers.set("Content-Type", kJson);
  request.body = toJsonText(withTypeMeta(object, type));
  return exchangeForObject(request);
}

Result<Object> KubeClient::create(const ResourceType& type,
                                  std::string_view ns,
                                  const Object& object) {
  return write("POST", type, ns, object, "");
}

Result<Object> KubeClient::update(const ResourceType& type,
                                  std::string_view ns,
                                  const Object& object) {
  return write("PUT", type, ns, object, "");
}

Result<Object> KubeClient::updateStatus(const ResourceType& type,
                                        std::string_view ns,
                                        const Object& object) {
  return write("PUT", type, ns, object, "status");
}

Result<Object> KubeClient::patch(const ResourceType& type,
                                 std::string_view ns,
                                 std::string_view name,
                                 PatchType patch_type,
                                 const Object& patch,
                                 const PatchOptions& options) {
  if (patch_type == PatchType::Json ? !patch.is_array() : !patch.is_object()) {
    return fail(ErrorCode::InvalidArgument,
                patch_type == PatchType::Json ? "a JSON patch must be an array of operations"
                                              : "a merge or apply patch must be a JSON object");
  }
  auto path = objectPath(type, ns, name, options.subresource);
  if (!path) {
    return path.error();
  }
  auto query = patchQuery(patch_type, options);
  if (!query) {
    return query.error();
  }
  http::Request request = newRequest("PATCH", std::move(*path));
  request.query = std::move(*query);
  request.headers.set("Content-Type", std::string(patchContentType(patch_type)));
  if (patch_type == PatchType::Apply) {
    Object body = withTypeMeta(patch, type);
    Object& metadata = body["metadata"];
    if (metadata.is_null()) {
      metadata = Object::object();
    }
    if (metadata.is_object() && !metadata.contains("name")) {
      metadata["name"] = name;
    }
    request.body = toJsonText(body);
  } else {
    request.body = toJsonText(patch);
  }
  return exchangeForObject(request);
}

Status KubeClient::remove(const ResourceType& type, std::string_view ns, std::string_view name) {
  auto path = objectPath(type, ns, name);
  if (!path) {
    return path.error();
  }
  auto response = exchange(newRequest("DELETE", std::move(*path)));
  if (!response) {
    return response.error();
  }
  return ok();
}

}  // namespace kprof::kube
