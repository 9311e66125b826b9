#include "controllers/policy/label_selector.hpp"

#include <algorithm>

#include "controllers/policy/kube_names.hpp"

namespace kprof::controllers {
namespace {

bool requirementMatches(const SelectorRequirement& requirement, const Labels& labels) {
  const auto it = labels.find(requirement.key);
  const bool present = it != labels.end();
  const auto listed = [&] {
    return present && std::find(requirement.values.begin(), requirement.values.end(), it->second) !=
                          requirement.values.end();
  };
  switch (requirement.op) {
    case SelectorOperator::In:
      return listed();
    case SelectorOperator::NotIn:
      return !listed();
    case SelectorOperator::Exists:
      return present;
    case SelectorOperator::DoesNotExist:
      return !present;
  }
  return false;
}

SelectorOperator operatorNamed(const std::string& name) {
  if (name == "In") {
    return SelectorOperator::In;
  }
  if (name == "NotIn") {
    return SelectorOperator::NotIn;
  }
  if (name == "DoesNotExist") {
    return SelectorOperator::DoesNotExist;
  }
  return SelectorOperator::Exists;
}

}  // namespace

bool selectorMatches(const LabelSelector& selector, const Labels& labels) {
  for (const auto& [key, value] : selector.match_labels) {
    const auto it = labels.find(key);
    if (it == labels.end() || it->second != value) {
      return false;
    }
  }
  return std::all_of(selector.match_expressions.begin(),
                     selector.match_expressions.end(),
                     [&](const SelectorRequirement& r) { return requirementMatches(r, labels); });
}

LabelSelector readLabelSelector(const ObjectReader& in) {
  LabelSelector selector;
  selector.match_labels = in.stringMap("matchLabels", 32);
  for (const auto& [key, value] : selector.match_labels) {
    const FieldPath path = in.pathOf("matchLabels").key(key);
    if (!isLabelKey(key)) {
      in.validation().report(path, "must be a label key such as app.kubernetes.io/name");
    } else if (!isLabelValue(value)) {
      in.validation().report(path, "must be a label value (at most 63 of A-Z a-z 0-9 - _ .)");
    }
  }
  for (const ObjectReader& term : in.objects("matchExpressions", 32)) {
    SelectorRequirement requirement;
    term.require("key");
    term.require("operator");
    requirement.key = term.string("key");
    term.check("key",
               requirement.key.empty() || isLabelKey(requirement.key),
               "must be a label key such as app.kubernetes.io/name");
    requirement.op =
        operatorNamed(term.oneOf("operator", "Exists", {"In", "NotIn", "Exists", "DoesNotExist"}));
    requirement.values = term.strings("values", 64);
    for (size_t i = 0; i < requirement.values.size(); ++i) {
      if (!isLabelValue(requirement.values[i])) {
        term.validation().report(term.pathOf("values").index(i),
                                 "must be a label value (at most 63 of A-Z a-z 0-9 - _ .)");
      }
    }
    const bool takes_values =
        requirement.op == SelectorOperator::In || requirement.op == SelectorOperator::NotIn;
    if (takes_values == requirement.values.empty()) {
      term.validation().report(
          term.path(),
          "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist");
    }
    selector.match_expressions.push_back(std::move(requirement));
  }
  return selector;
}

}  // namespace kprof::controllers
