#include "webhooks/receiver/alert_receiver.hpp"

#include <cctype>

#include <openssl/crypto.h>

#include "common/core/base64.hpp"
#include "common/log/log.hpp"
#include "operator/kube/small_file.hpp"

namespace kprof::webhooks {
namespace {

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Constant time in the token's content, so timing does not reveal a prefix.
bool sameToken(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string bearerToken(const http::Request& request) {
  const std::string header = request.headers.get("Authorization").value_or("");
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return "";
  // The scheme is case-insensitive (RFC 7235).
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return "";
    }
  }
  return trimmed(header.substr(kScheme.size()));
}

}  // namespace

Result<std::string> FileAlertToken::current() {
  auto text = kube::readSmallFile(path_, 64 << 10);
  if (!text) return Unexpected{text.error().wrap("alert receiver token")};
  std::string token = trimmed(*text);
  if (token.empty()) return fail(ErrorCode::InvalidArgument, "alert receiver token " + path_ + ": empty");
  return token;
}

SecretAlertToken::SecretAlertToken(kube::Api& api, const Clock& clock, std::string ns,
                                   std::string name, std::string key)
    : api_(api), clock_(clock), ns_(std::move(ns)), name_(std::move(name)), key_(std::move(key)) {}

Result<std::string> SecretAlertToken::current() {
  std::lock_guard lock(mutex_);
  if (cached_ && *cached_ && clock_.now() - read_at_ < std::chrono::seconds(30)) return **cached_;
  const std::string where = "alert receiver token: Secret " + ns_ + "/" + name_ + " key " + key_;
  auto secret = api_.get(kube::resources::kSecrets, ns_, name_);
  Result<std::string> token = [&]() -> Result<std::string> {
    if (!secret) return Unexpected{secret.error().wrap(where)};
    const auto data = secret->value("data", nlohmann::json::object());
    const auto value = data.is_object() ? data.find(key_) : data.end();
    if (!data.is_object() || value == data.end() || !value->is_string()) {
      return fail(ErrorCode::InvalidArgument, where + ": missing");
    }
    auto decoded = base64Decode(value->get<std::string>());
    if (!decoded) return Unexpected{decoded.error().wrap(where)};
    std::string text = trimmed(*decoded);
    if (text.empty()) return fail(ErrorCode::InvalidArgument, where + ": empty");
    return text;
  }();
  cached_ = token;
  read_at_ = clock_.now();
  return token;
}

AlertReceiver::AlertReceiver(AlertToken& token, AlertHandler handler, const Clock& clock,
                             prometheus::Registry& registry, AlertReceiverOptions options)
    : token_(token),
      handler_(std::move(handler)),
      clock_(clock),
      options_(options),
      notifications_(prometheus::BuildCounter()
                         .Name("kprof_alert_notifications_total")
                         .Help("Alertmanager notifications received on POST /alerts, by result "
                               "(queued, unauthorized, malformed, busy, unavailable)")
                         .Register(registry)) {
  for (const char* result : {"queued", "unauthorized", "malformed", "busy", "unavailable"}) {
    notifications_.Add({{"result", result}});  // present at 0 from the start
  }
}

AlertReceiver::~AlertReceiver() { stop(); }

void AlertReceiver::count(const char* result) { notifications_.Add({{"result", result}}).Increment(); }

void AlertReceiver::registerRoute(http::Server& server) {
  server.route("POST", std::string(kAlertsPath),
               [this](const http::Request& request) { return handle(request); });
}

http::Response AlertReceiver::handle(const http::Request& request) {
  auto expected = token_.current();
  if (!expected) {
    count("unavailable");
    log::logger("alerts")->error("{}", expected.error().toString());
    return http::errorResponse(503, "the receiver's token cannot be read; see the operator's log");
  }
  if (!sameToken(bearerToken(request), *expected)) {
    count("unauthorized");
    http::Response response = http::errorResponse(401, "missing or wrong bearer token");
    response.headers.set("WWW-Authenticate", "Bearer");
    return response;
  }
  if (request.body.size() > kMaxAlertPayloadBytes) {
    count("malformed");
    return http::errorResponse(413, "payload over 1 MiB");
  }
  auto payload = readAlertPayload(request.body);
  if (!payload) {
    count("malformed");
    return http::errorResponse(400, "not an Alertmanager webhook payload (version 4): " +
                                        payload.error().message);
  }
  const size_t alerts = payload->alerts.size();
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.queue_capacity) {
      count("busy");
      return http::errorResponse(503, "too many notifications queued; retry later");
    }
    queue_.push_back({std::move(*payload), clock_.wallNow()});
  }
  wake_.notify_one();
  count("queued");
  return http::Response::json(200, nlohmann::json{{"queued", alerts}}.dump());
}

void AlertReceiver::start() {
  if (worker_.joinable()) return;
  worker_ = std::jthread([this](std::stop_token stop) { work(stop); });
}

void AlertReceiver::stop() {
  if (!worker_.joinable()) return;
  worker_.request_stop();
  wake_.notify_all();
  worker_.join();
}

void AlertReceiver::work(std::stop_token stop) {
  for (;;) {
    ReceivedAlerts next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      handler_(next);
    } catch (const std::exception& error) {  // one bad notification must not end the worker
      log::logger("alerts")->error("processing a notification: {}", error.what());
    }
  }
}

}  // namespace kprof::webhooks
