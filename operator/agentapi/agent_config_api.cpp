#include "operator/agentapi/agent_config_api.hpp"

#include <charconv>
#include <memory>
#include <string>
#include <variant>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include "common/log/log.hpp"

namespace kprof::agentapi {
namespace {

constexpr std::string_view kRetryAfterSeconds = "5";

struct ApiState {
  ConfigRegistry& registry;
  TokenReviewer& reviewer;
  AgentApiOptions options;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Gauge* waiting = nullptr;

  void count(std::string_view endpoint, std::string_view outcome) const {
    if (requests != nullptr) {
      requests->Add({{"endpoint", std::string(endpoint)}, {"outcome", std::string(outcome)}})
          .Increment();
    }
  }
};

http::Response withRetryAfter(http::Response response) {
  response.headers.set("Retry-After", std::string(kRetryAfterSeconds));
  return response;
}

// The agent behind the request, or the response refusing it (already counted).
std::variant<AgentIdentity, http::Response> authenticate(const ApiState& state,
                                                         const http::Request& request,
                                                         std::string_view endpoint) {
  const std::string header = request.headers.get("Authorization").value_or("");
  const std::string_view token = bearerToken(header);
  if (token.empty()) {
    state.count(endpoint, "unauthenticated");
    http::Response response = http::errorResponse(401, "missing bearer token");
    response.headers.set("WWW-Authenticate", "Bearer");
    return response;
  }
  Result<AgentIdentity> identity = state.reviewer.review(token);
  if (identity) {
    return *identity;
  }
  const Error& error = identity.error();
  auto log = log::logger("agentapi");
  switch (error.code) {
    case ErrorCode::Unauthenticated: {
      state.count(endpoint, "unauthenticated");
      log->debug("agent request from {} refused: {}", request.peer, error.message);
      http::Response response = http::errorResponse(401, error.message);
      response.headers.set("WWW-Authenticate", "Bearer");
      return response;
    }
    case ErrorCode::PermissionDenied:
      state.count(endpoint, "forbidden");
      log->debug("agent request from {} forbidden: {}", request.peer, error.message);
      return http::errorResponse(403, error.message);
    default:
      state.count(endpoint, "unavailable");
      log->warn("cannot check an agent token: {}", error.toString());
      return withRetryAfter(http::errorResponse(503, "cannot check the token now; retry"));
  }
}

Result<int64_t> parseVersion(const http::Request& request) {
  const std::optional<std::string> text = request.queryParam("version");
  if (!text || text->empty()) {
    return int64_t{0};
  }
  int64_t version = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), version);
  if (ec != std::errc{} || end != text->data() + text->size() || version < 0) {
    return fail(ErrorCode::InvalidArgument,
                "version: '" + *text + "' is not a whole number >= 0");
  }
  return version;
}

std::string_view outcomeOf(const AgentConfigView& view, int64_t agent_version) {
  if (!view.published) {
    return "pending";
  }
  return view.version == agent_version ? "unchanged" : "changed";
}

http::Response configResponse(const AgentConfigView& view) {
  return http::Response::json(
      200,
      configResponseBody(view).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void handleConfig(const std::shared_ptr<ApiState>& state,
                  const http::Request& request,
                  const http::Responder& responder) {
  constexpr std::string_view kEndpoint = "config";
  auto authenticated = authenticate(*state, request, kEndpoint);
  if (auto* refusal = std::get_if<http::Response>(&authenticated)) {
    responder.send(std::move(*refusal));
    return;
  }
  const AgentIdentity identity = std::get<AgentIdentity>(std::move(authenticated));
  auto version = parseVersion(request);
  if (!version) {
    state->count(kEndpoint, "bad_request");
    responder.send(http::errorResponse(400, version.error().message));
    return;
  }
  const int64_t agent_version = *version;
  const std::string key = identity.key();
  state->registry.recordPoll(key);

  const AgentConfigView stored = state->registry.current(key);
  const AgentConfigView view = viewForAgent(stored, identity);
  if (view.published && view.version != agent_version) {
    state->count(kEndpoint, "changed");
    responder.send(configResponse(view));
    return;
  }
  if (state->registry.waiting() >= state->options.max_waiting_polls) {
    state->count(kEndpoint, "overloaded");
    responder.send(withRetryAfter(http::errorResponse(503, "too many waiting polls; retry")));
    return;
  }
  if (state->waiting != nullptr) {
    state->waiting->Increment();
  }
  const auto deadline = state->registry.clock().now() + state->options.poll_timeout;
  state->registry.wait(
      key, stored.version, deadline, [state, responder, identity, agent_version](
                                         const AgentConfigView& latest) {
        if (state->waiting != nullptr) {
          state->waiting->Decrement();
        }
        const AgentConfigView answer = viewForAgent(latest, identity);
        state->count("config", outcomeOf(answer, agent_version));
        responder.send(configResponse(answer));
      });
}

http::Response handleReport(const ApiState& state, const http::Request& request) {
  constexpr std::string_view kEndpoint = "report";
  auto authenticated = authenticate(state, request, kEndpoint);
  if (auto* refusal = std::get_if<http::Response>(&authenticated)) {
    return std::move(*refusal);
  }
  const AgentIdentity& identity = std::get<AgentIdentity>(authenticated);
  if (request.body.size() > state.options.max_report_bytes) {
    state.count(kEndpoint, "bad_request");
    return http::errorResponse(
        413, "report larger than " + std::to_string(state.options.max_report_bytes) + " bytes");
  }
  nlohmann::json report = nlohmann::json::parse(request.body, nullptr, false);
  if (report.is_discarded() || !report.is_object()) {
    state.count(kEndpoint, "bad_request");
    return http::errorResponse(400, "report: expected a JSON object");
  }
  state.registry.recordReport(identity.key(), std::move(report));
  state.count(kEndpoint, "accepted");
  http::Response response;
  response.status = 204;
  return response;
}

}  // namespace

std::string_view bearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !http::equalsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
    token.remove_prefix(1);
  }
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

AgentConfigView viewForAgent(const AgentConfigView& view, const AgentIdentity& identity) {
  if (!view.published || !view.config.is_object()) {
    return view;
  }
  const auto pod = view.config.find("pod");
  if (pod == view.config.end() || !pod->is_object()) {
    return view;
  }
  const auto uid = pod->find("uid");
  if (uid != pod->end() && uid->is_string() && !uid->get<std::string>().empty() &&
      uid->get<std::string>() != identity.pod_uid) {
    return {};
  }
  return view;
}

nlohmann::json configResponseBody(const AgentConfigView& view) {
  if (!view.published) {
    return {{"version", 0}, {"config", nullptr}, {"pending", true}};
  }
  return {{"version", view.version}, {"config", view.config}};
}

void registerAgentConfigApi(http::Server& server,
                            ConfigRegistry& registry,
                            TokenReviewer& reviewer,
                            AgentApiOptions options) {
  auto state = std::make_shared<ApiState>(ApiState{registry, reviewer, options});
  if (options.metrics != nullptr) {
    state->requests = &prometheus::BuildCounter()
                           .Name("kprof_agent_api_requests_total")
                           .Help("Agent config API requests by endpoint and outcome.")
                           .Register(*options.metrics);
    state->waiting = &prometheus::BuildGauge()
                          .Name("kprof_agent_api_waiting_polls")
                          .Help("Config polls waiting for a change or their timeout.")
                          .Register(*options.metrics)
                          .Add({});
  }
  server.routeAsync("GET",
                    std::string(kConfigPath),
                    [state](http::Request request, http::Responder responder) {
                      handleConfig(state, request, responder);
                    });
  server.route("POST", std::string(kReportPath), [state](const http::Request& request) {
    return handleReport(*state, request);
  });
}

}  // namespace kprof::agentapi
