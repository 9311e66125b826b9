#include "controllers/policy/label_selector.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using Op = SelectorOperator;

TEST(SelectorMatches, FollowsKubernetesSemantics) {
  struct Case {
    const char* name = nullptr;
    LabelSelector selector;
    Labels labels;
    bool matches = false;
  };
  const Labels checkout = {{"app", "checkout"}, {"tier", "backend"}};
  const std::vector<Case> cases = {
      {"empty selector matches a labeled pod", {}, checkout, true},
      {"empty selector matches an unlabeled pod", {}, {}, true},
      {"matchLabels equal", {{{"app", "checkout"}}, {}}, checkout, true},
      {"matchLabels other value", {{{"app", "cart"}}, {}}, checkout, false},
      {"matchLabels missing key", {{{"team", "a"}}, {}}, checkout, false},
      {"matchLabels all must hold", {{{"app", "checkout"}, {"tier", "web"}}, {}}, checkout, false},
      {"In listed", {{}, {{"tier", Op::In, {"web", "backend"}}}}, checkout, true},
      {"In not listed", {{}, {{"tier", Op::In, {"web"}}}}, checkout, false},
      {"In absent key", {{}, {{"zone", Op::In, {"a"}}}}, checkout, false},
      {"NotIn listed", {{}, {{"tier", Op::NotIn, {"backend"}}}}, checkout, false},
      {"NotIn not listed", {{}, {{"tier", Op::NotIn, {"web"}}}}, checkout, true},
      {"NotIn absent key matches", {{}, {{"zone", Op::NotIn, {"a"}}}}, checkout, true},
      {"Exists present", {{}, {{"app", Op::Exists, {}}}}, checkout, true},
      {"Exists absent", {{}, {{"zone", Op::Exists, {}}}}, checkout, false},
      {"DoesNotExist absent", {{}, {{"zone", Op::DoesNotExist, {}}}}, checkout, true},
      {"DoesNotExist present", {{}, {{"app", Op::DoesNotExist, {}}}}, checkout, false},
      {"labels and expressions ANDed, both hold",
       {{{"app", "checkout"}}, {{"tier", Op::In, {"backend"}}, {"opt-out", Op::DoesNotExist, {}}}},
       checkout,
       true},
      {"labels and expressions ANDed, one fails",
       {{{"app", "checkout"}}, {{"tier", Op::In, {"web"}}}},
       checkout,
       false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(selectorMatches(c.selector, c.labels), c.matches) << c.name;
  }
}

struct ReadResult {
  LabelSelector selector;
  std::optional<Error> problem;
};

ReadResult read(const char* json) {
  const nlohmann::json document = nlohmann::json::parse(json);
  Validation validation;
  ReadResult result;
  result.selector =
      readLabelSelector(ObjectReader(&document, FieldPath("spec.selector"), validation));
  result.problem = validation.firstProblem();
  return result;
}

TEST(ReadLabelSelector, ReadsBothForms) {
  const ReadResult result = read(R"({
    "matchLabels": {"app.kubernetes.io/name": "checkout"},
    "matchExpressions": [
      {"key": "tier", "operator": "In", "values": ["web", "backend"]},
      {"key": "kprof.dev/opt-out", "operator": "DoesNotExist"}
    ]})");
  ASSERT_FALSE(result.problem) << result.problem->message;
  const LabelSelector expected = {
      {{"app.kubernetes.io/name", "checkout"}},
      {{"tier", Op::In, {"web", "backend"}}, {"kprof.dev/opt-out", Op::DoesNotExist, {}}}};
  EXPECT_EQ(result.selector, expected);
  EXPECT_EQ(read("{}").selector, LabelSelector{});
}

TEST(ReadLabelSelector, NamesTheBadField) {
  struct Case {
    const char* json = nullptr;
    const char* message = nullptr;
  };
  const std::vector<Case> cases = {
      {R"({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["x"]}]})",
       "spec.selector.matchExpressions[0].operator: must be one of In, NotIn, Exists, "
       "DoesNotExist"},
      {R"({"matchExpressions": [{"key": "app", "operator": "In"}]})",
       "spec.selector.matchExpressions[0]: values must be non-empty for In and NotIn, and empty "
       "for Exists and DoesNotExist"},
      {R"({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]})",
       "spec.selector.matchExpressions[0]: values must be non-empty for In and NotIn, and empty "
       "for Exists and DoesNotExist"},
      {R"({"matchExpressions": [{"operator": "Exists"}]})",
       "spec.selector.matchExpressions[0].key: required"},
      {R"({"matchExpressions": [{"key": "bad key", "operator": "Exists"}]})",
       "spec.selector.matchExpressions[0].key: must be a label key such as app.kubernetes.io/name"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["no spaces"]}]})",
       "spec.selector.matchExpressions[0].values[0]: must be a label value (at most 63 of A-Z a-z "
       "0-9 - _ .)"},
      {R"({"matchLabels": {"-app": "checkout"}})",
       "spec.selector.matchLabels[-app]: must be a label key such as app.kubernetes.io/name"},
      {R"({"matchLabels": {"app": "check out"}})",
       "spec.selector.matchLabels[app]: must be a label value (at most 63 of A-Z a-z 0-9 - _ .)"},
      {R"({"matchLabels": {"app": 3}})", "spec.selector.matchLabels[app]: must be a string"},
      {R"({"matchLabels": ["app"]})", "spec.selector.matchLabels: must be a map of strings"},
      {R"({"matchExpressions": {"key": "app"}})", "spec.selector.matchExpressions: must be a list"},
  };
  for (const Case& c : cases) {
    const ReadResult result = read(c.json);
    ASSERT_TRUE(result.problem) << c.json;
    EXPECT_EQ(result.problem->message, c.message) << c.json;
    EXPECT_EQ(result.problem->code, ErrorCode::InvalidArgument);
  }
}

}  // namespace
}  // namespace kprof::controllers
