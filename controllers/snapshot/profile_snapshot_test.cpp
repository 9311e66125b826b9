#include "controllers/snapshot/profile_snapshot.hpp"

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using nlohmann::json;

json resource() {
  return json::parse(R"({
    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfileSnapshot",
    "metadata": {"name": "checkout-latency-0123456789", "namespace": "shop",
                 "creationTimestamp": "2026-11-22T10:00:00Z",
                 "annotations": {"kprof.dev/stop-requested": "alert resolved"}},
    "spec": {"policyRef": {"name": "checkout"}, "trigger": "latency",
             "alert": {"name": "HighLatency", "fingerprint": "a1b2", "startsAt": "2026-11-22T09:59:58Z",
                       "labels": {"alertname": "HighLatency", "pod": "checkout-1"}},
             "targets": {"pods": ["checkout-1"]}, "durationSeconds": 20, "types": ["cpu", "wall"],
             "rateHz": 499},
    "status": {"phase": "Capturing", "startedAt": "2026-11-22T10:00:01Z",
               "pods": [{"name": "checkout-1", "phase": "Capturing",
                         "startedAt": "2026-11-22T10:00:01.250Z"}]}
  })");
}

TEST(ProfileSnapshotResource, ReadsSpecStatusAndAnnotations) {
  auto snapshot = readProfileSnapshot(resource());
  ASSERT_TRUE(snapshot) << snapshot.error().toString();
  EXPECT_EQ(snapshot->spec.policy, "checkout");
  EXPECT_EQ(snapshot->spec.trigger, "latency");
  ASSERT_TRUE(snapshot->spec.alert);
  EXPECT_EQ(snapshot->spec.alert->labels.at("pod"), "checkout-1");
  EXPECT_EQ(snapshot->spec.types, (std::vector<std::string>{"cpu", "wall"}));
  EXPECT_EQ(snapshot->spec.rate_hz, 499);
  EXPECT_EQ(snapshot->podNamespace(), "shop");
  EXPECT_EQ(snapshot->status.phase, snapshot::Phase::Capturing);
  ASSERT_EQ(snapshot->status.pods.size(), 1u);
  EXPECT_EQ(snapshot->status.pods[0].started_at_ms % 1000, 250);
  EXPECT_FALSE(snapshot->terminal());
  EXPECT_TRUE(snapshot->metadata.annotations.contains("kprof.dev/stop-requested"));
}

TEST(ProfileSnapshotResource, RefusesASpecItCannotRunNamingTheField) {
  for (const auto& [patch, field] : std::vector<std::pair<json, std::string>>{
           {{{"op", "remove"}, {"path", "/spec/targets"}}, "spec.targets"},
           {{{"op", "replace"}, {"path", "/spec/targets/pods"}, {"value", json::array()}}, "spec.targets.pods"},
           {{{"op", "replace"}, {"path", "/spec/durationSeconds"}, {"value", 0}}, "spec.durationSeconds"},
           {{{"op", "replace"}, {"path", "/spec/types"}, {"value", {"heap"}}}, "spec.types"},
           {{{"op", "replace"}, {"path", "/spec/rateHz"}, {"value", "fast"}}, "spec.rateHz"}}) {
    auto snapshot = readProfileSnapshot(resource().patch(json::array({patch})));
    ASSERT_FALSE(snapshot) << patch;
    EXPECT_EQ(snapshot.error().message.rfind(field, 0), 0u) << snapshot.error().message;
  }
}

TEST(ProfileSnapshotResource, ANewSnapshotIsOwnedByItsPolicyAndReadsBackAsBuilt) {
  NewSnapshot created;
  created.namespace_name = "shop";
  created.name = "checkout-latency-0123456789";
  created.policy_uid = "uid-policy";
  created.spec.policy = "checkout";
  created.spec.trigger = "latency";
  created.spec.alert = SnapshotAlert{"HighLatency", "a1b2", "2026-11-22T09:59:58Z", {{"pod", "checkout-1"}}};
  created.spec.pods = {"checkout-1", "checkout-2"};
  created.annotations[std::string(kAlertReceivedAnnotation)] = "2026-11-22T10:00:00.125Z";
  const json built = buildSnapshotResource(created);
  EXPECT_EQ(built["metadata"]["ownerReferences"][0]["uid"], "uid-policy");
  EXPECT_EQ(built["metadata"]["ownerReferences"][0]["kind"], "ProfilingPolicy");
  EXPECT_EQ(built["metadata"]["labels"]["kprof.dev/trigger"], "latency");
  json with_time = built;
  with_time["metadata"]["creationTimestamp"] = "2026-11-22T10:00:00Z";
  auto reread = readProfileSnapshot(with_time);
  ASSERT_TRUE(reread) << reread.error().toString();
  EXPECT_EQ(reread->spec, created.spec);
  EXPECT_EQ(reread->metadata.annotations, created.annotations);
}

TEST(ProfileSnapshotResource, ShortHashIsStableLowercaseHex) {
  EXPECT_EQ(shortHash("a1b2|2026-11-22T09:59:58Z\n"), shortHash("a1b2|2026-11-22T09:59:58Z\n"));
  EXPECT_NE(shortHash("a"), shortHash("b"));
  EXPECT_EQ(shortHash("abc"), "ba7816bf8f");  // SHA-256("abc") begins ba7816bf8f01…
  EXPECT_EQ(formatRfc3339Millis(1'800'000'000'125), "2027-01-15T08:00:00.125Z");
}

}  // namespace
}  // namespace kprof::controllers
