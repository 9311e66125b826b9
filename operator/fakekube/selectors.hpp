// Label and field selectors as the Kubernetes API evaluates them for list and watch, for the
// in-memory API double. Label selectors: "k=v", "k==v", "k!=v", "k", "!k", "k in (a,b)",
// "k notin (a,b)", comma-separated (all terms must hold). Field selectors: "path=v", "path==v",
// "path!=v" over dotted paths such as metadata.name or spec.nodeName; a missing field is "".
// Parsing never throws: malformed text is an InvalidArgument error naming the bad term.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::fakekube {

struct LabelRequirement {
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::Exists;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // "" selects everything.
  static Result<LabelSelector> parse(std::string_view text);

  // `labels` is metadata.labels: an object of strings, or null when the object has none.
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
};

class FieldSelector {
 public:
  struct Term {
    std::string path;  // "metadata.name"
    bool negated = false;
    std::string value;
  };

  // "" selects everything.
  static Result<FieldSelector> parse(std::string_view text);

  // Evaluated on the whole object.
  bool matches(const nlohmann::json& object) const;
  bool empty() const { return terms_.empty(); }

 private:
  std::vector<Term> terms_;
};

}  // namespace kprof::fakekube
