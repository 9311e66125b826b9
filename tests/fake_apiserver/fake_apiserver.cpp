#include "tests/fake_apiserver/fake_apiserver.hpp"

#include <algorithm>
#include <future>
#include <array>
#include <charconv>

#include "common/log/log.hpp"
#include "tests/fake_apiserver/admission_webhooks.hpp"
#include "tests/fake_apiserver/discovery.hpp"
#include "tests/fake_apiserver/patch.hpp"
#include "tests/fake_apiserver/table.hpp"
#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof::testing {

namespace {

using nlohmann::json;

constexpr std::string_view kJson = "application/json";

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

std::shared_ptr<spdlog::logger> fakeLog() {
  static auto logger = log::logger("fake-apiserver");
  return logger;
}

http::Response jsonResponse(int status, const json& body) {
  return http::Response::json(status, dumpJson(body));
}

http::Response statusResponse(const ApiError& error) {
  http::Response response = jsonResponse(error.code, error.toStatus());
  if (error.retry_after.count() > 0) {
    response.headers.set("Retry-After", std::to_string(error.retry_after.count()));
  }
  return response;
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (!part.empty()) {
      parts.emplace_back(part);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  return parts;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

// The media type without parameters: "application/json; charset=utf-8" -> "application/json".
std::string mediaType(std::string_view header) {
  std::string type(header.substr(0, header.find(';')));
  while (!type.empty() && type.back() == ' ') {
    type.pop_back();
  }
  return lower(type);
}

enum class Encoding { Json, Table, PartialMetadata };

std::optional<Encoding> negotiate(const http::Request& request) {
  std::string accept = request.headers.get("Accept").value_or("");
  if (accept.find("as=Table") != std::string::npos) {
    return Encoding::Table;
  }
  if (accept.find("as=PartialObjectMetadata") != std::string::npos) {
    return Encoding::PartialMetadata;
  }
  if (accept.empty() || accept.find("json") != std::string::npos ||
      accept.find("*/*") != std::string::npos) {
    return Encoding::Json;
  }
  return std::nullopt;
}

bool queryFlag(const http::Request& request, std::string_view name) {
  auto value = request.queryParam(name);
  return value && (*value == "true" || *value == "1");
}

bool isDryRun(const http::Request& request) {
  auto value = request.queryParam("dryRun");
  return value && *value == "All";
}

std::string metadataString(const json& object, const char* field) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) {
    return "";
  }
  auto it = metadata->find(field);
  return it != metadata->end() && it->is_string() ? it->get<std::string>() : "";
}

// Parses a request body as JSON, or as YAML when the content type says so.
ApiResult<json> parseBody(const http::Request& request, bool yaml_allowed) {
  const std::string type = mediaType(request.headers.get("Content-Type").value_or(""));
  if (type.find("protobuf") != std::string::npos || type.find("cbor") != std::string::npos) {
    return unsupportedMediaType(type, "application/json, application/yaml");
  }
  const bool yaml =
      type == "application/yaml" || type == "application/apply-patch+yaml" || type == "text/yaml";
  if (yaml && yaml_allowed) {
    auto documents = parseYamlDocuments(request.body);
    if (!documents) {
      return badRequest(documents.error().message);
    }
    if (documents->size() != 1) {
      return badRequest("the request body must hold exactly one YAML document");
    }
    return std::move(documents->front());
  }
  try {
    return json::parse(request.body);
  } catch (const json::exception& e) {
    return badRequest(std::string("the request body is not valid JSON: ") + e.what());
  }
}

// Builds a list body as a string, so 10,000 items are serialized once each.
std::string listBody(const ResourceInfo& info, const ListPage& page, Encoding encoding) {
  json metadata = {{"resourceVersion", std::to_string(page.resource_version)}};
  if (!page.continue_token.empty()) {
    metadata["continue"] = page.continue_token;
  }
  const bool partial = encoding == Encoding::PartialMetadata;
  json head = {{"kind", partial ? "PartialObjectMetadataList" : info.list_kind},
               {"apiVersion", partial ? "meta.k8s.io/v1" : info.apiVersion()},
               {"metadata", metadata}};
  std::string body = dumpJson(head);
  body.pop_back();  // the closing '}'
  body += ",\"items\":[";
  bool first = true;
  for (const ObjectPtr& item : page.items) {
    if (!first) {
      body += ',';
    }
    first = false;
    if (partial) {
      body += dumpJson({{"kind", "PartialObjectMetadata"},
                        {"apiVersion", "meta.k8s.io/v1"},
                        {"metadata", item->value("metadata", json::object())}});
    } else if (!info.custom) {
      // Items of built-in lists carry no kind or apiVersion, as the real server sends them.
      json copy = *item;
      copy.erase("kind");
      copy.erase("apiVersion");
      body += dumpJson(copy);
    } else {
      body += dumpJson(*item);
    }
  }
  body += "]}";
  return body;
}

class StreamSink final : public WatchSink {
 public:
  explicit StreamSink(std::shared_ptr<http::BodyStream> stream) : stream_(std::move(stream)) {}
  bool write(std::string_view data) override { return stream_->write(data); }
  void close() override { stream_->close(); }

 private:
  std::shared_ptr<http::BodyStream> stream_;
};

IncludeObject includeObject(const http::Request& request) {
  auto value = request.queryParam("includeObject");
  if (value && *value == "Object") {
    return IncludeObject::Object;
  }
  if (value && *value == "None") {
    return IncludeObject::None;
  }
  return IncludeObject::Metadata;
}

Result<ResourceInfo> toInfo(const std::optional<ResourceInfo>& found,
                            const kube::ResourceType& type) {
  if (!found) {
    return fail(ErrorCode::NotFound,
                "the fake API server does not serve " + type.apiVersion() + " " + type.resource);
  }
  return *found;
}

}  // namespace

struct FakeApiServer::ResourceRequest {
  ResourceInfo info;
  std::string ns;
  std::string name;
  std::string subresource;
};

std::vector<std::filesystem::path> kprofCrdFiles(const std::filesystem::path& source_dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir / "crds", error)) {
    auto extension = entry.path().extension();
    if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

FakeApiServer::FakeApiServer(FakeApiServerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : systemClock()),
      store_(StoreOptions{&clock_,
                          options_.history_limit,
                          options_.require_namespaces,
                          options_.bookmark_interval}) {}

Result<std::unique_ptr<FakeApiServer>> FakeApiServer::make(FakeApiServerOptions options) {
  std::unique_ptr<FakeApiServer> server(new FakeApiServer(std::move(options)));
  for (const std::string& name : server->options_.initial_namespaces) {
    KPROF_TRY(server->createNamespace(name));
  }
  for (const auto& file : server->options_.crd_files) {
    auto documents = readManifestFile(file);
    if (!documents) {
      return documents.error();
    }
    for (json& document : *documents) {
      if (document.value("kind", "") != "CustomResourceDefinition") {
        return fail(ErrorCode::InvalidArgument,
                    file.string() +
                        ": not a CustomResourceDefinition: " + document.value("kind", "(no kind)"));
      }
      auto created = server->createObject({"apiextensions.k8s.io",
                                           "v1",
                                           "customresourcedefinitions",
                                           "CustomResourceDefinition",
                                           false},
                                          std::move(document));
      if (!created) {
        return created.error().wrap(file.string());
      }
    }
  }
  return server;
}

FakeApiServer::~FakeApiServer() {
  stop();
}

Status FakeApiServer::start() {
  if (started_) {
    return fail(ErrorCode::InvalidArgument, "fake API server already started");
  }
  http::ServerOptions server_options;
  server_options.host = options_.host;
  server_options.port = options_.port;
  server_options.certificates = options_.certificates;
  server_options.max_body_bytes = options_.max_body_bytes;
  server_ = std::make_unique<http::Server>(std::move(server_options));
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    server_->routeAsync(
        method,
        "/",
        [this, method](http::Request request, http::Responder responder) {
          // A pod creation may call admission webhooks, i.e. wait on another HTTP server. It
          // runs on a thread of its own: blocking one of the HTTP library's pool threads on a
          // request that same library must complete stalls it for seconds.
          if (std::string_view(method) == "POST" && request.path.ends_with("/pods")) {
            std::lock_guard lock(offloaded_mutex_);
            ++offloaded_;
            std::thread([this, request = std::move(request), responder]() mutable {
              handle(std::move(request), std::move(responder));
              std::lock_guard lock(offloaded_mutex_);
              --offloaded_;
              offloaded_done_.notify_all();
            }).detach();
            return;
          }
          handle(std::move(request), std::move(responder));
        },
        http::PathMatch::Prefix);
  }
  KPROF_TRY(server_->start());
  started_ = true;
  ticker_ = std::thread([this] { tickLoop(); });
  fakeLog()->info("fake API server serving on {}", server_->url());
  return ok();
}

void FakeApiServer::stop() {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(tick_mutex_);
    stopping_ = true;
  }
  tick_wakeup_.notify_all();
  if (ticker_.joinable()) {
    ticker_.join();
  }
  store_.closeWatches();
  server_->stop(std::chrono::seconds(1));
  // Offloaded pod creations answer 503 once the server stopped; wait until none still runs.
  std::unique_lock lock(offloaded_mutex_);
  offloaded_done_.wait(lock, [this] { return offloaded_ == 0; });
}

void FakeApiServer::tickLoop() {
  // Bookmarks and watch timeouts are checked often enough for bookmark intervals of tens of
  // milliseconds in tests.
  const auto period = std::clamp(
      options_.bookmark_interval / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(50));
  std::unique_lock lock(tick_mutex_);
  while (!stopping_) {
    tick_wakeup_.wait_for(lock, period, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    store_.tick(clock_.now());
    lock.lock();
  }
}

std::uint16_t FakeApiServer::port() const {
  return server_ ? server_->port() : 0;
}

std::string FakeApiServer::url() const {
  return server_ ? server_->url() : "";
}

// ---------------------------------------------------------------- direct API

Result<ResourceInfo> FakeApiServer::resolve(const kube::ResourceType& type) const {
  return toInfo(store_.findResource(type.group, type.version, type.resource), type);
}

Result<json> FakeApiServer::createObject(const kube::ResourceType& type, json object) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  std::string ns = info->namespaced ? metadataString(object, "namespace") : "";
  if (info->namespaced && ns.empty()) {
    ns = "default";
  }
  auto created = store_.create(*info, ns, std::move(object), WriteOptions{false});
  if (!created) {
    return created.error().toError();
  }
  return **created;
}

Result<json> FakeApiServer::getObject(const kube::ResourceType& type,
                                      std::string_view ns,
                                      std::string_view name) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  auto found = store_.get(*info, info->namespaced ? ns : "", name);
  if (!found) {
    return found.error().toError();
  }
  return **found;
}

Result<std::vector<json>> FakeApiServer::listObjects(const kube::ResourceType& type,
                                                     std::string_view ns,
                                                     std::string_view label_selector) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  auto labels = kube::LabelSelector::parse(label_selector);
  if (!labels) {
    return labels.error();
  }
  ListQuery query;
  query.ns = std::string(ns);
  query.labels = std::move(*labels);
  auto page = store_.list(*info, query);
  if (!page) {
    return page.error().toError();
  }
  std::vector<json> items;
  items.reserve(page->items.size());
  for (const ObjectPtr& item : page->items) {
    items.push_back(*item);
  }
  return items;
}

Result<json> FakeApiServer::updateObject(const kube::ResourceType& type, json object) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  std::string ns = info->namespaced ? metadataString(object, "namespace") : "";
  if (info->namespaced && ns.empty()) {
    ns = "default";
  }
  const std::string name = metadataString(object, "name");
  auto updated = store_.update(*info, ns, name, std::move(object), WriteOptions{false});
  if (!updated) {
    return updated.error().toError();
  }
  return **updated;
}

Result<json> FakeApiServer::patchObject(const kube::ResourceType& type,
                                        std::string_view ns,
                                        std::string_view name,
                                        PatchKind kind,
                                        const json& patch) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  auto patched =
      store_.patch(*info, info->namespaced ? ns : "", name, kind, patch, WriteOptions{false});
  if (!patched) {
    return patched.error().toError();
  }
  return *patched->object;
}

Status FakeApiServer::removeObject(const kube::ResourceType& type,
                                   std::string_view ns,
                                   std::string_view name) {
  auto info = resolve(type);
  if (!info) {
    return info.error();
  }
  auto removed = store_.remove(*info, info->namespaced ? ns : "", name, DeleteRequest{});
  if (!removed) {
    return removed.error().toError();
  }
  return ok();
}

Status FakeApiServer::createNamespace(std::string_view name,
                                      const std::map<std::string, std::string>& labels) {
  json object = {
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", std::string(name)}}}};
  if (!labels.empty()) {
    object["metadata"]["labels"] = labels;
  }
  auto created = createObject(kube::resources::kNamespaces, std::move(object));
  if (!created) {
    return created.error();
  }
  return ok();
}

Result<std::size_t> FakeApiServer::loadManifestFile(const std::filesystem::path& file) {
  auto documents = readManifestFile(file);
  if (!documents) {
    return documents.error();
  }
  auto rank = [](const json& object) {
    const std::string kind = object.value("kind", "");
    return kind == "CustomResourceDefinition" ? 0 : kind == "Namespace" ? 1 : 2;
  };
  std::stable_sort(documents->begin(), documents->end(), [&](const json& a, const json& b) {
    return rank(a) < rank(b);
  });
  std::size_t created = 0;
  for (json& object : *documents) {
    if (!object.is_object()) {
      return fail(ErrorCode::InvalidArgument, file.string() + ": a document is not an object");
    }
    const std::string api_version = object.value("apiVersion", "");
    const std::string kind = object.value("kind", "");
    auto info = store_.findKind(api_version, kind);
    if (!info) {
      return fail(ErrorCode::InvalidArgument,
                  file.string() + ": no served resource has apiVersion \"" + api_version +
                      "\" and kind \"" + kind + "\"");
    }
    kube::ResourceType type{
        info->group, info->version, info->resource, info->kind, info->namespaced};
    if (info->namespaced) {
      std::string ns = metadataString(object, "namespace");
      if (ns.empty()) {
        ns = "default";
        object["metadata"]["namespace"] = ns;
      }
      if (!getObject(kube::resources::kNamespaces, "", ns)) {
        KPROF_TRY(createNamespace(ns));
      }
    }
    auto result = createObject(type, std::move(object));
    if (!result) {
      return result.error().wrap(file.string());
    }
    ++created;
  }
  return created;
}

int64_t FakeApiServer::resourceVersion() const {
  return store_.resourceVersion();
}

// ---------------------------------------------------------------- controls

void FakeApiServer::addToken(std::string token, UserInfo user) {
  std::lock_guard lock(mutex_);
  tokens_[std::move(token)] = std::move(user);
}

void FakeApiServer::removeToken(std::string_view token) {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(token);
  if (it != tokens_.end()) {
    tokens_.erase(it);
  }
}

void FakeApiServer::setServiceEndpoint(const std::string& ns,
                                       const std::string& name,
                                       std::string address) {
  std::lock_guard lock(mutex_);
  service_endpoints_[ns + "/" + name] = std::move(address);
}

void FakeApiServer::setPodAdmission(PodAdmissionHook hook) {
  std::lock_guard lock(mutex_);
  pod_admission_ = std::move(hook);
}

void FakeApiServer::failNext(Fault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void FakeApiServer::clearFaults() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

void FakeApiServer::dropWatches() {
  store_.closeWatches();
}

void FakeApiServer::setRequestDelay(std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
}

void FakeApiServer::compactHistory() {
  store_.compact();
}

int64_t FakeApiServer::requestCount(std::string_view verb, std::string_view resource) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(std::string(verb) + " " + std::string(resource));
  return it == counts_.end() ? 0 : it->second;
}

std::map<std::string, int64_t> FakeApiServer::requestCounts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

int64_t FakeApiServer::totalRequests() const {
  std::lock_guard lock(mutex_);
  return total_requests_;
}

void FakeApiServer::resetCounters() {
  std::lock_guard lock(mutex_);
  counts_.clear();
  total_requests_ = 0;
}

std::size_t FakeApiServer::openWatches() const {
  return store_.watchCount();
}

void FakeApiServer::count(const std::string& verb, const std::string& resource) {
  std::lock_guard lock(mutex_);
  ++counts_[verb + " " + resource];
}

std::vector<std::string> FakeApiServer::deniedRequests() const {
  std::lock_guard lock(mutex_);
  return denied_;
}

// ---------------------------------------------------------------- HTTP

namespace {

// The token of an "Authorization: Bearer <token>" header; empty when there is none.
std::string bearerToken(const http::Request& request) {
  const std::string header = request.headers.get("Authorization").value_or("");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !http::equalsIgnoreCase(std::string_view(header).substr(0, kBearer.size()), kBearer)) {
    return "";
  }
  return header.substr(kBearer.size());
}

}  // namespace

RequestAttributes FakeApiServer::requester(const http::Request& request) const {
  RequestAttributes out{.user = "system:anonymous", .groups = {"system:unauthenticated"}};
  const std::string token = bearerToken(request);
  std::lock_guard lock(mutex_);
  const auto it = token.empty() ? tokens_.end() : tokens_.find(token);
  if (it != tokens_.end()) {
    out.user = it->second.username;
    out.groups = it->second.groups;
    out.groups.push_back("system:authenticated");
  }
  return out;
}

std::optional<ApiError> FakeApiServer::authorize(const http::Request& request,
                                                 const ResourceInfo& info,
                                                 const std::string& verb,
                                                 const std::string& subresource,
                                                 const std::string& ns,
                                                 const std::string& name) {
  if (!options_.authorize_rbac) {
    return std::nullopt;
  }
  RequestAttributes attributes = requester(request);
  attributes.verb = verb;
  attributes.api_group = info.group;
  attributes.resource = info.resource;
  attributes.subresource = subresource;
  attributes.ns = ns;
  attributes.name = name;
  auto stored = [this](const kube::ResourceType& type) {
    auto objects = listObjects(type);
    return objects ? *objects : std::vector<json>{};
  };
  const RbacPolicy policy{.roles = stored(kRoles),
                          .cluster_roles = stored(kClusterRoles),
                          .role_bindings = stored(kRoleBindings),
                          .cluster_role_bindings = stored(kClusterRoleBindings)};
  if (rbacAllows(policy, attributes)) {
    return std::nullopt;
  }
  const std::string reason = forbiddenReason(attributes);
  {
    std::lock_guard lock(mutex_);
    denied_.push_back(reason);
  }
  return forbidden(info.groupResource(), name, reason);
}

std::optional<http::Response> FakeApiServer::checkAccess(const http::Request& request) {
  if (!options_.require_token) {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 4> kPublic = {
      "/version", "/healthz", "/livez", "/readyz"};
  if (std::find(kPublic.begin(), kPublic.end(), request.path) != kPublic.end()) {
    return std::nullopt;
  }
  const std::string token = bearerToken(request);
  std::lock_guard lock(mutex_);
  if (!token.empty() && tokens_.find(token) != tokens_.end()) {
    return std::nullopt;
  }
  return statusResponse(unauthorized());
}

std::optional<http::Response> FakeApiServer::takeFault(const http::Request& request) {
  std::lock_guard lock(mutex_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != request.method) {
      continue;
    }
    if (!it->path_prefix.empty() &&
        request.path.compare(0, it->path_prefix.size(), it->path_prefix) != 0) {
      continue;
    }
    ApiError error = statusFor(it->status, it->message, it->retry_after);
    if (--it->count <= 0) {
      faults_.erase(it);
    }
    return statusResponse(error);
  }
  return std::nullopt;
}

void FakeApiServer::handle(http::Request request, http::Responder responder) {
  try {
    dispatch(std::move(request), responder);
  } catch (const json::exception& e) {
    responder.send(statusResponse(badRequest(std::string("invalid request: ") + e.what())));
  }
}

void FakeApiServer::dispatch(http::Request request, const http::Responder& responder) {
  {
    std::lock_guard lock(mutex_);
    ++total_requests_;
  }
  if (int64_t delay = delay_ms_.load(); delay > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  if (auto denied = checkAccess(request)) {
    responder.send(std::move(*denied));
    return;
  }
  if (auto fault = takeFault(request)) {
    responder.send(std::move(*fault));
    return;
  }
  if (auto discovery = handleDiscovery(request)) {
    responder.send(std::move(*discovery));
    return;
  }
  std::vector<std::string> parts = splitPath(request.path);
  // /api/v1/... or /apis/<group>/<version>/...
  size_t rest_at = 0;
  std::string group;
  std::string version;
  if (parts.size() >= 3 && parts[0] == "api") {
    version = parts[1];
    rest_at = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
    rest_at = 3;
  } else {
    responder.send(statusResponse(resourceNotFound()));
    return;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(rest_at), parts.end());
  ResourceRequest target;
  if (rest.size() >= 3 && rest[0] == "namespaces" &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    target.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) {
    responder.send(statusResponse(resourceNotFound()));
    return;
  }
  auto info = store_.findResource(group, version, rest[0]);
  if (!info) {
    responder.send(statusResponse(resourceNotFound()));
    return;
  }
  target.info = *info;
  target.name = rest.size() >= 2 ? rest[1] : "";
  target.subresource = rest.size() == 3 ? rest[2] : "";
  if ((!target.ns.empty() && !info->namespaced) ||
      (info->namespaced && target.ns.empty() && !target.name.empty()) ||
      (!target.subresource.empty() &&
       !(target.subresource == "status" && info->status_subresource))) {
    responder.send(statusResponse(resourceNotFound()));
    return;
  }
  handleResource(request, target, responder);
}

std::optional<http::Response> FakeApiServer::handleDiscovery(const http::Request& request) {
  const std::string& path = request.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    return http::Response::text(200, "ok");
  }
  if (request.method != "GET") {
    return std::nullopt;
  }
  if (path == "/version") {
    return jsonResponse(200, versionDocument());
  }
  const std::string accept = request.headers.get("Accept").value_or("");
  const bool aggregated = accept.find("as=APIGroupDiscoveryList") != std::string::npos &&
                          accept.find("v=v2;") != std::string::npos;
  if (path == "/api" || path == "/apis") {
    std::vector<ResourceInfo> resources = store_.resources();
    if (aggregated) {
      http::Response response = jsonResponse(200, aggregatedDiscovery(resources, path == "/api"));
      response.content_type = std::string(kAggregatedDiscoveryContentType);
      return response;
    }
    if (path == "/api") {
      std::string host = request.headers.get("Host").value_or(options_.host);
      return jsonResponse(200, coreVersionsDocument(host));
    }
    return jsonResponse(200, groupListDocument(resources));
  }
  std::vector<std::string> parts = splitPath(path);
  if (parts.size() == 2 && parts[0] == "api") {
    auto document = resourceListDocument(store_.resources(), "", parts[1]);
    return document ? jsonResponse(200, *document) : statusResponse(resourceNotFound());
  }
  if (parts.size() == 2 && parts[0] == "apis") {
    auto document = groupDocument(store_.resources(), parts[1]);
    return document ? jsonResponse(200, *document) : statusResponse(resourceNotFound());
  }
  if (parts.size() == 3 && parts[0] == "apis") {
    auto document = resourceListDocument(store_.resources(), parts[1], parts[2]);
    return document ? jsonResponse(200, *document) : statusResponse(resourceNotFound());
  }
  if (path == "/openapi/v3") {
    return jsonResponse(200, openApiV3Index(store_.resources()));
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    auto document = openApiV3Document(store_.resources(), path.substr(12));
    return document ? jsonResponse(200, *document) : statusResponse(resourceNotFound());
  }
  if (path == "/openapi/v2") {
    return statusResponse(resourceNotFound());
  }
  return std::nullopt;
}

http::Response FakeApiServer::handleTokenReview(const http::Request& request) {
  auto body = parseBody(request, true);
  if (!body) {
    return statusResponse(body.error());
  }
  if (!body->is_object() || body->value("kind", "TokenReview") != "TokenReview") {
    return statusResponse(badRequest("the request body must be a TokenReview"));
  }
  const std::string token = body->value("/spec/token"_json_pointer, std::string());
  if (token.empty()) {
    return statusResponse(invalid("TokenReview.authentication.k8s.io",
                                  "",
                                  {{"FieldValueRequired", "Required value", "spec.token"}}));
  }
  std::vector<std::string> requested;
  for (const json& audience : body->value("/spec/audiences"_json_pointer, json::array())) {
    if (audience.is_string()) {
      requested.push_back(audience.get<std::string>());
    }
  }
  std::optional<UserInfo> user;
  {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it != tokens_.end()) {
      user = it->second;
    }
  }
  json status = {{"user", json::object()}};
  if (!user) {
    status["error"] = "invalid bearer token";
  } else {
    std::vector<std::string> audiences = requested;
    if (!user->audiences.empty() && !requested.empty()) {
      audiences.clear();
      for (const std::string& audience : requested) {
        if (std::find(user->audiences.begin(), user->audiences.end(), audience) !=
            user->audiences.end()) {
          audiences.push_back(audience);
        }
      }
    }
    if (!requested.empty() && audiences.empty()) {
      status["error"] = "token audiences are invalid for the target audiences";
    } else {
      json user_json = {{"username", user->username}};
      if (!user->uid.empty()) {
        user_json["uid"] = user->uid;
      }
      if (!user->groups.empty()) {
        user_json["groups"] = user->groups;
      }
      if (!user->extra.empty()) {
        user_json["extra"] = user->extra;
      }
      status = {{"authenticated", true}, {"user", user_json}};
      if (!audiences.empty()) {
        status["audiences"] = audiences;
      } else if (!user->audiences.empty()) {
        status["audiences"] = user->audiences;
      }
    }
  }
  json review = *body;
  review["apiVersion"] = "authentication.k8s.io/v1";
  review["kind"] = "TokenReview";
  if (!review.contains("metadata") || !review["metadata"].is_object()) {
    review["metadata"] = json::object();
  }
  review["metadata"]["creationTimestamp"] = nullptr;
  review["status"] = status;
  return jsonResponse(201, review);
}

void FakeApiServer::handleResource(const http::Request& request,
                                   const ResourceRequest& target,
                                   const http::Responder& responder) {
  const ResourceInfo& info = target.info;
  const std::string resource_label =
      info.resource + (target.subresource.empty() ? "" : "/" + target.subresource);
  const std::string& method = request.method;
  const bool named = !target.name.empty();
  const bool watch = method == "GET" && queryFlag(request, "watch");
  std::string verb;
  if (method == "GET") {
    verb = watch ? "watch" : named ? "get" : "list";
  } else if (method == "POST" && !named) {
    verb = "create";
  } else if (method == "PUT" && named) {
    verb = "update";
  } else if (method == "PATCH" && named) {
    verb = "patch";
  } else if (method == "DELETE") {
    verb = named ? "delete" : "deletecollection";
  }
  const bool status_verb = verb == "get" || verb == "update" || verb == "patch";
  if (verb.empty() || (!target.subresource.empty() && !status_verb) ||
      (target.subresource.empty() && !info.hasVerb(verb) && verb != "watch") ||
      (verb == "watch" && !info.hasVerb("watch"))) {
    count(verb.empty() ? lower(method) : verb, resource_label);
    responder.send(statusResponse(
        methodNotSupported(info.groupResource(), verb.empty() ? lower(method) : verb)));
    return;
  }
  count(verb, resource_label);
  if (auto denied = authorize(request, info, verb, target.subresource, target.ns, target.name)) {
    responder.send(statusResponse(*denied));
    return;
  }
  if (info.group == "authentication.k8s.io" && info.resource == "tokenreviews") {
    responder.send(handleTokenReview(request));
    return;
  }
  auto encoding = negotiate(request);
  if (!encoding) {
    responder.send(statusResponse(
        notAcceptable("only the following media types are accepted: application/json, "
                      "application/json;as=Table;v=v1;g=meta.k8s.io")));
    return;
  }
  WriteOptions write;
  write.dry_run = isDryRun(request);
  write.subresource = target.subresource;

  auto respondObject = [&](int status, const ObjectPtr& object) {
    if (*encoding == Encoding::Table && (verb == "get")) {
      json metadata = {{"resourceVersion", metadataString(*object, "resourceVersion")}};
      responder.send(jsonResponse(
          status,
          renderTable(info, {object.get()}, includeObject(request), clock_.wallNow(), metadata)));
      return;
    }
    if (*encoding == Encoding::PartialMetadata && verb == "get") {
      responder.send(jsonResponse(status,
                                  {{"kind", "PartialObjectMetadata"},
                                   {"apiVersion", "meta.k8s.io/v1"},
                                   {"metadata", object->value("metadata", json::object())}}));
      return;
    }
    responder.send(http::Response::json(status, dumpJson(*object)));
  };
  // A store call's outcome as the response: its Status error, or the object with `status`.
  auto respondStored = [&](const auto& stored, int status) {
    if (!stored) {
      responder.send(statusResponse(stored.error()));
      return;
    }
    respondObject(status, *stored);
  };

  auto parseSelectors = [&](kube::LabelSelector& labels,
                            kube::FieldSelector& fields) -> std::optional<ApiError> {
    auto parsed_labels = kube::LabelSelector::parse(request.queryParam("labelSelector").value_or(""));
    if (!parsed_labels) {
      return badRequest(parsed_labels.error().message);
    }
    auto parsed_fields = kube::FieldSelector::parse(request.queryParam("fieldSelector").value_or(""));
    if (!parsed_fields) {
      return badRequest(parsed_fields.error().message);
    }
    labels = std::move(*parsed_labels);
    fields = std::move(*parsed_fields);
    return std::nullopt;
  };

  if (verb == "get") {
    respondStored(store_.get(info, target.ns, target.name), 200);
    return;
  }

  if (verb == "list" || verb == "deletecollection") {
    ListQuery query;
    query.ns = target.ns;
    if (auto problem = parseSelectors(query.labels, query.fields)) {
      responder.send(statusResponse(*problem));
      return;
    }
    if (auto limit = request.queryParam("limit")) {
      int64_t value = 0;
      auto [end, error] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
      if (error != std::errc() || end != limit->data() + limit->size() || value < 0) {
        responder.send(statusResponse(badRequest("invalid limit \"" + *limit + "\"")));
        return;
      }
      query.limit = value;
    }
    query.continue_token = request.queryParam("continue").value_or("");
    query.resource_version = request.queryParam("resourceVersion").value_or("");
    query.resource_version_match = request.queryParam("resourceVersionMatch").value_or("");
    if (verb == "deletecollection") {
      DeleteRequest deletion;
      deletion.dry_run = write.dry_run;
      deletion.propagation = request.queryParam("propagationPolicy").value_or("Background");
      auto removed = store_.removeCollection(info, query, deletion);
      if (!removed) {
        responder.send(statusResponse(removed.error()));
        return;
      }
      ListPage page;
      page.items = std::move(*removed);
      page.resource_version = store_.resourceVersion();
      responder.send(http::Response::json(200, listBody(info, page, Encoding::Json)));
      return;
    }
    auto page = store_.list(info, query);
    if (!page) {
      responder.send(statusResponse(page.error()));
      return;
    }
    if (*encoding == Encoding::Table) {
      json metadata = {{"resourceVersion", std::to_string(page->resource_version)}};
      if (!page->continue_token.empty()) {
        metadata["continue"] = page->continue_token;
      }
      std::vector<const json*> objects;
      objects.reserve(page->items.size());
      for (const ObjectPtr& item : page->items) {
        objects.push_back(item.get());
      }
      responder.send(jsonResponse(
          200, renderTable(info, objects, includeObject(request), clock_.wallNow(), metadata)));
      return;
    }
    responder.send(http::Response::json(200, listBody(info, *page, *encoding)));
    return;
  }

  if (verb == "watch") {
    WatchQuery query;
    query.ns = target.ns;
    if (auto problem = parseSelectors(query.labels, query.fields)) {
      responder.send(statusResponse(*problem));
      return;
    }
    if (named) {
      auto by_name = kube::FieldSelector::parse(
          "metadata.name=" + target.name +
          (query.fields.empty() ? "" : "," + request.queryParam("fieldSelector").value_or("")));
      if (by_name) {
        query.fields = std::move(*by_name);
      }
    }
    query.resource_version = request.queryParam("resourceVersion").value_or("");
    query.bookmarks = queryFlag(request, "allowWatchBookmarks");
    query.send_initial_events = queryFlag(request, "sendInitialEvents");
    std::chrono::seconds timeout = options_.default_watch_timeout;
    if (auto seconds = request.queryParam("timeoutSeconds")) {
      int64_t value = 0;
      auto [end, error] =
          std::from_chars(seconds->data(), seconds->data() + seconds->size(), value);
      if (error != std::errc() || end != seconds->data() + seconds->size() || value < 0) {
        responder.send(statusResponse(badRequest("invalid timeoutSeconds \"" + *seconds + "\"")));
        return;
      }
      if (value > 0) {
        timeout = std::chrono::seconds(value);
      }
    }
    query.deadline = clock_.now() + timeout;
    if (*encoding == Encoding::Table) {
      // As the real server does for `kubectl get -w`: each event carries a one-row Table.
      query.render = [info, include = includeObject(request), &clock = clock_](const json& object) {
        json metadata = {{"resourceVersion", metadataString(object, "resourceVersion")}};
        return renderTable(info, {&object}, include, clock.wallNow(), metadata);
      };
    }
    auto started = store_.watch(info, query, [&]() -> std::shared_ptr<WatchSink> {
      auto stream = responder.stream(200, std::string(kJson));
      return stream ? std::make_shared<StreamSink>(std::move(stream)) : nullptr;
    });
    if (!started) {
      responder.send(statusResponse(started.error()));
    }
    return;
  }

  if (verb == "delete") {
    DeleteRequest deletion;
    deletion.dry_run = write.dry_run;
    if (auto policy = request.queryParam("propagationPolicy")) {
      deletion.propagation = *policy;
    }
    if (queryFlag(request, "orphanDependents")) {
      deletion.propagation = "Orphan";
    }
    if (!request.body.empty()) {
      auto body = parseBody(request, true);
      if (!body) {
        responder.send(statusResponse(body.error()));
        return;
      }
      if (body->is_object()) {
        deletion.propagation = body->value("propagationPolicy", deletion.propagation);
        if (body->value("orphanDependents", false)) {
          deletion.propagation = "Orphan";
        }
        deletion.precondition_uid = body->value("/preconditions/uid"_json_pointer, std::string());
        deletion.precondition_resource_version =
            body->value("/preconditions/resourceVersion"_json_pointer, std::string());
        auto dry_run = body->find("dryRun");
        if (dry_run != body->end() && dry_run->is_array() &&
            std::find(dry_run->begin(), dry_run->end(), json("All")) != dry_run->end()) {
          deletion.dry_run = true;
        }
      }
    }
    respondStored(store_.remove(info, target.ns, target.name, deletion), 200);
    return;
  }

  if (verb == "create") {
    auto body = parseBody(request, true);
    if (!body) {
      responder.send(statusResponse(body.error()));
      return;
    }
    json object = std::move(*body);
    if (info.group.empty() && info.resource == "pods" && object.is_object() && !write.dry_run) {
      PodAdmissionHook hook;
      {
        std::lock_guard lock(mutex_);
        hook = pod_admission_;
      }
      if (hook) {
        json admitted = object;
        admitted["metadata"]["namespace"] = target.ns;
        std::optional<json> patch;
        try {
          patch = hook(admitted);
        } catch (const std::exception& e) {
          responder.send(statusResponse(internalError(std::string("admission hook: ") + e.what())));
          return;
        }
        if (patch) {
          auto patched = applyJsonPatch(admitted, *patch);
          if (!patched) {
            responder.send(statusResponse(
                internalError("admission hook returned a patch that does not apply: " +
                              patched.error().message)));
            return;
          }
          object = std::move(*patched);
        }
      }
      auto webhooks = listObjects(kube::resources::kMutatingWebhookConfigurations);
      if (webhooks && !webhooks->empty()) {
        json namespace_labels = json::object();
        if (auto ns_object = getObject(kube::resources::kNamespaces, "", target.ns)) {
          namespace_labels = ns_object->value("/metadata/labels"_json_pointer, json::object());
        }
        json admitted = object;
        admitted["metadata"]["namespace"] = target.ns;
        auto admission = callMutatingWebhooks(
            *webhooks, namespace_labels, target.ns, admitted,
            [this](const std::string& ns, const std::string& name,
                   int) -> std::optional<std::string> {
              std::lock_guard lock(mutex_);
              auto found = service_endpoints_.find(ns + "/" + name);
              if (found == service_endpoints_.end()) return std::nullopt;
              return found->second;
            });
        if (!admission) {
          responder.send(statusResponse(admission.error()));
          return;
        }
        for (const auto& call : admission->calls) {
          if (call.ignored_failure) {
            fakeLog()->warn("webhook {} failed, ignored (failurePolicy Ignore): {}", call.webhook,
                            call.error);
          }
        }
        object = std::move(admission->object);
      }
    }
    respondStored(store_.create(info, target.ns, std::move(object), write), 201);
    return;
  }

  if (verb == "update") {
    auto body = parseBody(request, true);
    if (!body) {
      responder.send(statusResponse(body.error()));
      return;
    }
    respondStored(store_.update(info, target.ns, target.name, std::move(*body), write), 200);
    return;
  }

  if (verb == "patch") {
    const std::string type = mediaType(request.headers.get("Content-Type").value_or(""));
    PatchKind kind;
    if (type == "application/merge-patch+json") {
      kind = PatchKind::Merge;
    } else if (type == "application/json-patch+json") {
      kind = PatchKind::Json;
    } else if (type == "application/strategic-merge-patch+json") {
      kind = PatchKind::StrategicMerge;
    } else if (type == "application/apply-patch+yaml") {
      kind = PatchKind::Apply;
    } else {
      responder.send(statusResponse(unsupportedMediaType(
          type,
          "application/json-patch+json, application/merge-patch+json, "
          "application/strategic-merge-patch+json, application/apply-patch+yaml")));
      return;
    }
    if (kind == PatchKind::Apply && request.queryParam("fieldManager").value_or("").empty()) {
      responder.send(statusResponse(
          badRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                     "is required for apply patch")));
      return;
    }
    auto body = parseBody(request, kind == PatchKind::Apply);
    if (!body) {
      responder.send(statusResponse(body.error()));
      return;
    }
    auto patched = store_.patch(info, target.ns, target.name, kind, *body, write);
    if (!patched) {
      responder.send(statusResponse(patched.error()));
      return;
    }
    respondObject(patched->created ? 201 : 200, patched->object);
    return;
  }
  responder.send(statusResponse(methodNotSupported(info.groupResource(), verb)));
}

}  // namespace kprof::testing
