#include "operator/fakekube/selectors.hpp"

#include <algorithm>
#include <cctype>

namespace kprof::fakekube {
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

// Label keys and values: alphanumerics, '-', '_', '.', and '/' for a key's prefix.
bool validToken(std::string_view token, bool allow_slash) {
  return std::all_of(token.begin(), token.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
           (allow_slash && c == '/');
  });
}

// Splits on commas that are not inside parentheses: "a in (x,y),b" → "a in (x,y)", "b".
Result<std::vector<std::string_view>> splitTerms(std::string_view text) {
  std::vector<std::string_view> terms;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '(') {
      ++depth;
    } else if (i < text.size() && text[i] == ')') {
      if (--depth < 0) {
        return fail(ErrorCode::InvalidArgument,
                    "unbalanced ')' in selector \"" + std::string(text) + "\"");
      }
    } else if (i == text.size() || (text[i] == ',' && depth == 0)) {
      const std::string_view term = trim(text.substr(start, i - start));
      if (term.empty()) {
        return fail(ErrorCode::InvalidArgument,
                    "empty term in selector \"" + std::string(text) + "\"");
      }
      terms.push_back(term);
      start = i + 1;
    }
  }
  if (depth != 0) {
    return fail(ErrorCode::InvalidArgument,
                "unbalanced '(' in selector \"" + std::string(text) + "\"");
  }
  return terms;
}

Error badTerm(std::string_view term, std::string_view why) {
  return makeError(ErrorCode::InvalidArgument,
                   "invalid selector term \"" + std::string(term) + "\": " + std::string(why));
}

// "key in (a, b)" / "key notin (a,b)"; returns false when the term has no set operator.
Result<bool> parseSetTerm(std::string_view term, LabelRequirement& out) {
  const size_t open = term.find('(');
  if (open == std::string_view::npos) {
    return false;
  }
  const std::string_view head = trim(term.substr(0, open));
  const size_t space = head.find_last_of(" \t");
  if (space == std::string_view::npos) {
    return Unexpected{badTerm(term, "expected \"key in (values)\"")};
  }
  const std::string_view key = trim(head.substr(0, space));
  const std::string_view op = head.substr(space + 1);
  if (op == "in") {
    out.op = LabelRequirement::Op::In;
  } else if (op == "notin") {
    out.op = LabelRequirement::Op::NotIn;
  } else {
    return Unexpected{badTerm(term, "unknown operator \"" + std::string(op) + "\"")};
  }
  if (term.back() != ')') {
    return Unexpected{badTerm(term, "text after ')'")};
  }
  if (key.empty() || !validToken(key, true)) {
    return Unexpected{badTerm(term, "bad key")};
  }
  out.key = std::string(key);
  std::string_view list = term.substr(open + 1, term.size() - open - 2);
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view value = trim(list.substr(0, comma));
    if (!validToken(value, false)) {
      return Unexpected{badTerm(term, "bad value \"" + std::string(value) + "\"")};
    }
    out.values.emplace_back(value);
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return true;
}

Result<LabelRequirement> parseLabelTerm(std::string_view term) {
  LabelRequirement requirement;
  auto set_term = parseSetTerm(term, requirement);
  if (!set_term) {
    return Unexpected{set_term.error()};
  }
  if (*set_term) {
    return requirement;
  }
  std::string_view key;
  std::string_view value;
  if (term.front() == '!') {
    requirement.op = LabelRequirement::Op::DoesNotExist;
    key = trim(term.substr(1));
  } else if (const size_t ne = term.find("!="); ne != std::string_view::npos) {
    requirement.op = LabelRequirement::Op::NotEquals;
    key = trim(term.substr(0, ne));
    value = trim(term.substr(ne + 2));
  } else if (const size_t eq = term.find('='); eq != std::string_view::npos) {
    requirement.op = LabelRequirement::Op::Equals;
    key = trim(term.substr(0, eq));
    const size_t skip = (eq + 1 < term.size() && term[eq + 1] == '=') ? 2 : 1;
    value = trim(term.substr(eq + skip));
  } else {
    requirement.op = LabelRequirement::Op::Exists;
    key = term;
  }
  if (key.empty() || !validToken(key, true)) {
    return Unexpected{badTerm(term, "bad key")};
  }
  if (!validToken(value, false)) {
    return Unexpected{badTerm(term, "bad value")};
  }
  requirement.key = std::string(key);
  if (requirement.op == LabelRequirement::Op::Equals ||
      requirement.op == LabelRequirement::Op::NotEquals) {
    requirement.values.emplace_back(value);
  }
  return requirement;
}

const nlohmann::json* labelValue(const nlohmann::json& labels, const std::string& key) {
  if (!labels.is_object()) {
    return nullptr;
  }
  const auto it = labels.find(key);
  return it == labels.end() ? nullptr : &*it;
}

std::string fieldText(const nlohmann::json& object, const std::string& path) {
  const nlohmann::json* node = &object;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object()) {
      return "";
    }
    const auto it = node->find(part);
    if (it == node->end()) {
      return "";
    }
    node = &*it;
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  if (node->is_string()) {
    return node->get<std::string>();
  }
  return node->is_null() ? "" : node->dump();
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  text = trim(text);
  if (text.empty()) {
    return selector;
  }
  auto terms = splitTerms(text);
  if (!terms) {
    return Unexpected{terms.error()};
  }
  for (const std::string_view term : *terms) {
    auto requirement = parseLabelTerm(term);
    if (!requirement) {
      return Unexpected{requirement.error()};
    }
    selector.requirements_.push_back(std::move(*requirement));
  }
  return selector;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const LabelRequirement& r) {
    const nlohmann::json* value = labelValue(labels, r.key);
    const bool has = value != nullptr && value->is_string();
    const auto in_values = [&] {
      return has && std::find(r.values.begin(), r.values.end(), value->get<std::string>()) !=
                        r.values.end();
    };
    switch (r.op) {
      case LabelRequirement::Op::Exists:
        return has;
      case LabelRequirement::Op::DoesNotExist:
        return !has;
      case LabelRequirement::Op::Equals:
      case LabelRequirement::Op::In:
        return in_values();
      case LabelRequirement::Op::NotEquals:
      case LabelRequirement::Op::NotIn:
        return !in_values();
    }
    return false;
  });
}

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  FieldSelector selector;
  text = trim(text);
  if (text.empty()) {
    return selector;
  }
  auto terms = splitTerms(text);
  if (!terms) {
    return Unexpected{terms.error()};
  }
  for (const std::string_view term : *terms) {
    Term parsed;
    size_t op_at = term.find("!=");
    size_t op_len = 2;
    if (op_at != std::string_view::npos) {
      parsed.negated = true;
    } else if ((op_at = term.find("==")) == std::string_view::npos) {
      op_at = term.find('=');
      op_len = 1;
    }
    if (op_at == std::string_view::npos) {
      return Unexpected{badTerm(term, "expected path=value")};
    }
    parsed.path = std::string(trim(term.substr(0, op_at)));
    parsed.value = std::string(trim(term.substr(op_at + op_len)));
    if (parsed.path.empty() || !validToken(parsed.path, false)) {
      return Unexpected{badTerm(term, "bad field path")};
    }
    selector.terms_.push_back(std::move(parsed));
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  return std::all_of(terms_.begin(), terms_.end(), [&](const Term& term) {
    return (fieldText(object, term.path) == term.value) != term.negated;
  });
}

}  // namespace kprof::fakekube
