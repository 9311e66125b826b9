#include "controllers/policy/alert_matcher.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

TEST(ParseAlertMatcher, ReadsAlertmanagerSyntax) {
  struct Case {
    const char* text = nullptr;
    AlertMatcher expected;
  };
  const std::vector<Case> cases = {
      {R"(alertname="HighLatency")", {"alertname", MatchOp::Equal, "HighLatency"}},
      {R"(  severity =~ "critical|page"  )", {"severity", MatchOp::Regex, "critical|page"}},
      {"team!=ops", {"team", MatchOp::NotEqual, "ops"}},
      {R"(job!~"node.*")", {"job", MatchOp::NotRegex, "node.*"}},
      {R"(msg="say \"hi\"\\now\n")", {"msg", MatchOp::Equal, "say \"hi\"\\now\n"}},
      {R"(env="")", {"env", MatchOp::Equal, ""}},
      {"env=", {"env", MatchOp::Equal, ""}},
      {"_private=x", {"_private", MatchOp::Equal, "x"}},
  };
  for (const Case& c : cases) {
    auto parsed = parseAlertMatcher(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
}

TEST(ParseAlertMatcher, ExplainsWhatIsWrong) {
  struct Case {
    const char* text = nullptr;
    const char* message = nullptr;
  };
  const std::vector<Case> cases = {
      {"severity>critical",
       R"("severity>critical" is not an Alertmanager matcher: expected =, !=, =~ or !~ after )"
       "the label name"},
      {R"(="x")", R"("="x"" is not an Alertmanager matcher: expected a label name first)"},
      {"1abc=x", R"("1abc=x" is not an Alertmanager matcher: expected a label name first)"},
      {R"(a="open)", R"("a="open" is not an Alertmanager matcher: unterminated quoted value)"},
      {R"(a="x" y)", R"("a="x" y" is not an Alertmanager matcher: text after the closing quote)"},
      {"a=x y",
       R"("a=x y" is not an Alertmanager matcher: an unquoted value cannot contain quotes or )"
       "spaces"},
  };
  for (const Case& c : cases) {
    auto parsed = parseAlertMatcher(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().message, c.message);
  }
}

TEST(MatchOp, SymbolsRoundTrip) {
  for (MatchOp op : {MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex}) {
    EXPECT_EQ(*parseMatchOp(matchOpSymbol(op)), op);
  }
  EXPECT_FALSE(parseMatchOp("=="));
}

TEST(AlertMatcherMatches, AsAlertmanagerDecides) {
  const std::map<std::string, std::string> labels{{"alertname", "HighLatency"}, {"severity", "page"}};
  auto matches = [&](std::string_view text) {
    auto matcher = parseAlertMatcher(text);
    EXPECT_TRUE(matcher) << text;
    return matcher && matchesLabels(*matcher, labels);
  };
  EXPECT_TRUE(matches(R"(alertname="HighLatency")"));
  EXPECT_FALSE(matches(R"(alertname="High")"));
  EXPECT_TRUE(matches(R"(severity=~"crit|page")"));
  EXPECT_FALSE(matches(R"(severity=~"pag")"));  // anchored: the whole value must match
  EXPECT_TRUE(matches(R"(team!="ops")"));        // a missing label is ""
  EXPECT_FALSE(matches(R"(team=~".+")"));
  EXPECT_TRUE(matches(R"(team!~".+")"));
  EXPECT_FALSE(matches(R"(severity!~"page")"));
  EXPECT_FALSE(matches(R"(severity=~"(")"));      // invalid regex matches nothing
}

}  // namespace
}  // namespace kprof::controllers
