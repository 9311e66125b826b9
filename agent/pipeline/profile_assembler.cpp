#include "agent/pipeline/profile_assembler.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace kprof::agent {
namespace {

// Frames above the leaf hold return addresses, which point at the instruction after the call;
// looking up address - 1 finds the calling function even when the call is its last instruction.
uint64_t lookupAddress(uint64_t address, size_t depth) {
  return depth == 0 || address == 0 ? address : address - 1;
}

// Interns the frames of one process into a builder and hands out location ids.
class LocationTable {
 public:
  LocationTable(pprof::ProfileBuilder& builder, AssembleStats& stats)
      : builder_(builder), stats_(stats) {}

  void addFrames(const Symbolization& symbolized, const std::vector<uint64_t>& addresses) {
    for (size_t i = 0; i < symbolized.frames.size() && i < addresses.size(); ++i) {
      const Frame& frame = symbolized.frames[i];
      uint64_t mapping_id = 0;
      if (const FrameMapping* mapping = symbolized.mappingOf(frame)) {
        mapping_id = builder_.addMapping(pprof::MappingInfo{
            .memory_start = mapping->start,
            .memory_limit = mapping->end,
            .file_offset = mapping->fileOffset,
            .filename = mapping->path,
            .build_id = mapping->buildId,
            .has_functions = true,
        });
      }
      pprof::LocationInfo location{.mapping_id = mapping_id, .address = frame.address};
      ++stats_.frames;
      if (frame.resolved && !frame.function.empty()) {
        const uint64_t function_id = builder_.addFunction(
            pprof::FunctionInfo{.name = frame.function, .system_name = frame.function});
        location.lines.push_back(pprof::LineInfo{.function_id = function_id});
      } else {
        ++stats_.unresolved_frames;
      }
      auto id = builder_.addLocation(location);
      ids_[addresses[i]] = id ? *id : 0;
    }
  }

  uint64_t idOf(uint64_t lookup_address) const {
    const auto it = ids_.find(lookup_address);
    return it == ids_.end() ? 0 : it->second;
  }

 private:
  pprof::ProfileBuilder& builder_;
  AssembleStats& stats_;
  std::unordered_map<uint64_t, uint64_t> ids_;
};

std::string typeName(ProfileKind kind) {
  return kind == ProfileKind::Cpu ? "cpu" : "wall";
}

struct Group {
  uint32_t pid = 0;
  ProfileKind kind = ProfileKind::Cpu;
  std::vector<const RawStack*> stacks;
};

AssembledProfile buildGroup(const Group& group,
                            const std::vector<uint32_t>& pids,
                            Symbolizer& symbolizer,
                            const AssembleOptions& options,
                            AssembleStats& stats) {
  pprof::ProfileBuilder builder(group.kind == ProfileKind::Cpu ? pprof::ProfileKind::Cpu
                                                               : pprof::ProfileKind::Wall);
  builder.setPeriod(static_cast<int64_t>(options.sample_period_ns));
  builder.setTime(options.start, options.duration);

  // Per process: symbolize every distinct user address in one call, kernel addresses in another.
  std::map<uint32_t, LocationTable> tables;
  LocationTable kernel_table(builder, stats);
  std::vector<uint64_t> kernel_addresses;
  for (const uint32_t pid : pids) {
    std::vector<uint64_t> user_addresses;
    for (const RawStack* stack : group.stacks) {
      if (stack->pid != pid) {
        continue;
      }
      for (size_t depth = 0; depth < stack->user_ips.size(); ++depth) {
        user_addresses.push_back(lookupAddress(stack->user_ips[depth], depth));
      }
      if (options.include_kernel) {
        for (size_t depth = 0; depth < stack->kernel_ips.size(); ++depth) {
          kernel_addresses.push_back(lookupAddress(stack->kernel_ips[depth], depth));
        }
      }
    }
    std::sort(user_addresses.begin(), user_addresses.end());
    user_addresses.erase(std::unique(user_addresses.begin(), user_addresses.end()),
                         user_addresses.end());
    auto [it, inserted] = tables.try_emplace(pid, builder, stats);
    auto symbolized = symbolizer.symbolize(static_cast<int>(pid), user_addresses);
    if (symbolized) {
      it->second.addFrames(*symbolized, user_addresses);
    } else {
      // The process is gone: keep the raw addresses so the samples still count.
      ++stats.symbolize_errors;
      it->second.addFrames(symbolizer.symbolize(static_cast<int>(pid), {}, user_addresses),
                           user_addresses);
    }
  }
  std::sort(kernel_addresses.begin(), kernel_addresses.end());
  kernel_addresses.erase(std::unique(kernel_addresses.begin(), kernel_addresses.end()),
                         kernel_addresses.end());
  if (!kernel_addresses.empty()) {
    kernel_table.addFrames(symbolizer.symbolizeKernel(kernel_addresses), kernel_addresses);
  }

  AssembledProfile out;
  out.pid = options.one_profile_per_process ? group.pid : 0;
  out.profile_type = typeName(group.kind);
  std::vector<uint64_t> location_ids;
  for (const RawStack* stack : group.stacks) {
    location_ids.clear();
    // pprof stacks are leaf first: kernel frames sit above (are called by) the user frames.
    for (size_t depth = 0; depth < stack->kernel_ips.size() && options.include_kernel; ++depth) {
      if (const uint64_t id = kernel_table.idOf(lookupAddress(stack->kernel_ips[depth], depth))) {
        location_ids.push_back(id);
      }
    }
    const LocationTable& table = tables.at(stack->pid);
    for (size_t depth = 0; depth < stack->user_ips.size(); ++depth) {
      if (const uint64_t id = table.idOf(lookupAddress(stack->user_ips[depth], depth))) {
        location_ids.push_back(id);
      }
    }
    const int64_t value_ns = stack->value_ns != 0
                                 ? static_cast<int64_t>(stack->value_ns)
                                 : static_cast<int64_t>(stack->count * options.sample_period_ns);
    const int64_t values[] = {static_cast<int64_t>(stack->count), value_ns};
    std::vector<pprof::SampleLabel> labels = {
        pprof::SampleLabel::number("pid", static_cast<int64_t>(stack->pid))};
    if (stack->tid) {
      labels.push_back(pprof::SampleLabel::number("thread", static_cast<int64_t>(*stack->tid)));
    }
    if (builder.addSample(location_ids, values, labels)) {
      out.samples += stack->count;
      ++stats.stacks;
    }
  }
  out.profile = std::move(builder).build();
  return out;
}

}  // namespace

std::vector<RawStack> stacksForTypes(std::vector<RawStack> stacks,
                                     const std::vector<std::string>& types) {
  const bool want_cpu = std::find(types.begin(), types.end(), "cpu") != types.end();
  const bool want_wall = std::find(types.begin(), types.end(), "wall") != types.end();
  std::vector<RawStack> out;
  for (auto& stack : stacks) {
    if (stack.kind == ProfileKind::Cpu && want_wall) {
      RawStack wall = stack;
      wall.kind = ProfileKind::OffCpu;
      out.push_back(std::move(wall));
    }
    if ((stack.kind == ProfileKind::Cpu && want_cpu) ||
        (stack.kind == ProfileKind::OffCpu && want_wall)) {
      out.push_back(std::move(stack));
    }
  }
  return out;
}

std::vector<AssembledProfile> assembleProfiles(const std::vector<RawStack>& stacks,
                                               Symbolizer& symbolizer,
                                               const AssembleOptions& options,
                                               AssembleStats* stats) {
  AssembleStats local;
  AssembleStats& counters = stats != nullptr ? *stats : local;
  // Group by (pid, kind), or by kind alone when merging processes.
  std::map<std::pair<uint32_t, ProfileKind>, Group> groups;
  for (const RawStack& stack : stacks) {
    const uint32_t key_pid = options.one_profile_per_process ? stack.pid : 0;
    Group& group = groups[{key_pid, stack.kind}];
    group.pid = key_pid;
    group.kind = stack.kind;
    group.stacks.push_back(&stack);
  }
  std::vector<AssembledProfile> out;
  for (const auto& [key, group] : groups) {
    std::vector<uint32_t> pids;
    for (const RawStack* stack : group.stacks) {
      pids.push_back(stack->pid);
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    out.push_back(buildGroup(group, pids, symbolizer, options, counters));
  }
  return out;
}

}  // namespace kprof::agent
