#include "controllers/policy/object_reader.hpp"

#include <cmath>

namespace kprof::controllers {

FieldPath FieldPath::child(std::string_view name) const {
  if (text_.empty()) {
    return FieldPath(std::string(name));
  }
  return FieldPath(text_ + "." + std::string(name));
}

FieldPath FieldPath::index(size_t position) const {
  return FieldPath(text_ + "[" + std::to_string(position) + "]");
}

FieldPath FieldPath::key(std::string_view map_key) const {
  return FieldPath(text_ + "[" + std::string(map_key) + "]");
}

Error invalidField(const FieldPath& path, std::string_view problem) {
  return makeError(ErrorCode::InvalidArgument, path.str() + ": " + std::string(problem));
}

void Validation::report(const FieldPath& path, std::string_view problem) {
  if (!first_) {
    first_ = invalidField(path, problem);
  }
}

ObjectReader::ObjectReader(const nlohmann::json* object, FieldPath path, Validation& validation)
    : object_(object != nullptr && object->is_object() ? object : nullptr),
      path_(std::move(path)),
      validation_(&validation) {}

const nlohmann::json* ObjectReader::field(std::string_view key) const {
  if (object_ == nullptr) {
    return nullptr;
  }
  const auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

bool ObjectReader::has(std::string_view key) const {
  return field(key) != nullptr;
}

void ObjectReader::require(std::string_view key) const {
  if (!has(key)) {
    validation_->report(pathOf(key), "required");
  }
}

void ObjectReader::check(std::string_view key, bool condition, std::string_view problem) const {
  if (!condition) {
    validation_->report(pathOf(key), problem);
  }
}

std::string ObjectReader::string(std::string_view key, std::string fallback) const {
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_string()) {
    validation_->report(pathOf(key), "must be a string");
    return fallback;
  }
  return value->get<std::string>();
}

std::string ObjectReader::oneOf(std::string_view key,
                                std::string fallback,
                                std::initializer_list<std::string_view> allowed) const {
  std::string value = string(key, fallback);
  for (std::string_view candidate : allowed) {
    if (value == candidate) {
      return value;
    }
  }
  std::string list;
  for (std::string_view candidate : allowed) {
    list += list.empty() ? "" : ", ";
    list += candidate;
  }
  validation_->report(pathOf(key), "must be one of " + list);
  return fallback;
}

bool ObjectReader::boolean(std::string_view key, bool fallback) const {
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_boolean()) {
    validation_->report(pathOf(key), "must be true or false");
    return fallback;
  }
  return value->get<bool>();
}

int64_t ObjectReader::integer(std::string_view key,
                              int64_t fallback,
                              int64_t min,
                              int64_t max) const {
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return fallback;
  }
  int64_t number = 0;
  if (value->is_number_integer()) {
    number = value->get<int64_t>();
  } else if (value->is_number_float() && std::trunc(value->get<double>()) == value->get<double>() &&
             std::fabs(value->get<double>()) < 9.0e18) {
    number = static_cast<int64_t>(value->get<double>());
  } else {
    validation_->report(pathOf(key), "must be an integer");
    return fallback;
  }
  if (number < min || number > max) {
    validation_->report(pathOf(key),
                        "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return fallback;
  }
  return number;
}

double ObjectReader::number(std::string_view key, double fallback, double min, double max) const {
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_number()) {
    validation_->report(pathOf(key), "must be a number");
    return fallback;
  }
  const double number = value->get<double>();
  if (!(number >= min && number <= max)) {
    nlohmann::json bounds = {min, max};
    validation_->report(pathOf(key),
                        "must be between " + bounds[0].dump() + " and " + bounds[1].dump());
    return fallback;
  }
  return number;
}

ObjectReader ObjectReader::object(std::string_view key) const {
  const nlohmann::json* value = field(key);
  if (value != nullptr && !value->is_object()) {
    validation_->report(pathOf(key), "must be an object");
  }
  return {value, pathOf(key), *validation_};
}

std::vector<ObjectReader> ObjectReader::objects(std::string_view key, size_t max_items) const {
  std::vector<ObjectReader> readers;
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return readers;
  }
  if (!value->is_array()) {
    validation_->report(pathOf(key), "must be a list");
    return readers;
  }
  if (value->size() > max_items) {
    validation_->report(pathOf(key), "must have at most " + std::to_string(max_items) + " items");
  }
  for (size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& item = (*value)[i];
    if (!item.is_object()) {
      validation_->report(pathOf(key).index(i), "must be an object");
    }
    readers.emplace_back(&item, pathOf(key).index(i), *validation_);
  }
  return readers;
}

std::vector<std::string> ObjectReader::strings(std::string_view key, size_t max_items) const {
  std::vector<std::string> items;
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return items;
  }
  if (!value->is_array()) {
    validation_->report(pathOf(key), "must be a list");
    return items;
  }
  if (value->size() > max_items) {
    validation_->report(pathOf(key), "must have at most " + std::to_string(max_items) + " items");
  }
  for (size_t i = 0; i < value->size(); ++i) {
    if (!(*value)[i].is_string()) {
      validation_->report(pathOf(key).index(i), "must be a string");
      continue;
    }
    items.push_back((*value)[i].get<std::string>());
  }
  return items;
}

std::map<std::string, std::string> ObjectReader::stringMap(std::string_view key,
                                                           size_t max_entries) const {
  std::map<std::string, std::string> entries;
  const nlohmann::json* value = field(key);
  if (value == nullptr) {
    return entries;
  }
  if (!value->is_object()) {
    validation_->report(pathOf(key), "must be a map of strings");
    return entries;
  }
  if (value->size() > max_entries) {
    validation_->report(pathOf(key),
                        "must have at most " + std::to_string(max_entries) + " entries");
  }
  for (const auto& [name, item] : value->items()) {
    if (!item.is_string()) {
      validation_->report(pathOf(key).key(name), "must be a string");
      continue;
    }
    entries.emplace(name, item.get<std::string>());
  }
  return entries;
}

}  // namespace kprof::controllers
