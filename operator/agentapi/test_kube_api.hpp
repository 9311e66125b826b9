// Test double for kube::Api with just what the agent config API uses: TokenReviews answered from
// a table of tokens, and Secrets. Every other call fails with Internal.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/core/base64.hpp"
#include "operator/agentapi/agent_identity.hpp"
#include "operator/kube/api.hpp"

namespace kprof::agentapi::testing {

// The status the API server gives a token bound to a pod.
inline nlohmann::json boundTokenStatus(const std::string& ns,
                                       const std::string& pod,
                                       const std::string& uid,
                                       const std::string& service_account = "default") {
  return {{"authenticated", true},
          {"user",
           {{"username", "system:serviceaccount:" + ns + ":" + service_account},
            {"uid", "sa-uid-" + service_account},
            {"groups", {"system:serviceaccounts", "system:serviceaccounts:" + ns}},
            {"extra",
             {{std::string(kPodNameExtra), {pod}},
              {std::string(kPodUidExtra), {uid}},
              {"authentication.kubernetes.io/node-name", {"node-1"}}}}}},
          {"audiences", {"kprof"}}};
}

// A valid service account token with no pod binding (a legacy Secret-based token).
inline nlohmann::json unboundTokenStatus(const std::string& ns, const std::string& service_account) {
  return {{"authenticated", true},
          {"user", {{"username", "system:serviceaccount:" + ns + ":" + service_account}}},
          {"audiences", {"kprof"}}};
}

class TestKubeApi : public kube::Api {
 public:
  void addToken(const std::string& token, nlohmann::json status) {
    std::lock_guard lock(mutex_);
    tokens_[token] = std::move(status);
  }
  void removeToken(const std::string& token) {
    std::lock_guard lock(mutex_);
    tokens_.erase(token);
  }
  void addSecret(const std::string& ns,
                 const std::string& name,
                 const std::map<std::string, std::string>& data) {
    nlohmann::json encoded = nlohmann::json::object();
    for (const auto& [key, value] : data) {
      encoded[key] = base64Encode(value);
    }
    std::lock_guard lock(mutex_);
    secrets_[ns + "/" + name] = {{"apiVersion", "v1"},
                                 {"kind", "Secret"},
                                 {"metadata", {{"name", name}, {"namespace", ns}}},
                                 {"data", encoded}};
  }
  // Makes the next calls fail as the API server would when unreachable.
  void setFailure(std::optional<ErrorCode> code) {
    std::lock_guard lock(mutex_);
    failure_ = code;
  }
  int tokenReviews() const { return reviews_.load(); }
  nlohmann::json lastReview() const {
    std::lock_guard lock(mutex_);
    return last_review_;
  }

  Result<kube::Object> get(const kube::ResourceType& type,
                           std::string_view ns,
                           std::string_view name) override {
    std::lock_guard lock(mutex_);
    if (failure_) {
      return fail(*failure_, "injected failure");
    }
    if (type != kube::resources::kSecrets) {
      return fail(ErrorCode::Internal, "not supported by the test double");
    }
    const auto it = secrets_.find(std::string(ns) + "/" + std::string(name));
    if (it == secrets_.end()) {
      return fail(ErrorCode::NotFound, "secrets \"" + std::string(name) + "\" not found");
    }
    return it->second;
  }

  Result<kube::Object> create(const kube::ResourceType& type,
                              std::string_view /*ns*/,
                              const kube::Object& object) override {
    if (type != kube::resources::kTokenReviews) {
      return fail(ErrorCode::Internal, "not supported by the test double");
    }
    ++reviews_;
    std::lock_guard lock(mutex_);
    last_review_ = object;
    if (failure_) {
      return fail(*failure_, "injected failure");
    }
    kube::Object review = object;
    const std::string token = object["spec"].value("token", "");
    const auto it = tokens_.find(token);
    review["status"] = it != tokens_.end()
                           ? it->second
                           : nlohmann::json{{"authenticated", false},
                                            {"error", "invalid bearer token"}};
    return review;
  }

  Result<kube::ObjectList> list(const kube::ResourceType&,
                                std::string_view,
                                const kube::ListOptions&) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }
  Status watch(const kube::ResourceType&,
               std::string_view,
               const kube::WatchOptions&,
               const kube::WatchHandler&) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }
  Result<kube::Object> update(const kube::ResourceType&,
                              std::string_view,
                              const kube::Object&) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }
  Result<kube::Object> updateStatus(const kube::ResourceType&,
                                    std::string_view,
                                    const kube::Object&) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }
  Result<kube::Object> patch(const kube::ResourceType&,
                             std::string_view,
                             std::string_view,
                             kube::PatchType,
                             const kube::Object&,
                             const kube::PatchOptions&) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }
  Status remove(const kube::ResourceType&, std::string_view, std::string_view) override {
    return fail(ErrorCode::Internal, "not supported by the test double");
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> tokens_;
  std::map<std::string, nlohmann::json> secrets_;
  std::optional<ErrorCode> failure_;
  std::atomic<int> reviews_{0};
  nlohmann::json last_review_;
};

}  // namespace kprof::agentapi::testing
