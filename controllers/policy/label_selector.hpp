// Kubernetes label selectors (metav1.LabelSelector): which pods a policy applies to.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controllers/policy/object_reader.hpp"

namespace kprof::controllers {

using Labels = std::map<std::string, std::string>;

enum class SelectorOperator { In, NotIn, Exists, DoesNotExist };

struct SelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::Exists;
  std::vector<std::string> values;  // In/NotIn only

  bool operator==(const SelectorRequirement&) const = default;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<SelectorRequirement> match_expressions;

  bool operator==(const LabelSelector&) const = default;
};

// Kubernetes semantics: every term must hold (AND); an empty selector matches every pod.
// NotIn matches a pod without the key, as does DoesNotExist.
bool selectorMatches(const LabelSelector& selector, const Labels& labels);

// Reads and checks a selector: keys are label keys, matchLabels values are label values, In and
// NotIn carry values and Exists and DoesNotExist do not (the CRD's CEL rule, checked here too).
LabelSelector readLabelSelector(const ObjectReader& in);

}  // namespace kprof::controllers
