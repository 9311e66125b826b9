#include "controllers/policy/profiling_policy.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using nlohmann::json;

TEST(ReadPolicySpec, AppliesTheCrdDefaults) {
  auto spec = readPolicySpec(json::parse(R"({"selector": {"matchLabels": {"app": "checkout"}}})"));
  ASSERT_TRUE(spec) << spec.error().message;
  PolicySpec expected;
  expected.selector.match_labels = {{"app", "checkout"}};
  EXPECT_EQ(*spec, expected);
  // The defaults themselves, spelled out once.
  EXPECT_EQ(spec->mode, AgentMode::Preload);
  EXPECT_TRUE(spec->profiles.cpu.enabled);
  EXPECT_EQ(spec->profiles.cpu.rate_hz, 100);
  EXPECT_FALSE(spec->profiles.alloc);
  EXPECT_FALSE(spec->profiles.lock);
  EXPECT_FALSE(spec->profiles.wall.enabled);
  EXPECT_EQ(spec->upload_interval_seconds, 10);
  EXPECT_EQ(spec->rollout_percentage, 100);
  EXPECT_EQ(spec->priority, 0);
  EXPECT_EQ(spec->version_from.kind, VersionSource::Kind::Default);
  EXPECT_TRUE(spec->targets.empty());
}

TEST(ReadPolicySpec, ReadsEveryField) {
  auto spec = readPolicySpec(json::parse(R"({
    "selector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["test"]}]},
    "environment": "production",
    "versionFrom": {"imageTag": {"container": "server"}},
    "mode": "preload",
    "profiles": {"cpu": {"rateHz": 97}, "alloc": {}, "lock": {"thresholdNanos": 50000},
                 "wall": {"enabled": true}},
    "uploadIntervalSeconds": 15,
    "labels": {"team": "payments"},
    "targets": [
      {"pyroscope": {"url": "https://pyroscope.example.com", "tenantID": "123",
                     "authSecretRef": {"name": "creds", "key": "password", "type": "basic"}}},
      {"store": {}},
      {"file": {"directory": "/var/lib/kprof"}}
    ],
    "snapshotTriggers": [{
      "name": "latency",
      "alertMatchers": ["alertname=\"HighLatency\""],
      "alertLabelMatchers": [{"name": "severity", "op": "=~", "value": "critical|page"},
                             {"name": "team", "value": "payments"}],
      "durationSeconds": 60, "rateHz": 999, "types": ["cpu", "wall"], "cooldownSeconds": 900,
      "maxConcurrent": 2, "stopOnResolve": true
    }, {"name": "defaults", "alertMatchers": ["alertname=Other"]}],
    "rollout": {"percentage": 10},
    "overheadBudget": {"cpuPercent": 2.5},
    "priority": -5
  })"));
  ASSERT_TRUE(spec) << spec.error().message;

  PolicySpec expected;
  expected.selector.match_expressions = {{"tier", SelectorOperator::NotIn, {"test"}}};
  expected.environment = "production";
  expected.version_from = {VersionSource::Kind::ImageTag, "", "server"};
  expected.profiles.cpu = {true, 97};
  expected.profiles.alloc = AllocProfile{524288};
  expected.profiles.lock = LockProfile{50000};
  expected.profiles.wall.enabled = true;
  expected.upload_interval_seconds = 15;
  expected.labels = {{"team", "payments"}};
  expected.targets = {
      PyroscopeTarget{"https://pyroscope.example.com",
                      "123",
                      AuthSecretRef{"creds", "password", "username", AuthType::Basic}},
      StoreTarget{},
      FileTarget{"/var/lib/kprof"},
  };
  SnapshotTrigger latency;
  latency.name = "latency";
  latency.matchers = {{"alertname", MatchOp::Equal, "HighLatency"},
                      {"severity", MatchOp::Regex, "critical|page"},
                      {"team", MatchOp::Equal, "payments"}};
  latency.duration_seconds = 60;
  latency.rate_hz = 999;
  latency.types = {ProfileType::Cpu, ProfileType::Wall};
  latency.cooldown_seconds = 900;
  latency.max_concurrent = 2;
  latency.stop_on_resolve = true;
  SnapshotTrigger defaults;
  defaults.name = "defaults";
  defaults.matchers = {{"alertname", MatchOp::Equal, "Other"}};
  expected.snapshot_triggers = {latency, defaults};
  expected.rollout_percentage = 10;
  expected.overhead_cpu_percent = 2.5;
  expected.priority = -5;
  EXPECT_EQ(*spec, expected);
}

TEST(ReadPolicySpec, RejectsWithTheFieldPath) {
  struct Case {
    const char* spec = nullptr;
    const char* message = nullptr;
  };
  const std::vector<Case> cases = {
      {R"({})", "spec.selector: required"},
      {R"([])", "spec: must be an object"},
      {R"({"selector": {}, "mode": "perf"})", "spec.mode: must be one of preload, ebpf"},
      {R"({"selector": {}, "profiles": {"cpu": {"rateHz": 5000}}})",
       "spec.profiles.cpu.rateHz: must be between 1 and 1000"},
      {R"({"selector": {}, "profiles": {"cpu": {"rateHz": 0}}})",
       "spec.profiles.cpu.rateHz: must be between 1 and 1000"},
      {R"({"selector": {}, "profiles": {"cpu": {"rateHz": 99.5}}})",
       "spec.profiles.cpu.rateHz: must be an integer"},
      {R"({"selector": {}, "profiles": {"alloc": {"meanSampleBytes": 16}}})",
       "spec.profiles.alloc.meanSampleBytes: must be between 1024 and 1073741824"},
      {R"({"selector": {}, "profiles": {"cpu": {"enabled": false}}})",
       "spec.profiles: enable at least one profile type"},
      {R"({"selector": {}, "profiles": {"cpu": {"enabled": "yes"}}})",
       "spec.profiles.cpu.enabled: must be true or false"},
      {R"({"selector": {}, "mode": "ebpf", "profiles": {"lock": {}}})",
       "spec.profiles: ebpf mode samples CPU only; remove profiles.alloc, profiles.lock and "
       "profiles.wall"},
      {R"({"selector": {}, "rollout": {"percentage": 150}})",
       "spec.rollout.percentage: must be between 0 and 100"},
      {R"({"selector": {}, "priority": 5000})", "spec.priority: must be between -1000 and 1000"},
      {R"({"selector": {}, "uploadIntervalSeconds": "10s"})",
       "spec.uploadIntervalSeconds: must be an integer"},
      {R"({"selector": {}, "environment": "prod env!"})",
       "spec.environment: must be a label value (at most 63 of A-Z a-z 0-9 - _ .)"},
      {R"({"selector": {}, "environment": ""})",
       "spec.environment: must be a label value (at most 63 of A-Z a-z 0-9 - _ .)"},
      {R"({"selector": {}, "versionFrom": {"podLabel": "v", "imageTag": {}}})",
       "spec.versionFrom: set exactly one of podLabel or imageTag"},
      {R"({"selector": {}, "versionFrom": {}})",
       "spec.versionFrom: set exactly one of podLabel or imageTag"},
      {R"({"selector": {}, "versionFrom": {"imageTag": {"container": "Server"}}})",
       "spec.versionFrom.imageTag.container: must be a container name (an RFC 1123 label)"},
      {R"({"selector": {}, "labels": {"service-name": "x"}})",
       "spec.labels[service-name]: must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*"},
      {R"({"selector": {}, "targets": [{"pyroscope": {"url": "https://p"}, "file": {"directory": "/d"}}]})",
       "spec.targets[0]: set exactly one of pyroscope, store or file"},
      {R"({"selector": {}, "targets": [{}]})",
       "spec.targets[0]: set exactly one of pyroscope, store or file"},
      {R"({"selector": {}, "targets": [{"store": {}}, {"pyroscope": {"tenantID": "a"}}]})",
       "spec.targets[1].pyroscope.url: required"},
      {R"({"selector": {}, "targets": [{"pyroscope": {"url": "ftp://p"}}]})",
       "spec.targets[0].pyroscope.url: must be an http:// or https:// URL"},
      {R"({"selector": {}, "targets": [{"pyroscope": {"url": "https://p", "authSecretRef": {"name": "c", "key": "k", "type": "oauth"}}}]})",
       "spec.targets[0].pyroscope.authSecretRef.type: must be one of basic, bearer"},
      {R"({"selector": {}, "targets": [{"pyroscope": {"url": "https://p", "authSecretRef": {"name": "c", "key": "k", "usernameKey": "u"}}}]})",
       "spec.targets[0].pyroscope.authSecretRef: usernameKey applies to basic auth only"},
      {R"({"selector": {}, "targets": [{"file": {"directory": "out"}}]})",
       "spec.targets[0].file.directory: must be an absolute path"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t", "alertMatchers": ["severity>critical"]}]})",
       "spec.snapshotTriggers[0].alertMatchers[0]: \"severity>critical\" is not an Alertmanager "
       "matcher: expected =, !=, =~ or !~ after the label name"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t", "alertLabelMatchers": [{"name": "a", "value": "b", "op": "=="}]}]})",
       "spec.snapshotTriggers[0].alertLabelMatchers[0].op: must be one of =, !=, =~, !~"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t"}]})",
       "spec.snapshotTriggers[0]: set at least one of alertMatchers or alertLabelMatchers"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t", "alertMatchers": ["a=b"], "types": ["cpu", "heap"]}]})",
       "spec.snapshotTriggers[0].types[1]: must be one of cpu, alloc, lock, wall"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t", "alertMatchers": ["a=b"], "types": ["cpu", "cpu"]}]})",
       "spec.snapshotTriggers[0].types[1]: duplicate"},
      {R"({"selector": {}, "snapshotTriggers": [{"name": "t", "alertMatchers": ["a=b"]}, {"name": "t", "alertMatchers": ["c=d"]}]})",
       "spec.snapshotTriggers[1]: duplicate trigger name \"t\""},
      {R"({"selector": {}, "overheadBudget": {"cpuPercent": 0}})",
       "spec.overheadBudget.cpuPercent: must be between 0.1 and 100.0"},
  };
  for (const Case& c : cases) {
    auto spec = readPolicySpec(json::parse(c.spec));
    ASSERT_FALSE(spec) << c.spec;
    EXPECT_EQ(spec.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(spec.error().message, c.message) << c.spec;
  }
}

TEST(ReadPolicySpec, IgnoresUnknownFields) {
  // The API server prunes them; a newer CRD must not make this controller reject a policy.
  auto spec = readPolicySpec(json::parse(R"({"selector": {}, "futureField": {"x": 1}})"));
  ASSERT_TRUE(spec) << spec.error().message;
}

TEST(ReadProfilingPolicy, ReadsMetadataStatusAndSpec) {
  auto policy = readProfilingPolicy(json::parse(R"({
    "apiVersion": "kprof.dev/v1alpha1", "kind": "ProfilingPolicy",
    "metadata": {"name": "checkout", "namespace": "shop", "uid": "u-1", "generation": 4,
                 "resourceVersion": "812", "creationTimestamp": "2024-05-01T12:00:00Z"},
    "spec": {"selector": {}},
    "status": {"observedGeneration": 3, "matchedPods": 2}
  })"));
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->valid());
  EXPECT_EQ(policy->metadata.name, "checkout");
  EXPECT_EQ(policy->metadata.namespace_name, "shop");
  EXPECT_EQ(policy->metadata.uid, "u-1");
  EXPECT_EQ(policy->metadata.generation, 4);
  EXPECT_EQ(policy->metadata.resource_version, "812");
  EXPECT_EQ(policy->metadata.creation_timestamp, *parseRfc3339("2024-05-01T12:00:00Z"));
  EXPECT_EQ(policy->status.observed_generation, 3);
  EXPECT_EQ(policy->status.matched_pods, 2);
}

TEST(ReadProfilingPolicy, KeepsAnInvalidSpecAsTheReason) {
  auto policy = readProfilingPolicy(json::parse(R"({
    "metadata": {"name": "checkout", "namespace": "shop", "generation": 2},
    "spec": {"selector": {}, "profiles": {"cpu": {"rateHz": 5000}}}
  })"));
  ASSERT_TRUE(policy);
  EXPECT_FALSE(policy->valid());
  EXPECT_EQ(policy->spec_error->message, "spec.profiles.cpu.rateHz: must be between 1 and 1000");
  EXPECT_EQ(policy->metadata.generation, 2);

  auto no_spec = readProfilingPolicy(json::parse(R"({"metadata": {"name": "p"}})"));
  ASSERT_TRUE(no_spec);
  EXPECT_EQ(no_spec->spec_error->message, "spec: required");

  auto long_name = readProfilingPolicy(json{{"metadata", {{"name", std::string(64, 'a')}}},
                                            {"spec", {{"selector", json::object()}}}});
  ASSERT_TRUE(long_name);
  EXPECT_EQ(
      long_name->spec_error->message,
      "metadata.name: must be at most 63 characters (it is the kprof.dev/policy label value)");
}

TEST(ReadProfilingPolicy, FailsOnlyWithoutAName) {
  EXPECT_FALSE(readProfilingPolicy(json::parse(R"({"spec": {"selector": {}}})")));
  EXPECT_FALSE(readProfilingPolicy(json::parse(R"({"metadata": {"namespace": "shop"}})")));
  EXPECT_FALSE(readProfilingPolicy(json::parse(R"([])")));
}

}  // namespace
}  // namespace kprof::controllers
