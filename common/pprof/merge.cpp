#include "common/pprof/merge.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/pprof/codec.hpp"
#include "common/pprof/id_index.hpp"
#include "common/pprof/saturating.hpp"

namespace kprof::pprof {
namespace {

ProfileSchema schemaOf(const Profile& profile) {
  auto str = [&](int64_t index) { return profile.string_table(static_cast<int>(index)); };
  ProfileSchema schema;
  for (const auto& sample_type : profile.sample_type()) {
    schema.sample_types.push_back({str(sample_type.type()), str(sample_type.unit())});
  }
  schema.period_type = {str(profile.period_type().type()), str(profile.period_type().unit())};
  schema.default_sample_type = str(profile.default_sample_type());
  return schema;
}

std::string describe(const std::vector<ValueTypeName>& types) {
  std::string out = "[";
  for (size_t i = 0; i < types.size(); ++i) {
    out += (i == 0 ? "" : ", ") + types[i].type + "/" + types[i].unit;
  }
  return out + "]";
}

// Copies one input into the builder, translating its ids into the builder's.
Status addProfile(const Profile& input, ProfileBuilder& builder) {
  auto str = [&](int64_t index) -> std::string_view {
    return input.string_table(static_cast<int>(index));
  };
  auto mapping_index = IdIndex::of(input.mapping(), "mapping");
  auto function_index = IdIndex::of(input.function(), "function");
  auto location_index = IdIndex::of(input.location(), "location");
  if (!mapping_index || !function_index || !location_index) {
    return fail(ErrorCode::Internal, "ids of a validated profile did not index");
  }

  std::vector<uint64_t> mapping_ids;  // output id by input position
  mapping_ids.reserve(static_cast<size_t>(input.mapping_size()));
  for (const auto& mapping : input.mapping()) {
    mapping_ids.push_back(builder.addMapping({mapping.memory_start(),
                                              mapping.memory_limit(),
                                              mapping.file_offset(),
                                              str(mapping.filename()),
                                              str(mapping.build_id()),
                                              mapping.has_functions(),
                                              mapping.has_filenames(),
                                              mapping.has_line_numbers(),
                                              mapping.has_inline_frames()}));
  }
  std::vector<uint64_t> function_ids;
  function_ids.reserve(static_cast<size_t>(input.function_size()));
  for (const auto& function : input.function()) {
    function_ids.push_back(builder.addFunction({str(function.name()),
                                                str(function.system_name()),
                                                str(function.filename()),
                                                function.start_line()}));
  }
  // Id 0 means "unknown" for both mappings and functions and stays 0.
  auto translate = [](const IdIndex& index, const std::vector<uint64_t>& ids, uint64_t id) {
    std::optional<int> position = id == 0 ? std::nullopt : index.find(id);
    return position ? ids[static_cast<size_t>(*position)] : uint64_t{0};
  };

  std::vector<uint64_t> location_ids;
  location_ids.reserve(static_cast<size_t>(input.location_size()));
  LocationInfo info;
  for (const auto& location : input.location()) {
    info.mapping_id = translate(*mapping_index, mapping_ids, location.mapping_id());
    info.address = location.address();
    info.is_folded = location.is_folded();
    info.lines.clear();
    for (const auto& line : location.line()) {
      info.lines.push_back({translate(*function_index, function_ids, line.function_id()),
                            line.line(),
                            line.column()});
    }
    auto id = builder.addLocation(info);
    if (!id) {
      return id.error();
    }
    location_ids.push_back(*id);
  }

  std::vector<uint64_t> stack;
  std::vector<SampleLabel> labels;
  for (const auto& sample : input.sample()) {
    stack.clear();
    for (uint64_t id : sample.location_id()) {
      stack.push_back(translate(*location_index, location_ids, id));
    }
    labels.clear();
    for (const auto& label : sample.label()) {
      if (str(label.key()).empty()) {
        continue;  // a label without a key says nothing a viewer could show
      }
      labels.push_back(
          label.str() != 0
              ? SampleLabel::text(str(label.key()), str(label.str()))
              : SampleLabel::number(str(label.key()), label.num(), str(label.num_unit())));
    }
    KPROF_TRY(builder.addSample(
        stack, {sample.value().data(), static_cast<size_t>(sample.value_size())}, labels));
  }
  return ok();
}

}  // namespace

Result<Profile> merge(std::span<const Profile> profiles) {
  if (profiles.empty()) {
    return fail(ErrorCode::InvalidArgument, "no profiles to merge");
  }
  for (size_t i = 0; i < profiles.size(); ++i) {
    Status valid = validate(profiles[i]);
    if (!valid) {
      return valid.error().wrap("merge input " + std::to_string(i));
    }
  }
  ProfileSchema schema = schemaOf(profiles[0]);
  for (size_t i = 1; i < profiles.size(); ++i) {
    ProfileSchema other = schemaOf(profiles[i]);
    if (other.sample_types != schema.sample_types) {
      return fail(ErrorCode::InvalidArgument,
                  "cannot merge profiles of different sample types: input 0 has " +
                      describe(schema.sample_types) + ", input " + std::to_string(i) + " has " +
                      describe(other.sample_types));
    }
    if (other.period_type != schema.period_type) {
      return fail(ErrorCode::InvalidArgument,
                  "cannot merge profiles of different period types: input 0 has " +
                      describe({schema.period_type}) + ", input " + std::to_string(i) + " has " +
                      describe({other.period_type}));
    }
  }

  ProfileBuilder builder(schema);
  int64_t period = 0;
  std::optional<int64_t> start;
  std::optional<int64_t> end;
  int64_t untimed_duration = 0;
  std::unordered_set<std::string_view> seen_comments;
  for (const Profile& input : profiles) {
    KPROF_TRY(addProfile(input, builder));
    period = std::max(period, input.period());
    if (input.time_nanos() != 0) {
      int64_t input_end = addSaturating(input.time_nanos(), input.duration_nanos());
      start = std::min(start.value_or(input.time_nanos()), input.time_nanos());
      end = std::max(end.value_or(input_end), input_end);
    } else {
      untimed_duration = addSaturating(untimed_duration, input.duration_nanos());
    }
    for (int64_t comment : input.comment()) {
      std::string_view text = input.string_table(static_cast<int>(comment));
      if (seen_comments.insert(text).second) {
        builder.addComment(text);
      }
    }
  }
  builder.setPeriod(period);
  if (start) {
    builder.setTimeNanos(*start, subtractSaturating(*end, *start));
  } else {
    builder.setTimeNanos(0, untimed_duration);
  }
  // Viewer hints have no meaningful merge; the first input's stand.
  const Profile& first = profiles[0];
  int64_t drop_frames =
      builder.internString(first.string_table(static_cast<int>(first.drop_frames())));
  int64_t keep_frames =
      builder.internString(first.string_table(static_cast<int>(first.keep_frames())));
  int64_t doc_url = builder.internString(first.string_table(static_cast<int>(first.doc_url())));

  Profile merged = std::move(builder).build();
  merged.set_drop_frames(drop_frames);
  merged.set_keep_frames(keep_frames);
  merged.set_doc_url(doc_url);
  return merged;
}

}  // namespace kprof::pprof
