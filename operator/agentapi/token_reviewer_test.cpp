#include "operator/agentapi/token_reviewer.hpp"

#include <gtest/gtest.h>

#include "common/metrics/metrics.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agentapi {
namespace {

using namespace std::chrono_literals;
using testing::boundTokenStatus;
using testing::TestKubeApi;
using testing::unboundTokenStatus;

class KubeTokenReviewerTest : public ::testing::Test {
 protected:
  KubeTokenReviewerTest() {
    api_.addToken("good", boundTokenStatus("shop", "web-1", "uid-1"));
    api_.addToken("unbound", unboundTokenStatus("shop", "web"));
  }

  TestKubeApi api_;
  FakeClock clock_;
};

TEST_F(KubeTokenReviewerTest, AsksTheApiServerOnceAndReusesTheAnswerUntilTheTtl) {
  KubeTokenReviewer reviewer(api_, clock_, {.audiences = {"kprof"}, .cache_ttl = 60s});
  auto first = reviewer.review("good");
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(first->key(), "shop/web-1");
  EXPECT_EQ(api_.lastReview()["spec"]["audiences"], nlohmann::json({"kprof"}));
  EXPECT_EQ(api_.tokenReviews(), 1);

  clock_.advance(59s);
  ASSERT_TRUE(reviewer.review("good"));
  EXPECT_EQ(api_.tokenReviews(), 1);

  // After the TTL the token is checked again, and a revoked token is then refused.
  api_.removeToken("good");
  clock_.advance(2s);
  auto revoked = reviewer.review("good");
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(api_.tokenReviews(), 2);
}

TEST_F(KubeTokenReviewerTest, RefusedTokensAreRememberedBriefly) {
  KubeTokenReviewer reviewer(api_, clock_, {.rejection_ttl = 10s});
  EXPECT_EQ(reviewer.review("bad").error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(reviewer.review("bad").error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(reviewer.review("unbound").error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(reviewer.review("unbound").error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(api_.tokenReviews(), 2);

  // A token that became valid is accepted once the rejection has expired.
  api_.addToken("bad", boundTokenStatus("shop", "web-2", "uid-2"));
  clock_.advance(11s);
  EXPECT_TRUE(reviewer.review("bad"));
}

TEST_F(KubeTokenReviewerTest, ApiFailuresAreUnavailableAndNotCached) {
  KubeTokenReviewer reviewer(api_, clock_);
  // The operator's own RBAC missing must not read as "your token is forbidden" to the agent.
  api_.setFailure(ErrorCode::PermissionDenied);
  auto denied = reviewer.review("good");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::Unavailable);
  api_.setFailure(ErrorCode::Unavailable);
  EXPECT_EQ(reviewer.review("good").error().code, ErrorCode::Unavailable);
  api_.setFailure(std::nullopt);
  EXPECT_TRUE(reviewer.review("good"));
  EXPECT_EQ(api_.tokenReviews(), 3);
}

TEST_F(KubeTokenReviewerTest, EmptyAndOversizedTokensAreRefusedWithoutAReview) {
  KubeTokenReviewer reviewer(api_, clock_, {.max_token_bytes = 100});
  EXPECT_EQ(reviewer.review("").error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(reviewer.review(std::string(101, 'x')).error().code, ErrorCode::Unauthenticated);
  EXPECT_EQ(api_.tokenReviews(), 0);
}

TEST_F(KubeTokenReviewerTest, TheCacheStaysBounded) {
  KubeTokenReviewer reviewer(api_, clock_, {.max_entries = 3});
  for (int i = 0; i < 10; ++i) {
    const std::string token = "token-" + std::to_string(i);
    api_.addToken(token, boundTokenStatus("shop", "web-" + std::to_string(i), "uid"));
    ASSERT_TRUE(reviewer.review(token));
    clock_.advance(1s);
    EXPECT_LE(reviewer.cachedEntries(), 3u);
  }
  // The most recent tokens are the ones kept.
  const int before = api_.tokenReviews();
  ASSERT_TRUE(reviewer.review("token-9"));
  EXPECT_EQ(api_.tokenReviews(), before);
  ASSERT_TRUE(reviewer.review("token-0"));
  EXPECT_EQ(api_.tokenReviews(), before + 1);
}

TEST_F(KubeTokenReviewerTest, CountsOutcomes) {
  metrics::MetricsRegistry metrics;
  KubeTokenReviewer reviewer(api_, clock_, {.metrics = &metrics.registry()});
  ASSERT_TRUE(reviewer.review("good"));
  ASSERT_TRUE(reviewer.review("good"));
  ASSERT_FALSE(reviewer.review("bad"));
  const std::string text = metrics.render();
  EXPECT_NE(text.find("kprof_agent_api_token_reviews_total{result=\"authenticated\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kprof_agent_api_token_reviews_total{result=\"cached\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("kprof_agent_api_token_reviews_total{result=\"rejected\"} 1"),
            std::string::npos);
}

TEST(TokenDigest, IsSha256) {
  // FIPS 180-2 test vector for "abc".
  const TokenDigest digest = tokenDigest("abc");
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[1], 0x78);
  EXPECT_EQ(digest[31], 0xad);
  EXPECT_NE(tokenDigest("abd"), digest);
}

}  // namespace
}  // namespace kprof::agentapi
