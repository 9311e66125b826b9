// Label and field selectors as list and watch requests send them (labelSelector=, fieldSelector=),
// parsed into values and matched against objects. Pure functions: no I/O, no clock.
//
// Label selectors: comma-separated requirements `key`, `!key`, `key=v`, `key==v`, `key!=v`,
// `key in (a,b)`, `key notin (a,b)`, `key>1`, `key<1`; keys and values are checked like label
// keys and values. `!=` and `notin` match objects without the label, as in Kubernetes.
// Field selectors: comma-separated `field=v`, `field==v`, `field!=v`; `\,` `\=` `\\` escape.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::kube {

struct LabelRequirement {
  enum class Op { Exists, NotExists, Equals, NotEquals, In, NotIn, GreaterThan, LessThan };
  std::string key;
  Op op = Op::Exists;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  LabelSelector() = default;  // matches everything
  // Errors are InvalidArgument with a message naming the bad requirement.
  static Result<LabelSelector> parse(std::string_view text);

  // `labels` is metadata.labels: an object of strings, or null when the object has none.
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
};

struct FieldRequirement {
  std::string field;  // "metadata.name"
  bool equals = true;
  std::string value;
};

class FieldSelector {
 public:
  FieldSelector() = default;  // matches everything
  static Result<FieldSelector> parse(std::string_view text);

  bool matches(const nlohmann::json& object) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<FieldRequirement> requirements_;
};

// The value a field selector compares for `field` (a dotted path): strings as they are, booleans
// and numbers as text, "" when the field is absent.
std::string fieldValue(const nlohmann::json& object, std::string_view field);

// Label syntax (also used to validate metadata.labels on writes). Empty string when valid, else
// why not.
std::string labelKeyProblem(std::string_view key);
std::string labelValueProblem(std::string_view value);

}  // namespace kprof::kube
