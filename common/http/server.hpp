// An HTTP(S) server on cpprestsdk's http_listener: plain request/response values in, routing by
// method and path, async handlers for long polls and streams, a body size limit, TLS with
// certificate reload, graceful stop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/certificate_store.hpp"
#include "common/http/message.hpp"

namespace kprof::http {

class ServerCore;
class ReplyState;
struct StreamState;

using Handler = std::function<Response(const Request& request)>;

// A chunked response body written while the request is open (watch streams, progress).
class BodyStream {
 public:
  explicit BodyStream(std::shared_ptr<StreamState> state);
  ~BodyStream();  // closes the body
  BodyStream(const BodyStream&) = delete;
  BodyStream& operator=(const BodyStream&) = delete;

  // Sends data now. False once the stream is closed, the peer went away or the server stopped.
  bool write(std::string_view data);
  // Ends the body; the response then completes.
  void close();
  bool isOpen() const;

 private:
  std::shared_ptr<StreamState> state_;
};

// How an async handler answers, now or later, from any thread. Only the first answer counts.
// A request whose every Responder copy is dropped unanswered gets a 500.
class Responder {
 public:
  explicit Responder(std::shared_ptr<ReplyState> state);

  // False if the request was already answered (or answered by the server on stop).
  bool send(Response response) const;
  // Starts a chunked response; nullptr if the request was already answered.
  std::shared_ptr<BodyStream> stream(int status,
                                     std::string content_type,
                                     Headers headers = {}) const;
  bool answered() const;

 private:
  std::shared_ptr<ReplyState> state_;
};

// Receives the request and a Responder; may return before answering (long polls), without
// holding a thread while it waits.
using AsyncHandler = std::function<void(Request request, Responder responder)>;

enum class PathMatch { Exact, Prefix };

// One finished request, for metrics. `route` is the registered path ("" when none matched), so
// label values stay bounded whatever paths clients send.
struct RequestRecord {
  std::string_view method;
  std::string_view route;
  int status = 0;
  std::chrono::nanoseconds duration{0};
};
using RequestObserver = std::function<void(const RequestRecord& record)>;

struct ServerOptions {
  std::string host = "127.0.0.1";  // "0.0.0.0" for every interface
  std::uint16_t port = 0;          // 0: pick a free port, see Server::port()
  // Serves HTTPS with this store's current pair when set, plain HTTP otherwise.
  std::shared_ptr<CertificateStore> certificates;
  std::size_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  RequestObserver observer;              // called once per finished request; must not block
  const Clock* clock = nullptr;          // for request durations; the system clock if null
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop() with a short grace period
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes are fixed once the server starts. Exact paths win over prefixes, longer prefixes
  // over shorter. A path with routes but not for the method gets 405.
  void route(std::string method,
             std::string path,
             Handler handler,
             PathMatch match = PathMatch::Exact);
  void routeAsync(std::string method,
                  std::string path,
                  AsyncHandler handler,
                  PathMatch match = PathMatch::Exact);

  // Binds and starts serving. With port 0 a free port is chosen (retrying if another process
  // takes it first).
  Status start();

  // Graceful stop: requests arriving from now on get 503, requests in flight may finish until
  // `grace` runs out; then unanswered ones get 503, open streams are closed, and the listener
  // closes. Returns when no handler of this server is running any more. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  std::uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:8443"
  bool isTls() const;

 private:
  std::shared_ptr<ServerCore> core_;
  struct Listener;
  std::unique_ptr<Listener> listener_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace kprof::http
