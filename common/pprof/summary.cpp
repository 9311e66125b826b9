#include "common/pprof/summary.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "common/pprof/codec.hpp"
#include "common/pprof/id_index.hpp"
#include "common/pprof/saturating.hpp"

namespace kprof::pprof {
namespace {

std::string hexAddress(uint64_t address) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(address));
  return text;
}

}  // namespace

Result<ProfileSummary> summarize(const Profile& profile, size_t sample_index, CostOrder order) {
  Status valid = validate(profile);
  if (!valid) {
    return valid.error();
  }
  if (sample_index >= static_cast<size_t>(profile.sample_type_size())) {
    return fail(ErrorCode::InvalidArgument,
                "sample index " + std::to_string(sample_index) + " out of range: the profile has " +
                    std::to_string(profile.sample_type_size()) + " sample types");
  }
  auto str = [&](int64_t index) -> const std::string& {
    return profile.string_table(static_cast<int>(index));
  };

  ProfileSummary summary;
  summary.sample_index = sample_index;
  for (const auto& sample_type : profile.sample_type()) {
    summary.totals.push_back({str(sample_type.type()), str(sample_type.unit()), 0});
  }
  for (const auto& sample : profile.sample()) {
    for (int i = 0; i < sample.value_size(); ++i) {
      auto& total = summary.totals[static_cast<size_t>(i)].total;
      total = addSaturating(total, sample.value(i));
    }
  }

  // Frame names of each location, innermost first, resolved once rather than per sample.
  auto functions = IdIndex::of(profile.function(), "function");
  auto locations = IdIndex::of(profile.location(), "location");
  if (!functions || !locations) {
    return fail(ErrorCode::Internal, "ids of a validated profile did not index");
  }
  std::unordered_map<std::string, size_t> row_by_name;
  std::vector<std::vector<size_t>> frames_by_location(static_cast<size_t>(profile.location_size()));
  auto rowFor = [&](const std::string& name) {
    auto [it, added] = row_by_name.emplace(name, summary.functions.size());
    if (added) {
      summary.functions.push_back({name, 0, 0});
    }
    return it->second;
  };
  for (int i = 0; i < profile.location_size(); ++i) {
    const auto& location = profile.location(i);
    auto& frames = frames_by_location[static_cast<size_t>(i)];
    for (const auto& line : location.line()) {
      if (auto function = functions->find(line.function_id())) {
        frames.push_back(rowFor(str(profile.function(*function).name())));
      }
    }
    if (frames.empty()) {
      frames.push_back(rowFor(hexAddress(location.address())));
    }
  }

  // last_sample stamps a row when its cum is counted, so recursion counts once per sample.
  std::vector<size_t> last_sample(summary.functions.size(), SIZE_MAX);
  for (size_t s = 0; s < static_cast<size_t>(profile.sample_size()); ++s) {
    const auto& sample = profile.sample(static_cast<int>(s));
    int64_t value = sample.value(static_cast<int>(sample_index));
    if (value == 0 || sample.location_id_size() == 0) {
      continue;
    }
    bool leaf = true;
    for (uint64_t location_id : sample.location_id()) {
      const auto& frames = frames_by_location[static_cast<size_t>(*locations->find(location_id))];
      for (size_t row : frames) {
        FunctionCost& cost = summary.functions[row];
        if (leaf) {
          cost.flat = addSaturating(cost.flat, value);
          leaf = false;
        }
        if (last_sample[row] != s) {
          last_sample[row] = s;
          cost.cum = addSaturating(cost.cum, value);
        }
      }
    }
  }

  std::erase_if(summary.functions,
                [](const FunctionCost& cost) { return cost.flat == 0 && cost.cum == 0; });
  std::sort(summary.functions.begin(),
            summary.functions.end(),
            [order](const FunctionCost& a, const FunctionCost& b) {
              auto [a_first, a_second] =
                  order == CostOrder::Flat ? std::pair(a.flat, a.cum) : std::pair(a.cum, a.flat);
              auto [b_first, b_second] =
                  order == CostOrder::Flat ? std::pair(b.flat, b.cum) : std::pair(b.cum, b.flat);
              if (a_first != b_first) {
                return a_first > b_first;
              }
              if (a_second != b_second) {
                return a_second > b_second;
              }
              return a.name < b.name;
            });
  return summary;
}

Result<size_t> findSampleIndex(const Profile& profile, std::string_view type) {
  if (profile.sample_type_size() == 0) {
    return fail(ErrorCode::InvalidArgument, "the profile has no sample types");
  }
  auto name = [&](int64_t index) -> std::string_view {
    return index >= 0 && index < profile.string_table_size()
               ? std::string_view(profile.string_table(static_cast<int>(index)))
               : std::string_view();
  };
  std::string_view wanted = type.empty() ? name(profile.default_sample_type()) : type;
  if (wanted.empty()) {
    return static_cast<size_t>(profile.sample_type_size() - 1);
  }
  for (int i = 0; i < profile.sample_type_size(); ++i) {
    if (name(profile.sample_type(i).type()) == wanted) {
      return static_cast<size_t>(i);
    }
  }
  return fail(ErrorCode::NotFound,
              "the profile has no sample type \"" + std::string(wanted) + "\"");
}

}  // namespace kprof::pprof
