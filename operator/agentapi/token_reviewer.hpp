// Checks agent tokens with the API server (TokenReview) and remembers the answers for a short
// while, so an agent polling every 30 s does not cost a TokenReview per request.
//
// Guarantees:
// - the cache is keyed by the SHA-256 of the token; the raw token is never stored;
// - a successful review is reused for at most `cache_ttl` (a token revoked or a pod deleted is
//   refused again within that time); a refused token (Unauthenticated, PermissionDenied) is
//   remembered for `rejection_ttl` so a misconfigured agent cannot turn each request into a
//   review; API failures are never cached;
// - the cache holds at most `max_entries` tokens (expired ones go first, then the oldest);
// - errors talking to the API server (including the operator's own RBAC being wrong) come back as
//   Unavailable, never as Unauthenticated/PermissionDenied, so agents retry instead of being
//   told their token is bad.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "operator/agentapi/agent_identity.hpp"
#include "operator/kube/api.hpp"

namespace kprof::agentapi {

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  // The identity behind `token`: Unauthenticated for a missing, invalid or expired token,
  // PermissionDenied for a valid token that is not bound to a pod, Unavailable when the
  // question could not be answered. Safe to call from many threads.
  virtual Result<AgentIdentity> review(std::string_view token) = 0;
};

using TokenDigest = std::array<std::uint8_t, 32>;

// SHA-256 of the token.
TokenDigest tokenDigest(std::string_view token);

struct TokenReviewerOptions {
  // The audiences the agents' projected tokens are requested for; empty: the API server's own
  // (not recommended: agents would then hand the operator tokens valid against the API server).
  std::vector<std::string> audiences{std::string(kAgentTokenAudience)};
  std::chrono::seconds cache_ttl{60};
  std::chrono::seconds rejection_ttl{10};
  std::size_t max_entries = 10'000;
  // Tokens longer than this are refused without asking the API server.
  std::size_t max_token_bytes = 16 * 1024;
  // Counts kprof_agent_api_token_reviews_total{result=cached|authenticated|rejected|error}.
  prometheus::Registry* metrics = nullptr;
};

class KubeTokenReviewer final : public TokenReviewer {
 public:
  KubeTokenReviewer(kube::Api& api, Clock& clock, TokenReviewerOptions options = {});

  Result<AgentIdentity> review(std::string_view token) override;

  std::size_t cachedEntries() const;

 private:
  struct Entry {
    Result<AgentIdentity> outcome;
    Clock::SteadyTime expires;
  };

  void remember(const TokenDigest& digest, Result<AgentIdentity> outcome, Clock::Duration ttl);
  void count(std::string_view result);

  kube::Api& api_;
  Clock& clock_;
  TokenReviewerOptions options_;
  prometheus::Family<prometheus::Counter>* reviews_ = nullptr;
  mutable std::mutex mutex_;
  std::map<TokenDigest, Entry> cache_;
};

}  // namespace kprof::agentapi
