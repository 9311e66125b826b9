#include "common/pprof/profile_builder.hpp"

#include <cstring>
#include <string>
#include <utility>

#include "common/pprof/saturating.hpp"

namespace kprof::pprof {
namespace {

// Interning keys are the already-interned fields packed as raw bytes: cheap to build, and two
// inputs share a key exactly when every field matches.
template <typename T>
void appendKey(std::string& key, T field) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &field, sizeof(T));
  key.append(bytes, sizeof(T));
}

}  // namespace

std::string_view profileKindName(ProfileKind kind) {
  switch (kind) {
    case ProfileKind::Cpu:
      return "cpu";
    case ProfileKind::Alloc:
      return "alloc";
    case ProfileKind::Inuse:
      return "inuse";
    case ProfileKind::Lock:
      return "lock";
    case ProfileKind::Wall:
      return "wall";
  }
  return "unknown";
}

std::optional<ProfileKind> parseProfileKind(std::string_view name) {
  for (ProfileKind kind : {ProfileKind::Cpu,
                           ProfileKind::Alloc,
                           ProfileKind::Inuse,
                           ProfileKind::Lock,
                           ProfileKind::Wall}) {
    if (profileKindName(kind) == name) {
      return kind;
    }
  }
  return std::nullopt;
}

ProfileSchema schemaFor(ProfileKind kind) {
  switch (kind) {
    case ProfileKind::Cpu:
      return {{{"samples", "count"}, {"cpu", "nanoseconds"}}, {"cpu", "nanoseconds"}, "cpu"};
    case ProfileKind::Alloc:
      return {{{"alloc_objects", "count"}, {"alloc_space", "bytes"}},
              {"space", "bytes"},
              "alloc_space"};
    case ProfileKind::Inuse:
      return {{{"inuse_objects", "count"}, {"inuse_space", "bytes"}},
              {"space", "bytes"},
              "inuse_space"};
    case ProfileKind::Lock:
      return {
          {{"contentions", "count"}, {"delay", "nanoseconds"}}, {"contentions", "count"}, "delay"};
    case ProfileKind::Wall:
      return {{{"samples", "count"}, {"wall", "nanoseconds"}}, {"wall", "nanoseconds"}, "wall"};
  }
  return {};
}

ProfileBuilder::ProfileBuilder(const ProfileSchema& schema) {
  internString("");  // string_table[0] must be ""
  for (const ValueTypeName& sample_type : schema.sample_types) {
    auto* value_type = profile_.add_sample_type();
    value_type->set_type(internString(sample_type.type));
    value_type->set_unit(internString(sample_type.unit));
  }
  profile_.mutable_period_type()->set_type(internString(schema.period_type.type));
  profile_.mutable_period_type()->set_unit(internString(schema.period_type.unit));
  profile_.set_default_sample_type(internString(schema.default_sample_type));
}

int64_t ProfileBuilder::internString(std::string_view text) {
  if (auto found = string_ids_.find(text); found != string_ids_.end()) {
    return found->second;
  }
  int64_t id = profile_.string_table_size();
  profile_.add_string_table(std::string(text));
  string_ids_.emplace(std::string(text), id);
  return id;
}

uint64_t ProfileBuilder::addFunction(const FunctionInfo& function) {
  int64_t name = internString(function.name);
  int64_t system_name = internString(function.system_name);
  int64_t filename = internString(function.filename);
  key_.clear();
  appendKey(key_, name);
  appendKey(key_, system_name);
  appendKey(key_, filename);
  appendKey(key_, function.start_line);
  if (auto found = function_ids_.find(key_); found != function_ids_.end()) {
    return found->second;
  }
  uint64_t id = static_cast<uint64_t>(profile_.function_size()) + 1;
  auto* added = profile_.add_function();
  added->set_id(id);
  added->set_name(name);
  added->set_system_name(system_name);
  added->set_filename(filename);
  added->set_start_line(function.start_line);
  function_ids_.emplace(key_, id);
  return id;
}

uint64_t ProfileBuilder::addMapping(const MappingInfo& mapping) {
  int64_t filename = internString(mapping.filename);
  int64_t build_id = internString(mapping.build_id);
  uint8_t flags = (mapping.has_functions ? 1 : 0) | (mapping.has_filenames ? 2 : 0) |
                  (mapping.has_line_numbers ? 4 : 0) | (mapping.has_inline_frames ? 8 : 0);
  key_.clear();
  appendKey(key_, mapping.memory_start);
  appendKey(key_, mapping.memory_limit);
  appendKey(key_, mapping.file_offset);
  appendKey(key_, filename);
  appendKey(key_, build_id);
  appendKey(key_, flags);
  if (auto found = mapping_ids_.find(key_); found != mapping_ids_.end()) {
    return found->second;
  }
  uint64_t id = static_cast<uint64_t>(profile_.mapping_size()) + 1;
  auto* added = profile_.add_mapping();
  added->set_id(id);
  added->set_memory_start(mapping.memory_start);
  added->set_memory_limit(mapping.memory_limit);
  added->set_file_offset(mapping.file_offset);
  added->set_filename(filename);
  added->set_build_id(build_id);
  added->set_has_functions(mapping.has_functions);
  added->set_has_filenames(mapping.has_filenames);
  added->set_has_line_numbers(mapping.has_line_numbers);
  added->set_has_inline_frames(mapping.has_inline_frames);
  mapping_ids_.emplace(key_, id);
  return id;
}

Result<uint64_t> ProfileBuilder::addLocation(const LocationInfo& location) {
  // Ids handed out by this builder are 1..size, so range checks are exact.
  if (location.mapping_id > static_cast<uint64_t>(profile_.mapping_size())) {
    return fail(ErrorCode::InvalidArgument,
                "location refers to unknown mapping id " + std::to_string(location.mapping_id));
  }
  key_.clear();
  appendKey(key_, location.mapping_id);
  appendKey(key_, location.address);
  appendKey(key_, location.is_folded);
  for (const LineInfo& line : location.lines) {
    if (line.function_id > static_cast<uint64_t>(profile_.function_size())) {
      return fail(ErrorCode::InvalidArgument,
                  "location refers to unknown function id " + std::to_string(line.function_id));
    }
    appendKey(key_, line.function_id);
    appendKey(key_, line.line);
    appendKey(key_, line.column);
  }
  if (auto found = location_ids_.find(key_); found != location_ids_.end()) {
    return found->second;
  }
  uint64_t id = static_cast<uint64_t>(profile_.location_size()) + 1;
  auto* added = profile_.add_location();
  added->set_id(id);
  added->set_mapping_id(location.mapping_id);
  added->set_address(location.address);
  added->set_is_folded(location.is_folded);
  for (const LineInfo& line : location.lines) {
    auto* added_line = added->add_line();
    added_line->set_function_id(line.function_id);
    added_line->set_line(line.line);
    added_line->set_column(line.column);
  }
  location_ids_.emplace(key_, id);
  return id;
}

Status ProfileBuilder::addSample(std::span<const uint64_t> location_ids,
                                 std::span<const int64_t> values,
                                 std::span<const SampleLabel> labels) {
  if (values.size() != static_cast<size_t>(profile_.sample_type_size())) {
    return fail(ErrorCode::InvalidArgument,
                "sample has " + std::to_string(values.size()) + " values but the profile has " +
                    std::to_string(profile_.sample_type_size()) + " sample types");
  }
  for (uint64_t location_id : location_ids) {
    if (location_id == 0 || location_id > static_cast<uint64_t>(profile_.location_size())) {
      return fail(ErrorCode::InvalidArgument,
                  "sample refers to unknown location id " + std::to_string(location_id));
    }
  }
  for (const SampleLabel& label : labels) {
    if (label.key.empty()) {
      return fail(ErrorCode::InvalidArgument, "sample label has an empty key");
    }
  }

  // Labels are interned into a small list first so the key and the message use the same indexes.
  struct InternedLabel {
    int64_t key, str, num, num_unit;
  };
  std::vector<InternedLabel> interned;
  interned.reserve(labels.size());
  for (const SampleLabel& label : labels) {
    if (label.is_number) {
      interned.push_back({internString(label.key), 0, label.num, internString(label.num_unit)});
    } else if (!label.str.empty()) {
      interned.push_back({internString(label.key), internString(label.str), 0, 0});
    }
  }

  key_.clear();
  appendKey(key_, location_ids.size());
  for (uint64_t location_id : location_ids) {
    appendKey(key_, location_id);
  }
  for (const InternedLabel& label : interned) {
    appendKey(key_, label.key);
    appendKey(key_, label.str);
    appendKey(key_, label.num);
    appendKey(key_, label.num_unit);
  }
  if (auto found = sample_index_.find(key_); found != sample_index_.end()) {
    auto* existing = profile_.mutable_sample(found->second);
    for (size_t i = 0; i < values.size(); ++i) {
      int index = static_cast<int>(i);
      existing->set_value(index, addSaturating(existing->value(index), values[i]));
    }
    return ok();
  }
  sample_index_.emplace(key_, profile_.sample_size());
  auto* sample = profile_.add_sample();
  sample->mutable_location_id()->Add(location_ids.begin(), location_ids.end());
  sample->mutable_value()->Add(values.begin(), values.end());
  for (const InternedLabel& label : interned) {
    auto* added = sample->add_label();
    added->set_key(label.key);
    added->set_str(label.str);
    added->set_num(label.num);
    added->set_num_unit(label.num_unit);
  }
  return ok();
}

void ProfileBuilder::setPeriod(int64_t period) {
  profile_.set_period(period);
}

void ProfileBuilder::setTime(std::chrono::system_clock::time_point start,
                             std::chrono::nanoseconds duration) {
  setTimeNanos(
      std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count(),
      duration.count());
}

void ProfileBuilder::setTimeNanos(int64_t time_nanos, int64_t duration_nanos) {
  profile_.set_time_nanos(time_nanos);
  profile_.set_duration_nanos(duration_nanos);
}

void ProfileBuilder::addComment(std::string_view comment) {
  profile_.add_comment(internString(comment));
}

Profile ProfileBuilder::build() && {
  return std::move(profile_);
}

}  // namespace kprof::pprof
