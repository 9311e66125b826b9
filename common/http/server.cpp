#include "common/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>
#include <pplx/threadpool.h>

#include "common/http/body_reader.hpp"
#include "common/http/http_log.hpp"
#include "common/http/ports.hpp"
#include "common/http/tls_policy.hpp"

namespace kprof::http {

namespace wh = web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

namespace {

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

struct Route {
  std::string method;
  std::string path;
  PathMatch match = PathMatch::Exact;
  Handler handler;  // exactly one of handler and async_handler is set
  AsyncHandler async_handler;
};

struct RouteMatch {
  const Route* route = nullptr;
  bool path_known = false;  // some route serves this path, with another method
  std::string allowed;      // "GET, POST" for the 405 Allow header
};

Response closingError(int status, std::string_view message) {
  Response response = errorResponse(status, message);
  response.headers.set("Connection", "close");
  return response;
}

// Turns a Response into cpprestsdk's; the server frames the body itself.
wh::http_response toWire(Response response) {
  wh::http_response wire(static_cast<wh::status_code>(response.status));
  std::string content_type = std::move(response.content_type);
  for (auto& [name, value] : response.headers.entries()) {
    if (equalsIgnoreCase(name, "Content-Type")) {
      if (content_type.empty()) {
        content_type = value;
      }
    } else if (!equalsIgnoreCase(name, "Content-Length") &&
               !equalsIgnoreCase(name, "Transfer-Encoding")) {
      wire.headers().add(name, value);
    }
  }
  if (!response.body.empty()) {
    wire.set_body(std::move(response.body),
                  content_type.empty() ? "application/octet-stream" : content_type);
  } else if (!content_type.empty()) {
    wire.headers().set_content_type(content_type);
  }
  return wire;
}

std::string decodeQueryPart(std::string part) {
  // Form encoding (Go's url.Values, which kubectl uses) writes spaces as '+'.
  for (char& c : part) {
    if (c == '+') {
      c = ' ';
    }
  }
  return web::uri::decode(part);
}

// Everything but the body, which arrives later.
Result<Request> parseRequest(const wh::http_request& raw) {
  Request request;
  request.method = raw.method();
  try {
    const web::uri& target = raw.request_uri();
    request.path = web::uri::decode(target.path());
    if (request.path.empty()) {
      request.path = "/";
    }
    for (const auto& [key, value] : web::uri::split_query(target.query())) {
      request.query[decodeQueryPart(key)] = decodeQueryPart(value);
    }
  } catch (const std::exception& e) {
    return fail(ErrorCode::Parse, std::string("malformed request target: ") + e.what());
  }
  for (const auto& [name, value] : raw.headers()) {
    request.headers.add(name, value);
  }
  request.peer = raw.remote_address();
  return request;
}

// Stops cpprestsdk from taking in more of a rejected body: its next write into the body buffer
// fails, which ends the request read, so the response can go out without the rest arriving.
void abortBody(const wh::http_request& raw) {
  try {
    raw.body()
        .streambuf()
        .close(std::ios_base::out,
               std::make_exception_ptr(std::runtime_error("request body rejected")))
        .then([](pplx::task<void> closed) {
          try {
            closed.get();
          } catch (...) {
          }
        });
  } catch (...) {
  }
}

// cpprestsdk keeps a port's acceptor — and a reference to the TLS callback of the first listener
// on it — until the last listener in the process closes. So a closed listener is never destroyed
// (it is parked here), and the TLS callback asks the port's slot for the server now owning it.
struct PortSlot {
  std::mutex mutex;
  std::weak_ptr<ServerCore> owner;
};

class ListenerRegistry {
 public:
  static ListenerRegistry& instance() {
    static auto* registry = new ListenerRegistry();  // never destroyed: listeners outlive main
    return *registry;
  }

  std::shared_ptr<PortSlot> slot(const std::string& host_port) {
    std::lock_guard lock(mutex_);
    auto& slot = slots_[host_port];
    if (!slot) {
      slot = std::make_shared<PortSlot>();
    }
    return slot;
  }

  void retire(std::unique_ptr<http_listener> listener) {
    std::lock_guard lock(mutex_);
    retired_.push_back(std::move(listener));
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<PortSlot>> slots_;
  std::vector<std::unique_ptr<http_listener>> retired_;
};

// cpprestsdk tears a closed connection down in handlers and pplx continuations on its thread
// pool, and pplx queues those as raw pointers. If the process exits right after stop(), the pool
// stops with some still queued and they (with the requests they hold) are never freed. So stop()
// waits, bounded, until every pool thread has reached a barrier posted behind that work — then
// nothing queued earlier is still pending or running — a few times over, since teardown steps
// queue follow-ups.
void settleLibraryPool() {
  constexpr int kPoolThreads = 40;  // crossplat::threadpool's default size
  constexpr int kRounds = 4;
  auto& pool = crossplat::threadpool::shared_instance().service();
  for (int round = 0; round < kRounds; ++round) {
    struct Barrier {
      std::mutex mutex;
      std::condition_variable changed;
      int arrived = 0;
      bool released = false;
    };
    auto barrier = std::make_shared<Barrier>();
    for (int i = 0; i < kPoolThreads; ++i) {
      boost::asio::post(pool, [barrier] {
        std::unique_lock lock(barrier->mutex);
        ++barrier->arrived;
        barrier->changed.notify_all();
        // Hold this thread so the others must take the remaining markers.
        barrier->changed.wait_for(
            lock, std::chrono::milliseconds(500), [&] { return barrier->released; });
      });
    }
    std::unique_lock lock(barrier->mutex);
    bool all_arrived = barrier->changed.wait_for(
        lock, std::chrono::milliseconds(500), [&] { return barrier->arrived == kPoolThreads; });
    barrier->released = true;
    barrier->changed.notify_all();
    if (!all_arrived) {
      return;  // a busy or resized pool: do not hold up the stop any longer
    }
  }
}

}  // namespace

// Chunked body writer state shared between a BodyStream and the response being sent.
struct StreamState {
  concurrency::streams::producer_consumer_buffer<std::uint8_t> buffer;
  std::mutex mutex;
  bool open = true;

  bool write(std::string_view data) {
    std::lock_guard lock(mutex);
    if (!open) {
      return false;
    }
    try {
      // The producer/consumer buffer copies synchronously; sync() makes the bytes readable by
      // the server now instead of once a full chunk has accumulated.
      buffer.putn_nocopy(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()).get();
      buffer.sync().get();
    } catch (...) {
      open = false;
      return false;
    }
    return true;
  }

  void close() {
    std::lock_guard lock(mutex);
    if (!open) {
      return;
    }
    open = false;
    try {
      buffer.close(std::ios_base::out).get();
    } catch (...) {
    }
  }
};

// State shared by the listener callback and every continuation of a request; outlives the Server
// object if a continuation is still pending.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  explicit ServerCore(ServerOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : systemClock()) {}

  const ServerOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  std::vector<Route>& routes() { return routes_; }

  void dispatch(wh::http_request raw);

  std::uint64_t nextRequestId() { return next_id_.fetch_add(1); }

  // Registers a request as in flight; false if the server is draining.
  bool beginRequest(std::uint64_t id, const std::shared_ptr<ReplyState>& reply) {
    std::lock_guard lock(mutex_);
    active_[id].reply = reply;
    return !draining_;
  }

  void finishRequest(std::uint64_t id, const RequestRecord& record) {
    if (options_.observer && enterUserCode()) {
      try {
        options_.observer(record);
      } catch (...) {
        httpLog().error("request observer threw: {}", detail::describeCurrentException());
      }
      leaveUserCode();
    }
    std::lock_guard lock(mutex_);
    active_.erase(id);
    changed_.notify_all();
  }

  // Handlers and the observer run between these; after close() no new call starts.
  bool enterUserCode() {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    ++running_user_code_;
    return true;
  }

  void leaveUserCode() {
    std::lock_guard lock(mutex_);
    --running_user_code_;
    changed_.notify_all();
  }

  // A streaming response is held here until it completes, so stop() can end it even after the
  // handler and every Responder are gone.
  void attachStream(std::uint64_t id, std::shared_ptr<StreamState> stream) {
    std::lock_guard lock(mutex_);
    auto found = active_.find(id);
    if (found != active_.end()) {
      found->second.stream = std::move(stream);
    }
  }

  void beginDrain() {
    std::lock_guard lock(mutex_);
    draining_ = true;
  }

  bool waitIdle(Clock::SteadyTime deadline) {
    std::unique_lock lock(mutex_);
    // The condition variable runs on the steady clock; the injected clock only times requests.
    auto remaining = deadline - clock_.now();
    return changed_.wait_for(lock, remaining, [&] { return active_.empty(); });
  }

  // Answers every unanswered request with 503 and ends open streams.
  void closeAndAbort();

  void waitForUserCode() {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(
            lock, std::chrono::seconds(5), [&] { return running_user_code_ == 0; })) {
      httpLog().warn("waiting for {} handler(s) still running after stop", running_user_code_);
      changed_.wait(lock, [&] { return running_user_code_ == 0; });
    }
  }

 private:
  RouteMatch findRoute(const std::string& method, const std::string& path) const;
  void invoke(const RouteMatch& match, Request request, std::shared_ptr<ReplyState> reply);

  const ServerOptions options_;
  const Clock& clock_;
  std::vector<Route> routes_;

  std::mutex mutex_;
  std::condition_variable changed_;
  struct ActiveRequest {
    std::weak_ptr<ReplyState> reply;
    std::shared_ptr<StreamState> stream;
  };
  std::unordered_map<std::uint64_t, ActiveRequest> active_;
  std::atomic<std::uint64_t> next_id_{1};
  int running_user_code_ = 0;
  bool draining_ = false;
  bool closed_ = false;
};

// One request's answer: at most one response, the in-flight bookkeeping, the observer record.
class ReplyState {
 public:
  ReplyState(std::shared_ptr<ServerCore> core,
             std::uint64_t id,
             std::string route,
             wh::http_request raw)
      : core_(std::move(core)),
        id_(id),
        route_(std::move(route)),
        method_(raw.method()),
        started_(core_->clock().now()),
        raw_(std::move(raw)) {}

  ~ReplyState() {
    if (claim()) {
      httpLog().error("{} {}: handler dropped the request without answering", method_, route_);
      deliver(toWire(errorResponse(500, "handler did not answer")), 500, nullptr);
    }
  }

  ReplyState(const ReplyState&) = delete;
  ReplyState& operator=(const ReplyState&) = delete;

  // The cpprestsdk request; empty once answered (a Responder kept after the answer does not keep
  // the library's request alive).
  std::optional<wh::http_request> raw() const {
    std::lock_guard lock(raw_mutex_);
    return raw_;
  }

  bool send(Response response) {
    if (!claim()) {
      return false;
    }
    int status = response.status;
    deliver(toWire(std::move(response)), status, nullptr);
    return true;
  }

  std::shared_ptr<BodyStream> stream(int status, std::string content_type, Headers headers) {
    if (!claim()) {
      return nullptr;
    }
    auto state = std::make_shared<StreamState>();
    Response head;
    head.status = status;
    head.headers = std::move(headers);
    wh::http_response wire = toWire(std::move(head));
    wire.set_body(state->buffer.create_istream(),
                  content_type.empty() ? "application/octet-stream" : content_type);
    core_->attachStream(id_, state);
    deliver(std::move(wire), status, state);
    return std::make_shared<BodyStream>(state);
  }

  bool answered() const { return answered_.load(); }
  std::uint64_t id() const { return id_; }

  void abortForStop() { send(closingError(503, "server is shutting down")); }

 private:
  bool claim() {
    bool expected = false;
    return answered_.compare_exchange_strong(expected, true);
  }

  void deliver(wh::http_response wire, int status, std::shared_ptr<StreamState> stream) {
    auto finish = [core = core_,
                   id = id_,
                   method = method_,
                   route = route_,
                   status,
                   started = started_,
                   stream](bool written) {
      if (stream) {
        stream->close();  // the peer is gone, or the body is already complete
      }
      if (!written) {
        httpLog().debug("{} {}: response not delivered", method, route);
      }
      core->finishRequest(id, RequestRecord{method, route, status, core->clock().now() - started});
    };
    std::optional<wh::http_request> raw;
    {
      std::lock_guard lock(raw_mutex_);
      raw = std::move(raw_);
      raw_.reset();
    }
    if (!raw) {
      finish(false);
      return;
    }
    try {
      raw->reply(wire).then([finish](pplx::task<void> sent) {
        bool written = true;
        try {
          sent.get();
        } catch (...) {
          written = false;
        }
        finish(written);
      });
    } catch (...) {
      httpLog().warn(
          "{} {}: reply failed: {}", method_, route_, detail::describeCurrentException());
      finish(false);
    }
  }

  const std::shared_ptr<ServerCore> core_;
  const std::uint64_t id_;
  const std::string route_;  // the matched route's path, "" if none
  const std::string method_;
  const Clock::SteadyTime started_;
  mutable std::mutex raw_mutex_;
  std::optional<wh::http_request> raw_;
  std::atomic<bool> answered_{false};
};

void ServerCore::closeAndAbort() {
  std::vector<std::shared_ptr<ReplyState>> unanswered;
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& [id, request] : active_) {
      if (auto reply = request.reply.lock()) {
        unanswered.push_back(std::move(reply));
      }
      if (request.stream) {
        streams.push_back(request.stream);
      }
    }
  }
  if (!unanswered.empty() || !streams.empty()) {
    httpLog().info("stop deadline reached with {} request(s) and {} stream(s) open; ending them",
                   unanswered.size(),
                   streams.size());
  }
  for (auto& reply : unanswered) {
    reply->abortForStop();  // 503 unless already answered
  }
  // An open stream keeps its connection busy waiting for body data; ending it lets the listener
  // close.
  for (auto& stream : streams) {
    stream->close();
  }
}

RouteMatch ServerCore::findRoute(const std::string& method, const std::string& path) const {
  RouteMatch result;
  const Route* best_prefix = nullptr;
  std::size_t best_prefix_length = 0;
  for (const Route& route : routes_) {
    bool path_matches = route.match == PathMatch::Exact
                            ? route.path == path
                            : path.compare(0, route.path.size(), route.path) == 0;
    if (!path_matches) {
      continue;
    }
    result.path_known = true;
    if (result.allowed.find(route.method) == std::string::npos) {
      result.allowed += result.allowed.empty() ? route.method : ", " + route.method;
    }
    if (route.method != method) {
      continue;
    }
    if (route.match == PathMatch::Exact) {
      result.route = &route;
      return result;
    }
    if (best_prefix == nullptr || route.path.size() > best_prefix_length) {
      best_prefix = &route;
      best_prefix_length = route.path.size();
    }
  }
  result.route = best_prefix;
  return result;
}

void ServerCore::dispatch(wh::http_request raw) {
  auto parsed = parseRequest(raw);
  RouteMatch match = parsed ? findRoute(parsed->method, parsed->path) : RouteMatch{};
  auto reply = std::make_shared<ReplyState>(
      shared_from_this(), nextRequestId(), match.route != nullptr ? match.route->path : "", raw);
  if (!beginRequest(reply->id(), reply)) {
    abortBody(raw);
    reply->send(closingError(503, "server is shutting down"));
    return;
  }
  if (!parsed) {
    abortBody(raw);
    reply->send(closingError(400, parsed.error().message));
    return;
  }

  const std::size_t limit = options_.max_body_bytes;
  if (raw.headers().content_length() > limit) {
    abortBody(raw);
    reply->send(closingError(413, "request body exceeds " + std::to_string(limit) + " bytes"));
    return;
  }
  // The body is read here, as it arrives, so an oversized chunked body is cut off at the limit.
  auto body = std::make_shared<std::string>();
  auto reader = detail::BodyReader::create(
      raw.body(),
      [body, limit](std::string_view chunk) {
        if (body->size() + chunk.size() > limit) {
          return detail::BodyReader::Next::Stop;
        }
        body->append(chunk);
        return detail::BodyReader::Next::Continue;
      },
      [self = shared_from_this(), reply, match, request = std::move(*parsed), body, limit](
          detail::BodyReader::End end, const std::string& error) mutable {
        if (end == detail::BodyReader::End::Stopped) {
          if (auto request_handle = reply->raw()) {
            abortBody(*request_handle);
          }
          reply->send(
              closingError(413, "request body exceeds " + std::to_string(limit) + " bytes"));
          return;
        }
        if (end == detail::BodyReader::End::Failed) {
          reply->send(closingError(400, "reading request body: " + error));
          return;
        }
        // End of buffer; content_ready() tells a complete body from a connection cut short.
        auto request_handle = reply->raw();
        if (!request_handle) {
          return;  // already answered (the server is stopping)
        }
        request_handle->content_ready().then(
            [self, reply, match, request = std::move(request), body](
                pplx::task<wh::http_request> ready) mutable {
              try {
                ready.get();
              } catch (...) {
                reply->send(closingError(400, "request body incomplete"));
                return;
              }
              request.body = std::move(*body);
              self->invoke(match, std::move(request), std::move(reply));
            });
      });
  reader->read();
}

void ServerCore::invoke(const RouteMatch& match,
                        Request request,
                        std::shared_ptr<ReplyState> reply) {
  if (match.route == nullptr) {
    if (match.path_known) {
      Response response = errorResponse(405, request.method + " is not allowed on " + request.path);
      response.headers.set("Allow", match.allowed);
      reply->send(std::move(response));
    } else {
      reply->send(errorResponse(404, "no route for " + request.method + " " + request.path));
    }
    return;
  }
  if (!enterUserCode()) {
    reply->send(closingError(503, "server is shutting down"));
    return;
  }
  const Route& route = *match.route;
  try {
    if (route.handler) {
      reply->send(route.handler(request));
    } else {
      route.async_handler(std::move(request), Responder(reply));
    }
  } catch (...) {
    httpLog().error(
        "{} {}: handler threw: {}", route.method, route.path, detail::describeCurrentException());
    reply->send(errorResponse(500, "internal error"));
  }
  leaveUserCode();
}

BodyStream::BodyStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}

BodyStream::~BodyStream() {
  state_->close();
}

bool BodyStream::write(std::string_view data) {
  return state_->write(data);
}

void BodyStream::close() {
  state_->close();
}

bool BodyStream::isOpen() const {
  std::lock_guard lock(state_->mutex);
  return state_->open;
}

Responder::Responder(std::shared_ptr<ReplyState> state) : state_(std::move(state)) {}

bool Responder::send(Response response) const {
  return state_->send(std::move(response));
}

std::shared_ptr<BodyStream> Responder::stream(int status,
                                              std::string content_type,
                                              Headers headers) const {
  return state_->stream(status, std::move(content_type), std::move(headers));
}

bool Responder::answered() const {
  return state_->answered();
}

struct Server::Listener {
  std::unique_ptr<http_listener> listener;
  std::shared_ptr<PortSlot> slot;
  std::uint16_t port = 0;
};

Server::Server(ServerOptions options)
    : core_(std::make_shared<ServerCore>(std::move(options))),
      listener_(std::make_unique<Listener>()) {}

Server::~Server() {
  stop(std::chrono::seconds(1));
}

void Server::route(std::string method, std::string path, Handler handler, PathMatch match) {
  if (started_) {
    throw std::logic_error("Server::route after start()");  // a programming error, not input
  }
  core_->routes().push_back(
      Route{std::move(method), std::move(path), match, std::move(handler), {}});
}

void Server::routeAsync(std::string method,
                        std::string path,
                        AsyncHandler handler,
                        PathMatch match) {
  if (started_) {
    throw std::logic_error("Server::routeAsync after start()");
  }
  core_->routes().push_back(
      Route{std::move(method), std::move(path), match, {}, std::move(handler)});
}

namespace {

std::string urlHost(const std::string& host) {
  if (host == "0.0.0.0") {
    return "127.0.0.1";
  }
  if (host == "::") {
    return "[::1]";
  }
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

Status Server::start() {
  if (started_) {
    return fail(ErrorCode::InvalidArgument, "server already started");
  }
  const ServerOptions& options = core_->options();
  const bool tls = options.certificates != nullptr;
  const int attempts = options.port == 0 ? 5 : 1;
  std::string last_error;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::uint16_t port = options.port;
    if (port == 0) {
      auto picked = pickFreePort(options.host);
      if (!picked) {
        return picked.error();
      }
      port = *picked;
    }
    std::string host =
        options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    std::string host_port = host + ":" + std::to_string(port);
    auto slot = ListenerRegistry::instance().slot(host_port);
    {
      std::lock_guard lock(slot->mutex);
      if (!slot->owner.expired()) {
        return fail(ErrorCode::AlreadyExists, "another kprof server listens on " + host_port);
      }
      slot->owner = core_;
    }
    http_listener_config config;
    if (tls) {
      config.set_ssl_context_callback([slot](boost::asio::ssl::context& context) {
        std::shared_ptr<ServerCore> core;
        {
          std::lock_guard lock(slot->mutex);
          core = slot->owner.lock();
        }
        Status configured =
            core && core->options().certificates
                ? applyServerTlsPolicy(context.native_handle(), core->options().certificates)
                : fail(ErrorCode::Unavailable, "no server owns this port");
        if (!configured) {
          httpLog().error("refusing TLS connection: {}", configured.error().toString());
          // cpprestsdk drops the connection when this callback throws boost's system_error.
          throw boost::system::system_error(boost::asio::error::connection_aborted);
        }
      });
    }
    auto listener = std::make_unique<http_listener>(
        web::uri((tls ? "https://" : "http://") + host_port + "/"), config);
    std::weak_ptr<ServerCore> weak_core = core_;
    auto dispatch = [weak_core](wh::http_request raw) {
      try {
        if (auto core = weak_core.lock()) {
          core->dispatch(std::move(raw));
        } else {
          raw.reply(wh::status_codes::ServiceUnavailable);
        }
      } catch (...) {
        httpLog().error("dispatch failed: {}", detail::describeCurrentException());
      }
    };
    listener->support(dispatch);
    // cpprestsdk answers OPTIONS and TRACE itself (TRACE echoes the request) unless told not to.
    listener->support(wh::methods::OPTIONS, dispatch);
    listener->support(wh::methods::TRCE, dispatch);
    try {
      listener->open().wait();
      listener_->listener = std::move(listener);
      listener_->slot = std::move(slot);
      listener_->port = port;
      started_ = true;
      httpLog().info("serving {} on {}", tls ? "HTTPS" : "HTTP", url());
      return ok();
    } catch (const std::exception& e) {
      last_error = e.what();
      std::lock_guard lock(slot->mutex);
      slot->owner.reset();
    }
  }
  return fail(
      ErrorCode::Unavailable,
      "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " + last_error);
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  core_->beginDrain();
  core_->waitIdle(core_->clock().now() + grace);
  core_->closeAndAbort();
  // Let the 503s and stream ends reach the wire before the connections close.
  core_->waitIdle(core_->clock().now() + std::chrono::seconds(1));
  try {
    listener_->listener->close().wait();
  } catch (...) {
    httpLog().warn("closing listener: {}", detail::describeCurrentException());
  }
  {
    std::lock_guard lock(listener_->slot->mutex);
    listener_->slot->owner.reset();
  }
  ListenerRegistry::instance().retire(std::move(listener_->listener));
  core_->waitForUserCode();
  settleLibraryPool();
  httpLog().info("stopped server on port {}", listener_->port);
}

std::uint16_t Server::port() const {
  return listener_->port;
}

std::string Server::url() const {
  return std::string(isTls() ? "https://" : "http://") + urlHost(core_->options().host) + ":" +
         std::to_string(listener_->port);
}

bool Server::isTls() const {
  return core_->options().certificates != nullptr;
}

}  // namespace kprof::http
