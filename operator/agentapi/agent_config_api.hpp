// The agent config API: how policies reach running agents without restarting pods. Agents
// authenticate with their pod's projected service-account token (Authorization: Bearer), which
// the operator checks with a TokenReview; agents never hold Kubernetes API credentials.
//
//   GET  /v1/agents/config?version=N   long poll for the agent's config
//     401 no/invalid token (JSON error body, WWW-Authenticate: Bearer)
//     403 a valid token not bound to a pod
//     400 a version that is not a whole number >= 0
//     503 the token could not be checked (API server trouble) or too many polls wait; Retry-After
//     200 {"version":V,"config":{...}}                  at once when V != N, else when the config
//                                                       changes or the poll timeout passes
//     200 {"version":0,"config":null,"pending":true}    no config is published for this pod (yet,
//                                                       or any more) when the poll timeout
//                                                       passes: the agent keeps what it runs
//   POST /v1/agents/report   the agent's status, a JSON object (engine, samples, drops, last
//                            upload, errors, ...), kept as the agent's last report → 204
//
// Every authenticated request counts as the agent being seen (ConfigRegistry::lastSeen). A config
// published for a pod uid other than the token's (a pod re-created under the same name) is not
// handed out: that agent sees "pending" until its own config is published.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "common/http/server.hpp"
#include "operator/agentapi/agent_identity.hpp"
#include "operator/agentapi/config_registry.hpp"
#include "operator/agentapi/token_reviewer.hpp"

namespace kprof::agentapi {

inline constexpr std::string_view kConfigPath = "/v1/agents/config";
inline constexpr std::string_view kReportPath = "/v1/agents/report";

struct AgentApiOptions {
  // How long a poll whose version is current waits before it is answered anyway.
  std::chrono::milliseconds poll_timeout{std::chrono::seconds(30)};
  std::size_t max_report_bytes = 64 * 1024;
  // Polls waiting at once, across all agents; more get 503 with Retry-After.
  std::size_t max_waiting_polls = 50'000;
  // Counts kprof_agent_api_requests_total{endpoint=config|report, outcome} (outcomes: changed,
  // unchanged, pending, unauthenticated, forbidden, bad_request, unavailable, overloaded,
  // accepted) and the gauge kprof_agent_api_waiting_polls. Must outlive `registry`: polls still
  // waiting when it is destroyed are answered then and update the gauge.
  prometheus::Registry* metrics = nullptr;
};

// Registers both endpoints on `server` (before it starts). `registry` and `reviewer` must outlive
// the server; the registry's timer must run (ConfigRegistry::startTimer) for polls to time out.
void registerAgentConfigApi(http::Server& server,
                            ConfigRegistry& registry,
                            TokenReviewer& reviewer,
                            AgentApiOptions options = {});

// The config an agent is given: `view` unless it was published for another pod uid, in which
// case nothing (unpublished).
AgentConfigView viewForAgent(const AgentConfigView& view, const AgentIdentity& identity);

// The poll's response body for a view.
nlohmann::json configResponseBody(const AgentConfigView& view);

// The token of an "Authorization: Bearer <token>" value; empty if the header is not one.
std::string_view bearerToken(std::string_view authorization);

}  // namespace kprof::agentapi
