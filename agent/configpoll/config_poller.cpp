#include "agent/configpoll/config_poller.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <thread>

#include "common/log/log.hpp"

namespace kprof::agent {
namespace {

constexpr std::string_view kConfigPath = "/v1/agents/config";
constexpr std::string_view kReportPath = "/v1/agents/report";
constexpr std::chrono::seconds kReportTimeout{10};
constexpr std::size_t kMaxConfigBytes = 4 << 20;

// Sleeps `duration`, returning early when `stop` is requested.
void sleepUnlessStopped(std::stop_token stop, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, duration, [] { return false; });
}

std::chrono::milliseconds retryAfter(const http::Response& response) {
  const std::string value = response.headers.get("Retry-After").value_or("");
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::seconds(std::min<int64_t>(seconds, 3600));
}

// A non-2xx answer as an Error: 401 Unauthenticated, 403 PermissionDenied, others Unavailable.
Error answerError(const std::string& what, const http::Response& response) {
  std::string message = what + ": HTTP " + std::to_string(response.status);
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    message += ": " + body["message"].get<std::string>();
  }
  ErrorCode code = ErrorCode::Unavailable;
  if (response.status == 401) {
    code = ErrorCode::Unauthenticated;
  } else if (response.status == 403) {
    code = ErrorCode::PermissionDenied;
  } else if (response.status >= 400 && response.status < 500 && response.status != 429) {
    code = ErrorCode::InvalidArgument;
  }
  Error error = makeError(code, message);
  error.retry_after = retryAfter(response);
  return error;
}

}  // namespace

Result<std::optional<ConfigPollerOptions>> operatorSettings(
    const OperatorFlags& flags, const std::map<std::string, std::string>& environment) {
  auto pick = [&](const std::optional<std::string>& flag, const char* variable) -> std::string {
    if (flag) {
      return *flag;
    }
    const auto it = environment.find(variable);
    return it == environment.end() ? "" : it->second;
  };
  const std::string url = pick(flags.operator_url, "KPROF_OPERATOR_URL");
  if (url.empty()) {
    return std::optional<ConfigPollerOptions>();
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return fail(ErrorCode::InvalidArgument,
                "operator URL '" + url + "' must start with http:// or https://");
  }
  ConfigPollerOptions options;
  options.operator_url = url;
  if (std::string token = pick(flags.token_file, "KPROF_OPERATOR_TOKEN_FILE"); !token.empty()) {
    options.token_file = token;
  }
  options.ca_file = pick(flags.ca_file, "KPROF_OPERATOR_CA_FILE");
  return std::optional<ConfigPollerOptions>(std::move(options));
}

ConfigPoller::ConfigPoller(ConfigPollerOptions options,
                           Clock& clock,
                           ConfigHandler on_config,
                           StatusSource status)
    : options_(std::move(options)),
      clock_(clock),
      on_config_(std::move(on_config)),
      status_(std::move(status)),
      backoff_(options_.backoff) {}

Result<http::Client*> ConfigPoller::client(std::unique_ptr<http::Client>& slot) {
  if (!slot) {
    http::ClientOptions options;
    options.base_url = options_.operator_url;
    options.tls.ca_file = options_.ca_file;
    options.max_response_bytes = kMaxConfigBytes;
    auto created = http::Client::create(std::move(options));
    if (!created) {
      return created.error().wrap("operator client");
    }
    slot = std::move(*created);
  }
  return slot.get();
}

Result<std::string> ConfigPoller::readToken() const {
  std::ifstream in(options_.token_file);
  if (!in) {
    return fail(ErrorCode::NotFound, "cannot read the token file " + options_.token_file);
  }
  std::string token((std::istreambuf_iterator<char>(in)), {});
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    return fail(ErrorCode::NotFound, "the token file " + options_.token_file + " is empty");
  }
  return token;
}

Result<bool> ConfigPoller::pollOnce(std::stop_token stop) {
  auto token = readToken();
  if (!token) {
    return token.error();
  }
  auto client = this->client(client_);
  if (!client) {
    return client.error();
  }
  int64_t known_version = 0;
  {
    std::lock_guard lock(mutex_);
    known_version = stats_.version;
  }
  http::Request request;
  request.path = std::string(kConfigPath);
  request.query["version"] = std::to_string(known_version);
  request.headers.set("Authorization", http::bearerAuthorization(*token));
  std::string body;
  http::StreamOptions stream;
  stream.timeout = options_.request_timeout;
  stream.stop = stop;
  stream.max_line_bytes = kMaxConfigBytes;
  auto response = (*client)->streamLines(
      request,
      [&](std::string_view line) {
        if (body.size() + line.size() > kMaxConfigBytes) {
          return false;
        }
        body.append(line).append("\n");
        return true;
      },
      stream);
  if (stop.stop_requested()) {
    return false;  // whatever arrived may be cut short
  }
  if (!response) {
    client_.reset();  // a new connection next time: the operator may have restarted
    return response.error().wrap("config poll");
  }
  if (response->status != 200) {
    return answerError("config poll", *response);
  }
  auto answer = parseConfigAnswer(body);
  if (!answer) {
    return answer.error();
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.polls;
  }
  if (answer->pending || answer->version == known_version) {
    return false;
  }
  Status applied = on_config_(ConfigUpdate{answer->version, std::move(answer->config)});
  std::lock_guard lock(mutex_);
  stats_.version = answer->version;
  ++stats_.configs;
  if (applied) {
    config_error_.clear();
  } else {
    ++stats_.rejected;
    config_error_ = applied.error().message;
  }
  return true;
}

nlohmann::json ConfigPoller::reportBody() const {
  nlohmann::json body = status_ ? status_() : nlohmann::json::object();
  if (!body.is_object()) {
    body = nlohmann::json::object();
  }
  std::lock_guard lock(mutex_);
  body["config"] = {{"version", stats_.version}};
  if (!config_error_.empty()) {
    body["config"]["error"] = config_error_;
  }
  return body;
}

Status ConfigPoller::report() {
  std::lock_guard report_lock(report_mutex_);
  auto token = readToken();
  if (!token) {
    return token.error();
  }
  auto client = this->client(report_client_);
  if (!client) {
    return client.error();
  }
  http::Request request;
  request.method = "POST";
  request.path = std::string(kReportPath);
  request.headers.set("Authorization", http::bearerAuthorization(*token));
  request.headers.set("Content-Type", "application/json");
  request.body = reportBody().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto response = (*client)->send(request, kReportTimeout);
  if (!response) {
    report_client_.reset();
    return response.error().wrap("report");
  }
  if (response->status < 200 || response->status >= 300) {
    return answerError("report", *response);
  }
  std::lock_guard lock(mutex_);
  ++stats_.reports;
  return ok();
}

void ConfigPoller::failed(const Error& error) {
  auto log = log::logger("agent");
  // Log the first failure of a streak; the rest only count.
  if (backoff_.failures() == 0) {
    log->warn("operator config API: {}", error.toString());
  } else {
    log->debug("operator config API: {}", error.toString());
  }
  std::lock_guard lock(mutex_);
  ++stats_.failures;
  stats_.last_error = error.toString();
}

void ConfigPoller::requestReport() {
  {
    std::lock_guard lock(request_mutex_);
    report_wanted_ = true;
  }
  report_requested_.notify_one();
}

void ConfigPoller::postRequestedReports(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(request_mutex_);
      if (!report_requested_.wait(lock, stop, [this] { return report_wanted_; })) {
        return;
      }
      report_wanted_ = false;
    }
    if (auto reported = report(); !reported) {
      log::logger("agent")->debug("{}", reported.error().toString());
    }
  }
}

void ConfigPoller::run(std::stop_token stop) {
  auto log = log::logger("agent");
  log->info("polling {} for this pod's config", options_.operator_url);
  std::jthread reporter([this](std::stop_token reporter_stop) {
    postRequestedReports(reporter_stop);
  });
  bool report_due = true;
  auto next_report = clock_.now();
  while (!stop.stop_requested()) {
    const auto started = clock_.now();
    auto polled = pollOnce(stop);
    if (stop.stop_requested()) {
      break;
    }
    if (!polled) {
      failed(polled.error());
      auto delay = backoff_.nextDelay();
      delay = std::max(delay, std::min(polled.error().retry_after, options_.backoff.max));
      sleepUnlessStopped(stop, delay);
      continue;
    }
    if (backoff_.failures() > 0) {
      log->info("operator config API reachable again");
      backoff_.reset();
    }
    if (*polled) {
      report_due = true;
    }
    if (report_due || clock_.now() >= next_report) {
      if (auto reported = report(); reported) {
        report_due = false;
      } else {
        log->debug("{}", reported.error().toString());
      }
      next_report = clock_.now() + options_.report_interval;
    }
    const auto elapsed = clock_.now() - started;
    if (!*polled && elapsed < options_.min_poll_interval) {
      sleepUnlessStopped(
          stop,
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.min_poll_interval - elapsed));
    }
  }
}

PollerStats ConfigPoller::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace kprof::agent
