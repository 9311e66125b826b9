#include "operator/fakekube/selectors.hpp"

#include <gtest/gtest.h>

namespace kprof::fakekube {
namespace {

using nlohmann::json;

bool labelsMatch(const char* selector, const json& labels) {
  auto parsed = LabelSelector::parse(selector);
  EXPECT_TRUE(parsed) << selector << ": " << parsed.error().toString();
  return parsed && parsed->matches(labels);
}

TEST(LabelSelector, EveryOperatorAgainstLabels) {
  const json labels = {{"app", "web"}, {"tier", "front"}, {"kprof.dev/env", "prod"}};
  struct Case {
    const char* selector;
    bool matches;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"", true},
           {"app=web", true},
           {"app==web", true},
           {"app=db", false},
           {"app!=db", true},
           {"app!=web", false},
           {"missing!=x", true},
           {"app", true},
           {"missing", false},
           {"!missing", true},
           {"!app", false},
           {"tier in (back, front)", true},
           {"tier in (back)", false},
           {"tier notin (back)", true},
           {"missing notin (back)", true},
           {"app=web,tier=front", true},
           {"app=web, tier=back", false},
           {"kprof.dev/env=prod,tier in (a,front),!canary", true},
       }) {
    EXPECT_EQ(labelsMatch(c.selector, labels), c.matches) << c.selector;
  }
}

TEST(LabelSelector, ObjectWithoutLabels) {
  EXPECT_TRUE(labelsMatch("", json()));
  EXPECT_FALSE(labelsMatch("app=web", json()));
  EXPECT_TRUE(labelsMatch("!app", json()));
}

TEST(LabelSelector, MalformedTextIsAnErrorNamingTheTerm) {
  for (const char* bad : {"app=web,",
                          ",app",
                          "tier in (a",
                          "tier in a)",
                          "tier within (a)",
                          "a b=c",
                          "=web",
                          "app=we b"}) {
    auto parsed = LabelSelector::parse(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  }
}

TEST(FieldSelector, DottedPathsAndNegation) {
  const json pod = {{"metadata", {{"name", "a"}, {"namespace", "ns"}}},
                    {"spec", {{"nodeName", "n1"}}},
                    {"status", {{"phase", "Running"}}}};
  const auto match = [&](const char* text) {
    auto parsed = FieldSelector::parse(text);
    EXPECT_TRUE(parsed) << text;
    return parsed && parsed->matches(pod);
  };
  EXPECT_TRUE(match(""));
  EXPECT_TRUE(match("metadata.name=a"));
  EXPECT_TRUE(match("metadata.name==a,spec.nodeName=n1"));
  EXPECT_FALSE(match("spec.nodeName=n2"));
  EXPECT_TRUE(match("status.phase!=Pending"));
  EXPECT_TRUE(match("spec.missing="));  // a missing field reads as ""
  EXPECT_FALSE(FieldSelector::parse("metadata.name"));
}

}  // namespace
}  // namespace kprof::fakekube
