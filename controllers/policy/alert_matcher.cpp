#include "controllers/policy/alert_matcher.hpp"

#include <regex>

#include <cctype>

#include "controllers/policy/kube_names.hpp"

namespace kprof::controllers {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

Unexpected badMatcher(std::string_view text, std::string_view why) {
  return fail(ErrorCode::InvalidArgument,
              "\"" + std::string(text) + "\" is not an Alertmanager matcher: " + std::string(why));
}

// `"…"` with escapes, exactly filling `quoted`.
Result<std::string> unquote(std::string_view quoted, std::string_view text) {
  std::string value;
  for (size_t i = 1; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (c == '"') {
      if (i + 1 != quoted.size()) {
        return badMatcher(text, "text after the closing quote");
      }
      return value;
    }
    if (c == '\\') {
      if (++i == quoted.size()) {
        break;
      }
      value += quoted[i] == 'n' ? '\n' : quoted[i];
      continue;
    }
    value += c;
  }
  return badMatcher(text, "unterminated quoted value");
}

}  // namespace

std::string_view matchOpSymbol(MatchOp op) {
  switch (op) {
    case MatchOp::Equal:
      return "=";
    case MatchOp::NotEqual:
      return "!=";
    case MatchOp::Regex:
      return "=~";
    case MatchOp::NotRegex:
      return "!~";
  }
  return "=";
}

Result<MatchOp> parseMatchOp(std::string_view symbol) {
  for (MatchOp op : {MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex}) {
    if (symbol == matchOpSymbol(op)) {
      return op;
    }
  }
  return fail(ErrorCode::InvalidArgument,
              "\"" + std::string(symbol) + "\" is not a matcher operator (=, !=, =~, !~)");
}

Result<AlertMatcher> parseAlertMatcher(std::string_view text) {
  const std::string_view body = trim(text);
  size_t name_end = 0;
  while (name_end < body.size() &&
         (std::isalnum(static_cast<unsigned char>(body[name_end])) != 0 || body[name_end] == '_')) {
    ++name_end;
  }
  AlertMatcher matcher;
  matcher.name = std::string(body.substr(0, name_end));
  if (!isProfileLabelName(matcher.name)) {
    return badMatcher(text, "expected a label name first");
  }
  std::string_view rest = trim(body.substr(name_end));
  // Longest operator first, so "=~" is not read as "=" followed by "~".
  bool found = false;
  for (MatchOp op : {MatchOp::Regex, MatchOp::NotRegex, MatchOp::NotEqual, MatchOp::Equal}) {
    const std::string_view symbol = matchOpSymbol(op);
    if (rest.substr(0, symbol.size()) == symbol) {
      matcher.op = op;
      rest = trim(rest.substr(symbol.size()));
      found = true;
      break;
    }
  }
  if (!found) {
    return badMatcher(text, "expected =, !=, =~ or !~ after the label name");
  }
  if (!rest.empty() && rest.front() == '"') {
    auto value = unquote(rest, text);
    if (!value) {
      return value.error();
    }
    matcher.value = std::move(*value);
    return matcher;
  }
  for (char c : rest) {
    if (c == '"' || std::isspace(static_cast<unsigned char>(c)) != 0) {
      return badMatcher(text, "an unquoted value cannot contain quotes or spaces");
    }
  }
  matcher.value = std::string(rest);
  return matcher;
}

bool matchesLabels(const AlertMatcher& matcher, const std::map<std::string, std::string>& labels) {
  const auto found = labels.find(matcher.name);
  const std::string value = found == labels.end() ? std::string() : found->second;
  switch (matcher.op) {
    case MatchOp::Equal: return value == matcher.value;
    case MatchOp::NotEqual: return value != matcher.value;
    case MatchOp::Regex:
    case MatchOp::NotRegex: {
      bool matched = false;
      try {
        // std::regex_match is anchored at both ends, as Alertmanager's matchers are.
        matched = std::regex_match(value, std::regex(matcher.value, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        return false;
      }
      return matcher.op == MatchOp::Regex ? matched : !matched;
    }
  }
  return false;
}

}  // namespace kprof::controllers
