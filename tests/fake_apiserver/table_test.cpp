#include "tests/fake_apiserver/table.hpp"

#include <gtest/gtest.h>

#include "tests/fake_apiserver/resources.hpp"
#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(HumanDurationTest, MatchesKubectlAges) {
  EXPECT_EQ(humanDuration(0s), "0s");
  EXPECT_EQ(humanDuration(-1s), "0s");
  EXPECT_EQ(humanDuration(-5s), "<invalid>");
  EXPECT_EQ(humanDuration(119s), "119s");
  EXPECT_EQ(humanDuration(2min), "2m");
  EXPECT_EQ(humanDuration(5min + 3s), "5m3s");
  EXPECT_EQ(humanDuration(17min + 30s), "17m");
  EXPECT_EQ(humanDuration(3h + 20min), "3h20m");
  EXPECT_EQ(humanDuration(30h), "30h");
  EXPECT_EQ(humanDuration(52h), "2d4h");
  EXPECT_EQ(humanDuration(400 * 24h), "400d");
  EXPECT_EQ(humanDuration((3 * 365 + 12) * 24h), "3y12d");
  EXPECT_EQ(humanDuration(10 * 365 * 24h), "10y");
}

TEST(JsonPathTest, FieldsIndexesWildcardsAndFilters) {
  const json object = json::parse(R"({
    "spec": {"mode": "ebpf", "containers": [{"name": "a"}, {"name": "b"}]},
    "status": {"conditions": [{"type": "Degraded", "status": "False"},
                              {"type": "Ready", "status": "True", "reason": "Reconciled"}]}
  })");
  EXPECT_EQ(jsonPathFirst(object, ".spec.mode"), json("ebpf"));
  EXPECT_EQ(jsonPathFirst(object, ".spec.containers[1].name"), json("b"));
  EXPECT_EQ(jsonPathFirst(object, ".spec.containers[*].name"), json("a"));
  EXPECT_EQ(jsonPathFirst(object, R"(.status.conditions[?(@.type=="Ready")].status)"),
            json("True"));
  EXPECT_EQ(jsonPathFirst(object, R"(.status.conditions[?(@.type!="Ready")].type)"),
            json("Degraded"));
  EXPECT_FALSE(jsonPathFirst(object, ".status.missing"));
  EXPECT_FALSE(jsonPathFirst(object, R"(.status.conditions[?(@.type=="Gone")].status)"));
}

TEST(TimestampTest, RoundTripsRfc3339) {
  auto time = parseTimestamp("2024-05-01T12:00:00Z");
  ASSERT_TRUE(time);
  EXPECT_EQ(formatTimestamp(*time), "2024-05-01T12:00:00Z");
  auto offset = parseTimestamp("2024-05-01T14:00:00+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(*offset, *time);
  EXPECT_FALSE(parseTimestamp("yesterday"));
}

TEST(TableTest, PodColumnsAndCells) {
  ResourceInfo pods = builtinResources().front();
  ASSERT_EQ(pods.resource, "pods");
  const json pod = json::parse(R"({
    "metadata": {"name": "web", "creationTimestamp": "2024-05-01T12:00:00Z"},
    "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
    "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
      {"name": "b", "ready": false, "restartCount": 1,
       "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
  })");
  auto now = *parseTimestamp("2024-05-01T12:05:03Z");
  json table = renderTable(pods, {&pod}, IncludeObject::Metadata, now, {{"resourceVersion", "7"}});
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(table["columnDefinitions"][0]["name"], "Name");
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Ready");
  EXPECT_EQ(table["rows"][0]["cells"],
            json({"web",
                  "1/2",
                  "CrashLoopBackOff",
                  "3",
                  "5m3s",
                  "10.0.0.5",
                  "node-1",
                  "<none>",
                  "<none>"}));
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["metadata"]["resourceVersion"], "7");
}

TEST(TableTest, CustomResourcesUseThePrinterColumnsOfTheirCrd) {
  auto documents = readManifestFile(std::filesystem::path(KPROF_SOURCE_DIR) / "crds" /
                                    "profilingpolicies.kprof.dev.yaml");
  ASSERT_TRUE(documents) << documents.error().toString();
  auto served = resourcesFromCrd(documents->front());
  ASSERT_TRUE(served);
  const ResourceInfo& policies = served->front();
  EXPECT_EQ(policies.short_names, (std::vector<std::string>{"pp", "kpp"}));
  const json policy = json::parse(R"({
    "metadata": {"name": "checkout", "creationTimestamp": "2024-05-01T12:00:00Z"},
    "spec": {"mode": "preload"},
    "status": {"matchedPods": 4, "conditions": [{"type": "Ready", "status": "True"}]}
  })");
  auto now = *parseTimestamp("2024-05-01T13:00:00Z");
  json table = renderTable(policies, {&policy}, IncludeObject::None, now, json::object());
  std::vector<std::string> names;
  for (const json& column : table["columnDefinitions"]) {
    names.push_back(column["name"]);
  }
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names.front(), "Name");
  EXPECT_EQ(names.back(), "Age");
  const json& cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells.front(), "checkout");
  EXPECT_EQ(cells.back(), "60m");
  auto column = [&](const std::string& name) {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? json("missing") : cells[it - names.begin()];
  };
  EXPECT_EQ(column("Mode"), "preload");
  EXPECT_EQ(column("Matched"), 4);
  EXPECT_EQ(column("Ready"), "True");
  EXPECT_TRUE(column("Injected").is_null());  // absent values print as <none>
  EXPECT_FALSE(table["rows"][0].contains("object"));
}

}  // namespace
}  // namespace kprof::testing
