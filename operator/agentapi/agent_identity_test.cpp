#include "operator/agentapi/agent_identity.hpp"

#include <gtest/gtest.h>

#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agentapi {
namespace {

using testing::boundTokenStatus;
using testing::unboundTokenStatus;

nlohmann::json reviewWith(nlohmann::json status) {
  return {{"apiVersion", "authentication.k8s.io/v1"},
          {"kind", "TokenReview"},
          {"spec", {{"token", "t"}}},
          {"status", std::move(status)}};
}

TEST(TokenReviewRequest, CarriesTheTokenAndAudiences) {
  const auto request = tokenReviewRequest("abc", {"kprof"});
  EXPECT_EQ(request["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_EQ(request["kind"], "TokenReview");
  EXPECT_EQ(request["spec"]["token"], "abc");
  EXPECT_EQ(request["spec"]["audiences"], nlohmann::json({"kprof"}));
  EXPECT_FALSE(tokenReviewRequest("abc", {})["spec"].contains("audiences"));
}

TEST(IdentityFromTokenReview, ReadsAPodBoundServiceAccountToken) {
  auto identity = identityFromTokenReview(
      reviewWith(boundTokenStatus("shop", "web-7d9f", "uid-1", "web")), {"kprof"});
  ASSERT_TRUE(identity) << identity.error().toString();
  EXPECT_EQ(*identity, (AgentIdentity{"shop", "web-7d9f", "uid-1", "web"}));
  EXPECT_EQ(identity->key(), "shop/web-7d9f");
}

TEST(IdentityFromTokenReview, NotAuthenticatedIsUnauthenticatedWithTheServersReason) {
  auto identity = identityFromTokenReview(
      reviewWith({{"authenticated", false}, {"error", "token has expired"}}));
  ASSERT_FALSE(identity);
  EXPECT_EQ(identity.error().code, ErrorCode::Unauthenticated);
  EXPECT_NE(identity.error().message.find("token has expired"), std::string::npos);

  auto missing = identityFromTokenReview(reviewWith(nlohmann::json::object()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Unauthenticated);
}

TEST(IdentityFromTokenReview, ATokenNotBoundToAPodIsPermissionDenied) {
  auto identity = identityFromTokenReview(reviewWith(unboundTokenStatus("shop", "web")));
  ASSERT_FALSE(identity);
  EXPECT_EQ(identity.error().code, ErrorCode::PermissionDenied);
  EXPECT_NE(identity.error().message.find("not bound to a pod"), std::string::npos);

  // A pod name without the uid is not a usable binding either.
  auto status = boundTokenStatus("shop", "web-1", "uid-1");
  status["user"]["extra"].erase(std::string(kPodUidExtra));
  auto no_uid = identityFromTokenReview(reviewWith(status));
  ASSERT_FALSE(no_uid);
  EXPECT_EQ(no_uid.error().code, ErrorCode::PermissionDenied);

  // Extras are arrays of strings; an empty array is no value.
  status = boundTokenStatus("shop", "web-1", "uid-1");
  status["user"]["extra"][std::string(kPodNameExtra)] = nlohmann::json::array();
  auto empty = identityFromTokenReview(reviewWith(status));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::PermissionDenied);
}

TEST(IdentityFromTokenReview, UsersThatAreNotServiceAccountsArePermissionDenied) {
  for (const char* username : {"alice", "system:serviceaccount:shop", "system:serviceaccount::x",
                               "system:serviceaccount:a:b:c", ""}) {
    auto status = boundTokenStatus("shop", "web-1", "uid-1");
    status["user"]["username"] = username;
    auto identity = identityFromTokenReview(reviewWith(status));
    ASSERT_FALSE(identity) << username;
    EXPECT_EQ(identity.error().code, ErrorCode::PermissionDenied) << username;
  }
}

TEST(IdentityFromTokenReview, ATokenForAnotherAudienceIsUnauthenticated) {
  auto status = boundTokenStatus("shop", "web-1", "uid-1");
  status["audiences"] = {"https://kubernetes.default.svc"};
  auto identity = identityFromTokenReview(reviewWith(status), {"kprof"});
  ASSERT_FALSE(identity);
  EXPECT_EQ(identity.error().code, ErrorCode::Unauthenticated);
  // Without our own audiences, the API server's defaults are trusted.
  EXPECT_TRUE(identityFromTokenReview(reviewWith(status), {}));
}

TEST(IdentityFromTokenReview, MalformedReviewsAreParseErrors) {
  EXPECT_EQ(identityFromTokenReview(nlohmann::json::array()).error().code, ErrorCode::Parse);
  EXPECT_EQ(identityFromTokenReview({{"kind", "TokenReview"}}).error().code, ErrorCode::Parse);
  EXPECT_EQ(identityFromTokenReview(reviewWith({{"authenticated", true}})).error().code,
            ErrorCode::Parse);
}

}  // namespace
}  // namespace kprof::agentapi
