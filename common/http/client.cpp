#include "common/http/client.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include <cpprest/http_client.h>

#include "common/http/body_reader.hpp"
#include "common/http/http_log.hpp"
#include "common/http/openssl_handles.hpp"
#include "common/http/tls_policy.hpp"

namespace kprof::http {

namespace wh = web::http;
using SteadyClock = std::chrono::steady_clock;

namespace {

// cpprestsdk's own timer only ends idle connections; deadlines are enforced per request here.
constexpr auto kLibraryIdleTimeout = std::chrono::hours(24);
// A streamed response that the line handler has not caught up with stops being read from the
// socket beyond this much queued text, and resumes below half of it.
constexpr std::size_t kQueuedLineBytesHighWater = 4 << 20;
// Error bodies of a stream request are read whole, up to this.
constexpr std::size_t kStreamErrorBodyLimit = 1 << 20;

// Maps what cpprestsdk reports for a failed exchange to an Error.
Error transportError(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const wh::http_exception& e) {
    if (e.error_code() == std::errc::timed_out) {
      return makeError(ErrorCode::Timeout, e.what());
    }
    return makeError(ErrorCode::Unavailable, e.what());
  } catch (const pplx::task_canceled&) {
    return makeError(ErrorCode::Unavailable, "request cancelled");
  } catch (const std::exception& e) {
    return makeError(ErrorCode::Unavailable, e.what());
  } catch (...) {
    return makeError(ErrorCode::Unavailable, "unknown transport failure");
  }
}

Response responseHead(const wh::http_response& wire) {
  Response response;
  response.status = wire.status_code();
  for (const auto& [name, value] : wire.headers()) {
    response.headers.add(name, value);
  }
  response.content_type = wire.headers().content_type();
  return response;
}

// Reads the whole body of `wire` (up to `limit`, else cancels the exchange) and calls `done` once.
void collectResponse(wh::http_response wire,
                     std::size_t limit,
                     pplx::cancellation_token_source cancel,
                     std::function<void(Result<Response>)> done) {
  auto response = std::make_shared<Response>(responseHead(wire));
  auto reader = detail::BodyReader::create(
      wire.body(),
      [response, limit](std::string_view chunk) {
        if (response->body.size() + chunk.size() > limit) {
          return detail::BodyReader::Next::Stop;
        }
        response->body.append(chunk);
        return detail::BodyReader::Next::Continue;
      },
      [response, limit, cancel, done, wire](detail::BodyReader::End end, const std::string& error) {
        if (end == detail::BodyReader::End::Stopped) {
          cancel.cancel();  // the rest of the body would pile up in cpprestsdk's buffer
          done(fail(ErrorCode::ResourceExhausted,
                    "response body exceeds " + std::to_string(limit) + " bytes"));
          return;
        }
        if (end == detail::BodyReader::End::Failed) {
          done(fail(ErrorCode::Unavailable, "reading response body: " + error));
          return;
        }
        wire.content_ready().then([response, done](pplx::task<wh::http_response> ready) {
          try {
            ready.get();
          } catch (...) {
            done(transportError(std::current_exception()));
            return;
          }
          done(std::move(*response));
        });
      });
  reader->read();
}

// The outcome of one send(), handed from cpprestsdk's threads to the caller's.
struct Exchange {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<Result<Response>> outcome;

  void finish(Result<Response> result) {
    std::lock_guard lock(mutex);
    if (!outcome) {
      outcome = std::move(result);
    }
    changed.notify_all();
  }
};

// Lines of a streamed body, queued by cpprestsdk's threads for the caller's thread.
struct LineStream {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<Response> head;
  std::optional<Result<Response>> outcome;
  std::deque<std::string> lines;
  std::size_t queued_bytes = 0;
  std::string partial;  // text after the last newline
  std::size_t max_line_bytes = 0;
  bool paused = false;
  bool abandoned = false;  // the caller returned; stop reading
  std::shared_ptr<detail::BodyReader> reader;

  void finish(Result<Response> result) {
    std::lock_guard lock(mutex);
    if (!outcome) {
      outcome = std::move(result);
    }
    changed.notify_all();
  }

  void queueLine(std::string line) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      queued_bytes += line.size();
      lines.push_back(std::move(line));
    }
  }

  detail::BodyReader::Next takeChunk(std::string_view chunk) {
    std::lock_guard lock(mutex);
    if (abandoned || outcome) {
      return detail::BodyReader::Next::Stop;
    }
    for (std::size_t newline; (newline = chunk.find('\n')) != std::string_view::npos;) {
      partial.append(chunk.substr(0, newline));
      queueLine(std::move(partial));
      partial.clear();
      chunk.remove_prefix(newline + 1);
    }
    partial.append(chunk);
    if (partial.size() > max_line_bytes) {
      outcome = fail(ErrorCode::ResourceExhausted,
                     "streamed line longer than " + std::to_string(max_line_bytes) + " bytes");
      changed.notify_all();
      return detail::BodyReader::Next::Stop;
    }
    changed.notify_all();
    if (queued_bytes > kQueuedLineBytesHighWater) {
      paused = true;
      return detail::BodyReader::Next::Pause;
    }
    return detail::BodyReader::Next::Continue;
  }

  void flushPartial() {
    std::lock_guard lock(mutex);
    queueLine(std::move(partial));
    partial.clear();
    changed.notify_all();
  }
};

Result<std::string> pemFrom(const std::string& file, const std::string& pem, const char* what) {
  if (!file.empty() && !pem.empty()) {
    return fail(ErrorCode::InvalidArgument,
                std::string("give the ") + what + " as a file or as PEM, not both");
  }
  if (file.empty()) {
    return pem;
  }
  auto content = ossl::readSmallFile(file);
  if (!content) {
    return content.error().wrap(what);
  }
  return std::move(*content);
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::unique_ptr<wh::client::http_client> client;

  Result<wh::http_request> toWire(const Request& request) const;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  auto impl = std::make_unique<Impl>();
  wh::client::http_client_config config;
  config.set_timeout(kLibraryIdleTimeout);
  try {
    web::uri base(options.base_url);
    if (base.scheme() == "https") {
      ClientTlsMaterial material;
      auto ca = pemFrom(options.tls.ca_file, options.tls.ca_pem, "CA bundle");
      auto certificate = pemFrom(options.tls.client_certificate_file,
                                 options.tls.client_certificate_pem,
                                 "client certificate");
      auto key = pemFrom(options.tls.client_key_file, options.tls.client_key_pem, "client key");
      for (auto* part : {&ca, &certificate, &key}) {
        if (!*part) {
          return part->error();
        }
      }
      material.ca_pem = std::move(*ca);
      material.client_certificate_pem = std::move(*certificate);
      material.client_key_pem = std::move(*key);
      auto identity = ClientTlsIdentity::fromMaterial(material);
      if (!identity) {
        return identity.error();
      }
      config.set_validate_certificates(!options.tls.insecure_skip_verify);
      config.set_ssl_context_callback(
          [identity = std::move(*identity)](boost::asio::ssl::context& context) {
            Status applied = identity->applyTo(context.native_handle());
            if (!applied) {
              // The handshake then fails and the request reports it.
              httpLog().error("configuring client TLS: {}", applied.error().toString());
            }
          });
    } else if (base.scheme() != "http") {
      return fail(ErrorCode::InvalidArgument,
                  "base URL must be http or https: " + options.base_url);
    }
    impl->client = std::make_unique<wh::client::http_client>(base, config);
  } catch (const std::exception& e) {
    return fail(ErrorCode::InvalidArgument,
                "client for '" + options.base_url + "': " + std::string(e.what()));
  }
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<wh::http_request> Client::Impl::toWire(const Request& request) const {
  try {
    std::string target = web::uri::encode_uri(request.path, web::uri::components::path);
    char separator = '?';
    for (const auto& [key, value] : request.query) {
      target += separator;
      target += web::uri::encode_data_string(key) + "=" + web::uri::encode_data_string(value);
      separator = '&';
    }
    wh::http_request wire(request.method);
    wire.set_request_uri(target);
    std::string content_type;
    auto copy = [&](const Headers::Entry& entry) {
      if (equalsIgnoreCase(entry.first, "Content-Type")) {
        content_type = entry.second;
      } else if (!equalsIgnoreCase(entry.first, "Content-Length")) {
        wire.headers().add(entry.first, entry.second);
      }
    };
    for (const Headers::Entry& entry : request.headers.entries()) {
      copy(entry);
    }
    for (const Headers::Entry& entry : options.default_headers.entries()) {
      if (!request.headers.contains(entry.first)) {
        copy(entry);
      }
    }
    if (!options.tls.server_name.empty() && !request.headers.contains("Host")) {
      // cpprestsdk verifies the certificate against, and sends as SNI, the Host header's name.
      wire.headers().add("Host", options.tls.server_name);
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      wire.set_body(std::string(request.body),
                    content_type.empty() ? "application/octet-stream" : content_type);
    }
    return wire;
  } catch (const std::exception& e) {
    return fail(ErrorCode::InvalidArgument,
                "building request " + request.method + " " + request.path + ": " + e.what());
  }
}

Result<Response> Client::send(const Request& request, std::chrono::milliseconds timeout) {
  auto wire = impl_->toWire(request);
  if (!wire) {
    return wire.error();
  }
  const auto deadline = SteadyClock::now() + timeout;
  auto exchange = std::make_shared<Exchange>();
  pplx::cancellation_token_source cancel;
  const std::size_t limit = impl_->options.max_response_bytes;
  try {
    impl_->client->request(*wire, cancel.get_token())
        .then([exchange, cancel, limit](pplx::task<wh::http_response> answered) {
          wh::http_response response;
          try {
            response = answered.get();
          } catch (...) {
            exchange->finish(transportError(std::current_exception()));
            return;
          }
          collectResponse(response, limit, cancel, [exchange](Result<Response> result) {
            exchange->finish(std::move(result));
          });
        });
  } catch (...) {
    return transportError(std::current_exception());
  }
  std::unique_lock lock(exchange->mutex);
  if (!exchange->changed.wait_until(
          lock, deadline, [&] { return exchange->outcome.has_value(); })) {
    lock.unlock();
    cancel.cancel();  // closes the connection; late callbacks land in `exchange` and are dropped
    return fail(ErrorCode::Timeout,
                request.method + " " + request.path + ": no response within " +
                    std::to_string(timeout.count()) + " ms");
  }
  return std::move(*exchange->outcome);
}

Result<Response> Client::streamLines(const Request& request,
                                     const LineHandler& on_line,
                                     const StreamOptions& options) {
  auto wire = impl_->toWire(request);
  if (!wire) {
    return wire.error();
  }
  const auto deadline = SteadyClock::now() + options.timeout;
  auto stream = std::make_shared<LineStream>();
  stream->max_line_bytes = options.max_line_bytes;
  pplx::cancellation_token_source cancel;
  try {
    impl_->client->request(*wire, cancel.get_token())
        .then([stream, cancel](pplx::task<wh::http_response> answered) {
          wh::http_response response;
          try {
            response = answered.get();
          } catch (...) {
            stream->finish(transportError(std::current_exception()));
            return;
          }
          if (response.status_code() < 200 || response.status_code() >= 300) {
            collectResponse(response, kStreamErrorBodyLimit, cancel, [stream](Result<Response> r) {
              stream->finish(std::move(r));
            });
            return;
          }
          auto reader = detail::BodyReader::create(
              response.body(),
              [stream](std::string_view chunk) { return stream->takeChunk(chunk); },
              [stream, response](detail::BodyReader::End end, const std::string& error) {
                if (end == detail::BodyReader::End::Failed) {
                  stream->finish(fail(ErrorCode::Unavailable, "stream broken: " + error));
                  return;
                }
                if (end == detail::BodyReader::End::Stopped) {
                  return;  // takeChunk already decided the outcome
                }
                response.content_ready().then([stream](pplx::task<wh::http_response> ready) {
                  try {
                    ready.get();
                  } catch (...) {
                    stream->finish(transportError(std::current_exception()));
                    return;
                  }
                  stream->flushPartial();
                  std::optional<Response> head;
                  {
                    std::lock_guard lock(stream->mutex);
                    head = stream->head;
                  }
                  stream->finish(Result<Response>(std::move(*head)));
                });
              });
          {
            std::lock_guard lock(stream->mutex);
            stream->head = responseHead(response);
            stream->reader = reader;
            stream->changed.notify_all();
          }
          reader->read();
        });
  } catch (...) {
    return transportError(std::current_exception());
  }

  // Wake the wait below when the caller asks to stop; registered before taking the lock because
  // it runs at once if stop was already requested.
  std::stop_callback wake(options.stop, [stream] {
    std::lock_guard lock(stream->mutex);
    stream->changed.notify_all();
  });
  std::unique_lock lock(stream->mutex);
  // Ends the exchange early: closes the connection and lets go of a paused reader, which would
  // otherwise keep itself and the stream alive through each other.
  auto leave = [&](Result<Response> result) {
    stream->abandoned = true;
    std::shared_ptr<detail::BodyReader> reader = std::move(stream->reader);
    lock.unlock();
    cancel.cancel();
    reader.reset();
    return result;
  };
  while (true) {
    bool woken = stream->changed.wait_until(lock, deadline, [&] {
      return !stream->lines.empty() || stream->outcome.has_value() || options.stop.stop_requested();
    });
    if (!stream->lines.empty()) {
      std::string line = std::move(stream->lines.front());
      stream->lines.pop_front();
      stream->queued_bytes -= line.size();
      std::shared_ptr<detail::BodyReader> resume;
      if (stream->paused && stream->queued_bytes < kQueuedLineBytesHighWater / 2) {
        stream->paused = false;
        resume = stream->reader;
      }
      lock.unlock();
      if (resume) {
        resume->read();
      }
      bool keep_going = on_line(line);
      lock.lock();
      if (!keep_going) {
        return leave(Result<Response>(*stream->head));
      }
      continue;
    }
    if (stream->outcome) {
      Result<Response> outcome = std::move(*stream->outcome);
      if (!outcome) {
        return leave(std::move(outcome));  // e.g. an overlong line: stop the body arriving
      }
      stream->reader = nullptr;
      return outcome;
    }
    if (options.stop.stop_requested()) {
      if (stream->head) {
        return leave(Result<Response>(*stream->head));
      }
      return leave(fail(ErrorCode::Unavailable, "stream stopped before a response arrived"));
    }
    if (!woken) {
      return leave(fail(ErrorCode::Timeout,
                        request.method + " " + request.path + ": stream open longer than " +
                            std::to_string(options.timeout.count()) + " ms"));
    }
  }
}

}  // namespace kprof::http
