#include "operator/agentapi/token_reviewer.hpp"

#include <algorithm>

#include <openssl/evp.h>

namespace kprof::agentapi {

TokenDigest tokenDigest(std::string_view token) {
  TokenDigest digest{};
  unsigned int length = 0;
  // SHA-256 of an in-memory buffer cannot fail short of memory exhaustion; the digest is then
  // left zeroed, which at worst shares one cache slot among such tokens until it expires.
  EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

KubeTokenReviewer::KubeTokenReviewer(kube::Api& api, Clock& clock, TokenReviewerOptions options)
    : api_(api), clock_(clock), options_(std::move(options)) {
  // OpenSSL's lazy first-use initialisation allocates error state for the thread that triggers
  // it; trigger it here rather than on a server pool thread, which lives until exit.
  (void)tokenDigest("");
  if (options_.metrics != nullptr) {
    reviews_ = &prometheus::BuildCounter()
                    .Name("kprof_agent_api_token_reviews_total")
                    .Help("Agent tokens checked, by outcome: cached, authenticated, rejected, "
                          "error (the API server could not be asked).")
                    .Register(*options_.metrics);
  }
}

void KubeTokenReviewer::count(std::string_view result) {
  if (reviews_ != nullptr) {
    reviews_->Add({{"result", std::string(result)}}).Increment();
  }
}

Result<AgentIdentity> KubeTokenReviewer::review(std::string_view token) {
  if (token.empty()) {
    return fail(ErrorCode::Unauthenticated, "no bearer token");
  }
  if (token.size() > options_.max_token_bytes) {
    return fail(ErrorCode::Unauthenticated, "bearer token too long");
  }
  const TokenDigest digest = tokenDigest(token);
  {
    std::lock_guard lock(mutex_);
    const auto it = cache_.find(digest);
    if (it != cache_.end()) {
      if (clock_.now() < it->second.expires) {
        count("cached");
        return it->second.outcome;
      }
      cache_.erase(it);
    }
  }
  // Asked without the lock: a slow API server must not hold up requests answered from the cache.
  // Two requests with the same new token may both ask; both answers are the same.
  auto created =
      api_.create(kube::resources::kTokenReviews, "", tokenReviewRequest(token, options_.audiences));
  if (!created) {
    count("error");
    Error error = created.error().wrap("TokenReview");
    error.code = ErrorCode::Unavailable;
    return error;
  }
  Result<AgentIdentity> identity = identityFromTokenReview(*created, options_.audiences);
  if (identity) {
    count("authenticated");
    remember(digest, identity, options_.cache_ttl);
    return identity;
  }
  const ErrorCode code = identity.error().code;
  if (code == ErrorCode::Unauthenticated || code == ErrorCode::PermissionDenied) {
    count("rejected");
    remember(digest, identity, options_.rejection_ttl);
    return identity;
  }
  // A review we cannot read is the API server's problem, not the agent's.
  count("error");
  Error error = identity.error().wrap("TokenReview");
  error.code = ErrorCode::Unavailable;
  return error;
}

void KubeTokenReviewer::remember(const TokenDigest& digest,
                                 Result<AgentIdentity> outcome,
                                 Clock::Duration ttl) {
  if (ttl <= Clock::Duration::zero() || options_.max_entries == 0) {
    return;
  }
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  if (cache_.size() >= options_.max_entries && !cache_.contains(digest)) {
    std::erase_if(cache_, [&](const auto& entry) { return entry.second.expires <= now; });
  }
  if (cache_.size() >= options_.max_entries && !cache_.contains(digest)) {
    const auto oldest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    cache_.erase(oldest);
  }
  cache_.insert_or_assign(digest, Entry{std::move(outcome), now + ttl});
}

std::size_t KubeTokenReviewer::cachedEntries() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

}  // namespace kprof::agentapi
