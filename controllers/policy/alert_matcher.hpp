// Alertmanager-style label matchers that select which alerts trigger a snapshot.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/core/result.hpp"

namespace kprof::controllers {

enum class MatchOp { Equal, NotEqual, Regex, NotRegex };  // = != =~ !~

struct AlertMatcher {
  std::string name;
  MatchOp op = MatchOp::Equal;
  std::string value;

  bool operator==(const AlertMatcher&) const = default;
};

// Parses one matcher in Alertmanager's syntax: `alertname="HighLatency"`, `severity=~"crit|page"`,
// `team!=ops`. A quoted value may escape \" \\ and \n; an unquoted one runs to the end (trimmed).
// Regular expressions are not compiled here: Alertmanager's dialect (RE2) is the router's concern.
Result<AlertMatcher> parseAlertMatcher(std::string_view text);

// Whether an alert's labels satisfy the matcher, as Alertmanager decides it: a missing label is
// the empty string, and regular expressions match the whole value (anchored). An invalid regular
// expression matches nothing (the policy's validation reports it).
bool matchesLabels(const AlertMatcher& matcher, const std::map<std::string, std::string>& labels);

// "=", "!=", "=~", "!~"; parseMatchOp fails with InvalidArgument on anything else.
std::string_view matchOpSymbol(MatchOp op);
Result<MatchOp> parseMatchOp(std::string_view symbol);

}  // namespace kprof::controllers
