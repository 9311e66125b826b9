#include "operator/kube/selectors.hpp"

#include <gtest/gtest.h>

namespace kprof::kube {
namespace {

using nlohmann::json;

bool selects(std::string_view selector, const json& labels) {
  auto parsed = LabelSelector::parse(selector);
  EXPECT_TRUE(parsed) << selector << ": " << parsed.error().toString();
  return parsed && parsed->matches(labels);
}

TEST(LabelSelectorTest, EmptySelectsEverything) {
  EXPECT_TRUE(selects("", json()));
  EXPECT_TRUE(selects("  ", {{"app", "web"}}));
}

TEST(LabelSelectorTest, EqualityOperators) {
  const json labels = {{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(selects("app=web", labels));
  EXPECT_TRUE(selects("app==web", labels));
  EXPECT_FALSE(selects("app=db", labels));
  EXPECT_TRUE(selects("app!=db", labels));
  EXPECT_FALSE(selects("app!=web", labels));
  EXPECT_TRUE(selects("app=web,tier=front", labels));
  EXPECT_FALSE(selects("app=web,tier=back", labels));
  EXPECT_TRUE(selects(" app = web , tier == front ", labels));
}

TEST(LabelSelectorTest, NotEqualAndNotInMatchObjectsWithoutTheLabel) {
  EXPECT_TRUE(selects("env!=prod", {{"app", "web"}}));
  EXPECT_TRUE(selects("env notin (prod)", json()));
  EXPECT_FALSE(selects("env in (prod)", json()));
}

TEST(LabelSelectorTest, SetOperators) {
  const json labels = {{"env", "prod"}};
  EXPECT_TRUE(selects("env in (prod,staging)", labels));
  EXPECT_TRUE(selects("env in ( staging , prod )", labels));
  EXPECT_FALSE(selects("env in (dev)", labels));
  EXPECT_TRUE(selects("env notin (dev,staging)", labels));
  EXPECT_FALSE(selects("env notin (prod)", labels));
}

TEST(LabelSelectorTest, ExistenceOperators) {
  const json labels = {{"kprof.dev/policy", "checkout"}};
  EXPECT_TRUE(selects("kprof.dev/policy", labels));
  EXPECT_FALSE(selects("!kprof.dev/policy", labels));
  EXPECT_TRUE(selects("!app", labels));
  EXPECT_FALSE(selects("app", labels));
  EXPECT_TRUE(selects("kprof.dev/policy,!app", labels));
}

TEST(LabelSelectorTest, NumericComparisons) {
  EXPECT_TRUE(selects("replicas>2", {{"replicas", "3"}}));
  EXPECT_FALSE(selects("replicas<2", {{"replicas", "3"}}));
  EXPECT_FALSE(selects("replicas>2", {{"replicas", "many"}}));
}

TEST(LabelSelectorTest, RejectsMalformedSelectors) {
  for (const char* bad : {"app=web,",
                          "=web",
                          "app in prod",
                          "app in (a",
                          "app = web x",
                          "-app=web",
                          "app=we b",
                          "app===web",
                          "app>x"}) {
    auto parsed = LabelSelector::parse(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
    }
  }
}

TEST(FieldSelectorTest, EqualityAndInequality) {
  const json pod = {{"metadata", {{"name", "web-0"}, {"namespace", "shop"}}},
                    {"spec", {{"nodeName", "node-1"}, {"hostNetwork", true}}},
                    {"status", {{"phase", "Running"}}}};
  auto match = [&](std::string_view text) {
    auto parsed = FieldSelector::parse(text);
    EXPECT_TRUE(parsed) << text;
    return parsed && parsed->matches(pod);
  };
  EXPECT_TRUE(match("metadata.name=web-0"));
  EXPECT_TRUE(match("metadata.name==web-0,metadata.namespace=shop"));
  EXPECT_FALSE(match("metadata.namespace!=shop"));
  EXPECT_TRUE(match("status.phase!=Pending"));
  EXPECT_TRUE(match("spec.nodeName=node-1"));
  EXPECT_TRUE(match("spec.hostNetwork=true"));
  // An absent field compares as the empty string: spec.schedulerName= selects it.
  EXPECT_TRUE(match("spec.schedulerName="));
}

TEST(FieldSelectorTest, BackslashEscapesSeparators) {
  auto parsed = FieldSelector::parse("metadata.name=a\\,b\\=c");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->requirements().size(), 1u);
  EXPECT_EQ(parsed->requirements()[0].value, "a,b=c");
}

TEST(FieldSelectorTest, RejectsRequirementsWithoutOperator) {
  EXPECT_FALSE(FieldSelector::parse("metadata.name"));
  EXPECT_FALSE(FieldSelector::parse("=x"));
}

}  // namespace
}  // namespace kprof::kube
