#include "webhooks/receiver/alert_receiver.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/core/base64.hpp"
#include "operator/fakekube/memory_api.hpp"

namespace kprof::webhooks {
namespace {

constexpr const char* kPayload = R"({
  "version": "4", "status": "firing", "receiver": "kprof", "groupKey": "{}:{alertname=\"HighLatency\"}",
  "truncatedAlerts": 0, "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {},
  "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
  "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "pod": "checkout-1"},
              "annotations": {}, "startsAt": "2026-11-22T10:00:00Z",
              "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "a1b2c3d4"}]})";

class StaticToken final : public AlertToken {
 public:
  Result<std::string> current() override { return std::string("s3cret-token"); }
};

http::Request post(std::string authorization, std::string body = kPayload) {
  http::Request request;
  request.method = "POST";
  request.path = "/alerts";
  if (!authorization.empty()) request.headers.set("Authorization", authorization);
  request.body = std::move(body);
  return request;
}

class AlertReceiverTest : public ::testing::Test {
 protected:
  StaticToken token_;
  SystemClock clock_;
  prometheus::Registry registry_;
  std::mutex mutex_;
  std::vector<ReceivedAlerts> handled_;
  AlertReceiver receiver_{token_,
                          [this](const ReceivedAlerts& alerts) {
                            std::lock_guard lock(mutex_);
                            handled_.push_back(alerts);
                          },
                          clock_, registry_, {.queue_capacity = 2}};
};

TEST_F(AlertReceiverTest, AMissingOrWrongTokenGets401AndNothingIsProcessed) {
  for (const std::string& header : {std::string(), std::string("Bearer wrong-token-12"),
                                    std::string("Bearer s3cret-tokenX"), std::string("Basic czNjcmV0"),
                                    std::string("Bearer ")}) {
    const http::Response response = receiver_.handle(post(header));
    EXPECT_EQ(response.status, 401) << header;
    EXPECT_EQ(response.headers.get("WWW-Authenticate"), "Bearer");
  }
  receiver_.stop();  // processes whatever was queued: nothing
  receiver_.start();
  receiver_.stop();
  EXPECT_TRUE(handled_.empty());
}

TEST_F(AlertReceiverTest, AMalformedPayloadGets400NamingTheField) {
  const http::Response not_json = receiver_.handle(post("Bearer s3cret-token", "{"));
  EXPECT_EQ(not_json.status, 400);
  std::string body = kPayload;
  body.replace(body.find("\"status\": \"firing\", \"labels\""), 18, "\"status\": 7       ");
  const http::Response bad_field = receiver_.handle(post("Bearer s3cret-token", body));
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_NE(bad_field.body.find("alerts[0].status"), std::string::npos) << bad_field.body;
}

TEST_F(AlertReceiverTest, AGoodNotificationIsQueuedAndHandedToTheWorkerInOrder) {
  EXPECT_EQ(receiver_.handle(post("Bearer s3cret-token")).status, 200);
  EXPECT_EQ(receiver_.handle(post("bearer  s3cret-token ")).status, 200);  // scheme case, spaces
  // Full: Alertmanager is told to retry.
  EXPECT_EQ(receiver_.handle(post("Bearer s3cret-token")).status, 503);
  receiver_.start();
  receiver_.stop();
  ASSERT_EQ(handled_.size(), 2u);
  EXPECT_EQ(handled_[0].payload.alerts[0].labels.at("pod"), "checkout-1");
  EXPECT_EQ(handled_[0].payload.alerts[0].fingerprint, "a1b2c3d4");
}

TEST(AlertTokens, AFileTokenIsReReadSoRotationNeedsNoRestart) {
  const std::string path = ::testing::TempDir() + "/alert-token-" + std::to_string(::getpid());
  std::ofstream(path) << "first\n";
  FileAlertToken token(path);
  EXPECT_EQ(*token.current(), "first");
  std::ofstream(path) << "second";
  EXPECT_EQ(*token.current(), "second");
  std::filesystem::remove(path);
  auto missing = token.current();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
}

TEST(AlertTokens, ASecretTokenIsReadFromItsKey) {
  FakeClock clock;
  fakekube::MemoryApi api(clock);
  SecretAlertToken token(api, clock, "kprof-system", "kprof-alerts", "token");
  EXPECT_FALSE(token.current());  // no Secret yet: the receiver answers 503
  ASSERT_TRUE(api.create(kube::resources::kSecrets, "kprof-system",
                         {{"metadata", {{"name", "kprof-alerts"}, {"namespace", "kprof-system"}}},
                          {"data", {{"token", base64Encode("from-secret\n")}}}}));
  clock.advance(std::chrono::seconds(31));
  auto value = token.current();
  ASSERT_TRUE(value) << value.error().toString();
  EXPECT_EQ(*value, "from-secret");
}

}  // namespace
}  // namespace kprof::webhooks
