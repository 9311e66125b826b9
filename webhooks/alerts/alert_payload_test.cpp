#include "webhooks/alerts/alert_payload.hpp"

#include <gtest/gtest.h>

namespace kprof::webhooks {
namespace {

// As Alertmanager 0.25 sends it (fields from its webhook template).
constexpr std::string_view kPayload = R"({
  "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
  "status": "firing", "receiver": "kprof",
  "groupLabels": {"alertname": "HighLatency"},
  "commonLabels": {"alertname": "HighLatency", "namespace": "shop"},
  "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HighLatency", "namespace": "shop", "pod": "api-1"},
     "annotations": {"summary": "p99 over 2s"}, "startsAt": "2026-11-22T10:00:00Z",
     "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph",
     "fingerprint": "1a2b3c4d5e6f7a8b"},
    {"status": "resolved", "labels": {"alertname": "HighLatency", "pod": "api-2"},
     "startsAt": "2026-11-22T09:00:00Z", "endsAt": "2026-11-22T09:30:00Z", "fingerprint": "ffff"}
  ]})";

TEST(AlertPayload, ReadsAlertmanagersVersion4) {
  auto payload = readAlertPayload(kPayload);
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(payload->receiver, "kprof");
  EXPECT_EQ(payload->common_labels.at("namespace"), "shop");
  ASSERT_EQ(payload->alerts.size(), 2u);
  EXPECT_TRUE(payload->alerts[0].firing());
  EXPECT_EQ(payload->alerts[0].labels.at("pod"), "api-1");
  EXPECT_EQ(payload->alerts[0].fingerprint, "1a2b3c4d5e6f7a8b");
  EXPECT_EQ(payload->alerts[0].starts_at, "2026-11-22T10:00:00Z");
  EXPECT_FALSE(payload->alerts[1].firing());
}

TEST(AlertPayload, MalformedPayloadsNameTheProblem) {
  auto check = [](std::string_view body, std::string_view expected) {
    auto payload = readAlertPayload(body);
    ASSERT_FALSE(payload) << body;
    EXPECT_EQ(payload.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(payload.error().message.find(expected), std::string::npos) << payload.error().message;
  };
  check("{", "not JSON");
  check("[]", "JSON object");
  check(R"({"alerts": []})", "version: required");
  check(R"({"version": "3", "alerts": []})", "must be \"4\"");
  check(R"({"version": "4"})", "alerts: must be an array");
  check(R"({"version": "4", "alerts": [{"status": "firing", "startsAt": "x", "fingerprint": "f",
            "labels": {"severity": 3}}]})", "alerts[0].labels.severity: must be a string");
  check(R"({"version": "4", "alerts": [{"status": "pending", "startsAt": "x", "fingerprint": "f"}]})",
        "alerts[0].status");
  check(R"({"version": "4", "alerts": [{"status": "firing", "startsAt": "x"}]})",
        "alerts[0].fingerprint: required");
  check(R"({"version": "4", "truncatedAlerts": -1, "alerts": []})", "truncatedAlerts");
}

}  // namespace
}  // namespace kprof::webhooks
