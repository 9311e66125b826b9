#include "webhooks/mutation/json_diff.hpp"

#include <gtest/gtest.h>

namespace kprof::webhooks {
namespace {

using nlohmann::json;

// Every diff must turn `before` into `after` when applied by an RFC 6902 implementation.
void expectRoundTrip(const json& before, const json& after) {
  const json patch = diffJson(before, after);
  EXPECT_EQ(before.patch(patch), after) << patch.dump();
}

TEST(JsonDiff, EqualDocumentsGiveNoOperations) {
  const json pod = {{"metadata", {{"name", "a"}}}, {"spec", {{"containers", json::array()}}}};
  EXPECT_EQ(diffJson(pod, pod), json::array());
}

TEST(JsonDiff, ObjectsAreComparedKeyByKey) {
  const json before = {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"gone", true}};
  const json after = {{"a", 1}, {"b", {{"c", 5}, {"d", 3}, {"e", 4}}}};
  EXPECT_EQ(diffJson(before, after),
            json::parse(R"([{"op":"remove","path":"/gone"},
                            {"op":"replace","path":"/b/c","value":5},
                            {"op":"add","path":"/b/e","value":4}])"));
  expectRoundTrip(before, after);
}

TEST(JsonDiff, PointerTokensAreEscaped) {
  EXPECT_EQ(escapePointerToken("kprof.dev/inject"), "kprof.dev~1inject");
  EXPECT_EQ(escapePointerToken("a~b/c"), "a~0b~1c");
  const json before = {{"metadata", {{"annotations", {{"example.com/odd~key", "1"}}}}}};
  json after = before;
  after["metadata"]["annotations"]["kprof.dev/injected"] = "preload";
  after["metadata"]["annotations"]["example.com/odd~key"] = "2";
  const json patch = diffJson(before, after);
  EXPECT_EQ(patch[0]["path"], "/metadata/annotations/example.com~1odd~0key");
  EXPECT_EQ(patch[1]["path"], "/metadata/annotations/kprof.dev~1injected");
  expectRoundTrip(before, after);
}

TEST(JsonDiff, GrownArraysGetAddsAtTheirNewIndices) {
  const json before = {{"containers", {{{"name", "app"}}}}};
  const json after = {{"containers", {{{"name", "app"}}, {{"name", "kprof-agent"}}}}};
  EXPECT_EQ(diffJson(before, after),
            json::parse(R"([{"op":"add","path":"/containers/1","value":{"name":"kprof-agent"}}])"));
  expectRoundTrip(before, after);
}

TEST(JsonDiff, SameLengthArraysAreComparedElementByElement) {
  const json before = {{"containers", {{{"name", "app"}, {"image", "a:1"}}}}};
  const json after = {{"containers", {{{"name", "app"}, {"image", "a:1"}, {"env", json::array()}}}}};
  EXPECT_EQ(diffJson(before, after),
            json::parse(R"([{"op":"add","path":"/containers/0/env","value":[]}])"));
  expectRoundTrip(before, after);
}

TEST(JsonDiff, OtherArrayChangesAndTypeChangesReplaceTheValue) {
  const json before = {{"init", {"b", "c"}}, {"x", 1}};
  const json after = {{"init", {"a", "b", "c"}}, {"x", "1"}};
  EXPECT_EQ(diffJson(before, after),
            json::parse(R"([{"op":"replace","path":"/init","value":["a","b","c"]},
                            {"op":"replace","path":"/x","value":"1"}])"));
  expectRoundTrip(before, after);
  expectRoundTrip(json{{"a", {1, 2, 3}}}, json{{"a", {1}}});
  expectRoundTrip(json{{"a", nullptr}}, json{{"a", {{"b", 1}}}});
}

}  // namespace
}  // namespace kprof::webhooks
