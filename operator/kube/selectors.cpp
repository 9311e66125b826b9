#include "operator/kube/selectors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace kprof::kube {

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// A "qualified name" segment: alphanumerics at both ends, '-', '_', '.' inside, at most 63.
std::string nameProblem(std::string_view name, std::string_view what) {
  if (name.empty()) {
    return std::string(what) + " must not be empty";
  }
  if (name.size() > 63) {
    return std::string(what) + " must be no more than 63 characters";
  }
  if (!isAlnum(name.front()) || !isAlnum(name.back())) {
    return std::string(what) + " must begin and end with an alphanumeric character";
  }
  for (char c : name) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') {
      return std::string(what) + " must consist of alphanumeric characters, '-', '_' or '.'";
    }
  }
  return "";
}

// RFC 1123 subdomain, as label key prefixes must be.
std::string prefixProblem(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 253) {
    return "prefix part must be a DNS subdomain of at most 253 characters";
  }
  for (char c : prefix) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return "prefix part must be a lowercase RFC 1123 subdomain";
    }
  }
  if (!isAlnum(prefix.front()) || !isAlnum(prefix.back())) {
    return "prefix part must be a lowercase RFC 1123 subdomain";
  }
  return "";
}

std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// A small hand-written scanner over the selector text.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skipSpace() {
    while (pos_ < text_.size() && isSpace(text_[pos_])) {
      ++pos_;
    }
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  bool startsWith(std::string_view token) const {
    return text_.substr(pos_).substr(0, token.size()) == token;
  }
  void advance(size_t n) { pos_ = std::min(text_.size(), pos_ + n); }

  // A key or value: everything up to whitespace or an operator character.
  std::string_view word() {
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (isSpace(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == '(' || c == ')' ||
          c == ',') {
        break;
      }
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  // The identifier "in" / "notin" followed by a space or '('.
  bool keyword(std::string_view name) {
    if (!startsWith(name)) {
      return false;
    }
    size_t after = pos_ + name.size();
    if (after < text_.size() && !isSpace(text_[after]) && text_[after] != '(') {
      return false;
    }
    pos_ = after;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

Error selectorError(std::string_view text, std::string_view why) {
  return Error{
      ErrorCode::InvalidArgument,
      "unable to parse requirement: " + std::string(why) + " (in \"" + std::string(text) + "\")",
      {}};
}

}  // namespace

std::string labelKeyProblem(std::string_view key) {
  auto slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string problem = prefixProblem(key.substr(0, slash));
    if (!problem.empty()) {
      return problem;
    }
    return nameProblem(key.substr(slash + 1), "name part");
  }
  return nameProblem(key, "name part");
}

std::string labelValueProblem(std::string_view value) {
  if (value.empty()) {
    return "";
  }
  return nameProblem(value, "a valid label value");
}

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  Scanner scan(text);
  scan.skipSpace();
  if (scan.atEnd()) {
    return selector;
  }
  while (true) {
    scan.skipSpace();
    LabelRequirement requirement;
    bool negated = false;
    if (scan.peek() == '!') {
      negated = true;
      scan.advance(1);
      scan.skipSpace();
    }
    requirement.key = std::string(scan.word());
    if (requirement.key.empty()) {
      return selectorError(text, "expected a label key");
    }
    if (std::string problem = labelKeyProblem(requirement.key); !problem.empty()) {
      return selectorError(text, "key \"" + requirement.key + "\": " + problem);
    }
    scan.skipSpace();
    if (negated) {
      requirement.op = LabelRequirement::Op::NotExists;
    } else if (scan.atEnd() || scan.peek() == ',') {
      requirement.op = LabelRequirement::Op::Exists;
    } else if (scan.startsWith("==") || scan.startsWith("=") || scan.startsWith("!=")) {
      if (scan.startsWith("!=")) {
        requirement.op = LabelRequirement::Op::NotEquals;
        scan.advance(2);
      } else {
        requirement.op = LabelRequirement::Op::Equals;
        scan.advance(scan.startsWith("==") ? 2 : 1);
      }
      scan.skipSpace();
      std::string value(scan.word());
      if (std::string problem = labelValueProblem(value); !problem.empty()) {
        return selectorError(text, "value \"" + value + "\": " + problem);
      }
      requirement.values.push_back(std::move(value));
    } else if (scan.peek() == '>' || scan.peek() == '<') {
      requirement.op =
          scan.peek() == '>' ? LabelRequirement::Op::GreaterThan : LabelRequirement::Op::LessThan;
      scan.advance(1);
      scan.skipSpace();
      std::string value(scan.word());
      if (!parseInteger(value)) {
        return selectorError(text, "for '<' and '>' the value must be an integer");
      }
      requirement.values.push_back(std::move(value));
    } else if (bool notin = scan.keyword("notin"); notin || scan.keyword("in")) {
      requirement.op = notin ? LabelRequirement::Op::NotIn : LabelRequirement::Op::In;
      scan.skipSpace();
      if (scan.peek() != '(') {
        return selectorError(text, "expected '(' after in/notin");
      }
      scan.advance(1);
      while (true) {
        scan.skipSpace();
        std::string value(scan.word());
        if (std::string problem = labelValueProblem(value); !problem.empty()) {
          return selectorError(text, "value \"" + value + "\": " + problem);
        }
        requirement.values.push_back(std::move(value));
        scan.skipSpace();
        if (scan.peek() == ',') {
          scan.advance(1);
          continue;
        }
        if (scan.peek() == ')') {
          scan.advance(1);
          break;
        }
        return selectorError(text, "expected ',' or ')' in a value set");
      }
    } else {
      return selectorError(
          text, "expected one of '=', '==', '!=', 'in', 'notin' after \"" + requirement.key + "\"");
    }
    selector.requirements_.push_back(std::move(requirement));
    scan.skipSpace();
    if (scan.atEnd()) {
      break;
    }
    if (scan.peek() != ',') {
      return selectorError(text, "expected ',' between requirements");
    }
    scan.advance(1);
  }
  return selector;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const LabelRequirement& requirement : requirements_) {
    const nlohmann::json* found = nullptr;
    if (labels.is_object()) {
      auto it = labels.find(requirement.key);
      if (it != labels.end() && it->is_string()) {
        found = &*it;
      }
    }
    const std::string* value = found != nullptr ? found->get_ptr<const std::string*>() : nullptr;
    auto in_values = [&] {
      return value != nullptr &&
             std::find(requirement.values.begin(), requirement.values.end(), *value) !=
                 requirement.values.end();
    };
    bool ok = false;
    switch (requirement.op) {
      case LabelRequirement::Op::Exists:
        ok = value != nullptr;
        break;
      case LabelRequirement::Op::NotExists:
        ok = value == nullptr;
        break;
      case LabelRequirement::Op::Equals:
      case LabelRequirement::Op::In:
        ok = in_values();
        break;
      case LabelRequirement::Op::NotEquals:
      case LabelRequirement::Op::NotIn:
        ok = !in_values();
        break;
      case LabelRequirement::Op::GreaterThan:
      case LabelRequirement::Op::LessThan: {
        auto have = value != nullptr ? parseInteger(*value) : std::nullopt;
        auto want = parseInteger(requirement.values.front());
        ok = have && want &&
             (requirement.op == LabelRequirement::Op::GreaterThan ? *have > *want : *have < *want);
        break;
      }
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  FieldSelector selector;
  // Split on unescaped commas, keeping escapes for the next step.
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      current += c;
      current += text[++i];
    } else if (c == ',') {
      parts.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(std::move(current));
  if (parts.size() == 1 && parts.front().find_first_not_of(" \t") == std::string::npos) {
    return selector;
  }
  for (const std::string& part : parts) {
    FieldRequirement requirement;
    std::string field;
    std::string value;
    bool seen_operator = false;
    for (size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      if (!seen_operator) {
        if (c == '\\') {
          return Unexpected{
              Error{ErrorCode::InvalidArgument, "invalid field selector: '" + part + "'", {}}};
        }
        if (c == '!' && i + 1 < part.size() && part[i + 1] == '=') {
          requirement.equals = false;
          seen_operator = true;
          ++i;
        } else if (c == '=') {
          seen_operator = true;
          if (i + 1 < part.size() && part[i + 1] == '=') {
            ++i;
          }
        } else {
          field += c;
        }
        continue;
      }
      if (c == '\\' && i + 1 < part.size()) {
        value += part[++i];
      } else {
        value += c;
      }
    }
    auto trim = [](std::string& s) {
      while (!s.empty() && isSpace(s.back())) {
        s.pop_back();
      }
      size_t start = 0;
      while (start < s.size() && isSpace(s[start])) {
        ++start;
      }
      s.erase(0, start);
    };
    trim(field);
    if (!seen_operator || field.empty()) {
      return Unexpected{
          Error{ErrorCode::InvalidArgument,
                "invalid selector: '" + std::string(text) + "'; can't understand '" + part + "'",
                {}}};
    }
    requirement.field = std::move(field);
    requirement.value = std::move(value);
    selector.requirements_.push_back(std::move(requirement));
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const FieldRequirement& requirement : requirements_) {
    bool same = fieldValue(object, requirement.field) == requirement.value;
    if (same != requirement.equals) {
      return false;
    }
  }
  return true;
}

std::string fieldValue(const nlohmann::json& object, std::string_view field) {
  const nlohmann::json* node = &object;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string_view part =
        field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!node->is_object()) {
      return "";
    }
    auto it = node->find(std::string(part));
    if (it == node->end()) {
      return "";
    }
    node = &*it;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (node->is_string()) {
    return node->get<std::string>();
  }
  if (node->is_boolean()) {
    return node->get<bool>() ? "true" : "false";
  }
  if (node->is_number()) {
    return node->dump();
  }
  return "";
}

}  // namespace kprof::kube
