// Reading Kubernetes JSON objects field by field, with errors that name the field the way
// Kubernetes does ("spec.targets[0].url: must be ...").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::controllers {

// A field path as Kubernetes prints it: spec.targets[0].url, spec.selector.matchLabels[app].
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string root) : text_(std::move(root)) {}

  FieldPath child(std::string_view name) const;
  FieldPath index(size_t position) const;
  FieldPath key(std::string_view map_key) const;
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// InvalidArgument "<path>: <problem>".
Error invalidField(const FieldPath& path, std::string_view problem);

// Keeps the first problem a parse finds; later ones are usually consequences of it.
class Validation {
 public:
  void report(const FieldPath& path, std::string_view problem);
  bool ok() const { return !first_.has_value(); }
  const std::optional<Error>& firstProblem() const { return first_; }

 private:
  std::optional<Error> first_;
};

// Reads one JSON object so a parser can go straight through it: every accessor returns the value,
// or the fallback when the field is absent or wrong (reporting the latter to the Validation), and
// the parser checks the Validation once at the end. Absent and null fields both count as unset,
// as they do for the API server. Unknown fields are ignored: the API server prunes them, and a
// newer CRD must not make an older controller reject a policy.
class ObjectReader {
 public:
  // `object` may be null or not an object; the reader then sees no fields.
  ObjectReader(const nlohmann::json* object, FieldPath path, Validation& validation);

  bool has(std::string_view key) const;
  const FieldPath& path() const { return path_; }
  FieldPath pathOf(std::string_view key) const { return path_.child(key); }
  Validation& validation() const { return *validation_; }

  // Reports "<path>.<key>: required" when the field is unset.
  void require(std::string_view key) const;
  // Reports "<path>.<key>: <problem>" unless `condition` holds.
  void check(std::string_view key, bool condition, std::string_view problem) const;

  std::string string(std::string_view key, std::string fallback = {}) const;
  // The value must be one of `allowed`.
  std::string oneOf(std::string_view key,
                    std::string fallback,
                    std::initializer_list<std::string_view> allowed) const;
  bool boolean(std::string_view key, bool fallback) const;
  // Integers within [min, max]; a float with an integral value counts as an integer.
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) const;
  double number(std::string_view key, double fallback, double min, double max) const;

  // A nested object; unset gives a reader with no fields, so its fields take their defaults.
  ObjectReader object(std::string_view key) const;
  std::vector<ObjectReader> objects(std::string_view key, size_t max_items) const;
  std::vector<std::string> strings(std::string_view key, size_t max_items) const;
  std::map<std::string, std::string> stringMap(std::string_view key, size_t max_entries) const;

 private:
  // The field's JSON, or null when unset.
  const nlohmann::json* field(std::string_view key) const;

  const nlohmann::json* object_;
  FieldPath path_;
  Validation* validation_;
};

}  // namespace kprof::controllers
