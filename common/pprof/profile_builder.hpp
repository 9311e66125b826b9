// ProfileBuilder assembles a pprof Profile message: it interns strings, functions, mappings and
// locations so each appears once, and sums samples that share a stack and labels.
//
// Pure: no I/O and no clock reads. Times come in from the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/result.hpp"
#include "common/pprof/profile.pb.h"

namespace kprof::pprof {

using Profile = perftools::profiles::Profile;

// The kinds of profile kprof emits. Each has a fixed set of sample types (see schemaFor).
enum class ProfileKind { Cpu, Alloc, Inuse, Lock, Wall };

// "cpu", "alloc", "inuse", "lock", "wall": the names policies and the CLI use.
std::string_view profileKindName(ProfileKind kind);
std::optional<ProfileKind> parseProfileKind(std::string_view name);

// The meaning of one sample value, e.g. {"cpu", "nanoseconds"}.
struct ValueTypeName {
  std::string type;
  std::string unit;

  bool operator==(const ValueTypeName&) const = default;
};

// What a profile's values mean: one entry per value in every sample, the unit of the sampling
// period, and the type a viewer should show first.
struct ProfileSchema {
  std::vector<ValueTypeName> sample_types;
  ValueTypeName period_type;
  std::string default_sample_type;  // empty: viewers default to the last sample type
};

// The schema of each kind, named the way Go's runtime and Pyroscope name them so existing
// dashboards and `go tool pprof -sample_index=<name>` work:
//   cpu   samples/count, cpu/nanoseconds        period cpu/nanoseconds
//   alloc alloc_objects/count, alloc_space/bytes period space/bytes
//   inuse inuse_objects/count, inuse_space/bytes period space/bytes
//   lock  contentions/count, delay/nanoseconds  period contentions/count
//   wall  samples/count, wall/nanoseconds       period wall/nanoseconds
ProfileSchema schemaFor(ProfileKind kind);

struct FunctionInfo {
  std::string_view name;         // human-readable, e.g. demangled "ns::Foo::bar(int)"
  std::string_view system_name;  // as the linker knows it, e.g. the mangled symbol
  std::string_view filename;     // source file
  int64_t start_line = 0;
};

struct MappingInfo {
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string_view filename;  // object file path, or "[vdso]" and the like
  std::string_view build_id;  // hex GNU build id, so a symbol server can find the exact binary
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
};

struct LineInfo {
  uint64_t function_id = 0;  // from addFunction; 0 when the function is unknown
  int64_t line = 0;
  int64_t column = 0;
};

struct LocationInfo {
  uint64_t mapping_id = 0;  // from addMapping; 0 when the mapping is unknown
  uint64_t address = 0;
  // Innermost inlined function first, the function it was inlined into last.
  std::vector<LineInfo> lines;
  bool is_folded = false;
};

// A sample label: either text (key=str) or a number with an optional unit (key=num num_unit).
// The views only need to live until addSample returns. Note that Go's pprof reader (and so
// Pyroscope) drops a numeric label whose value is 0 and that has no unit.
struct SampleLabel {
  std::string_view key;
  std::string_view str;
  int64_t num = 0;
  std::string_view num_unit;
  bool is_number = false;

  static SampleLabel text(std::string_view key, std::string_view value) {
    return SampleLabel{key, value, 0, {}, false};
  }
  static SampleLabel number(std::string_view key, int64_t num, std::string_view unit = {}) {
    return SampleLabel{key, {}, num, unit, true};
  }
};

// Hashes std::string keys and lets maps be searched with a string_view, without a copy.
struct StringKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
template <typename Value>
using StringKeyMap = std::unordered_map<std::string, Value, StringKeyHash, std::equal_to<>>;

class ProfileBuilder {
 public:
  explicit ProfileBuilder(const ProfileSchema& schema);
  explicit ProfileBuilder(ProfileKind kind) : ProfileBuilder(schemaFor(kind)) {}

  // Index of `text` in the string table; "" is always 0.
  int64_t internString(std::string_view text);

  // Ids start at 1; the same input always returns the same id.
  uint64_t addFunction(const FunctionInfo& function);
  uint64_t addMapping(const MappingInfo& mapping);
  // Fails when the mapping or a function id was not returned by this builder.
  Result<uint64_t> addLocation(const LocationInfo& location);

  // Adds `values` (one per sample type) for the stack `location_ids` (leaf first). A sample with
  // the same stack and labels as an earlier one is summed into it. Text labels with an empty value
  // are left out: like Prometheus and Pyroscope, kprof treats an empty value as an absent label
  // (pprof itself would read it as the number 0). Fails, adding nothing, on a wrong number of
  // values, an unknown location id or an empty label key.
  Status addSample(std::span<const uint64_t> location_ids,
                   std::span<const int64_t> values,
                   std::span<const SampleLabel> labels = {});

  // How much of the schema's period type passes between samples, e.g. 10'000'000 ns at 100 Hz.
  void setPeriod(int64_t period);
  void setTime(std::chrono::system_clock::time_point start, std::chrono::nanoseconds duration);
  void setTimeNanos(int64_t time_nanos, int64_t duration_nanos);
  void addComment(std::string_view comment);

  size_t sampleCount() const { return static_cast<size_t>(profile_.sample_size()); }

  // Hands over the finished profile. The last call on a builder.
  Profile build() &&;

 private:
  Profile profile_;
  StringKeyMap<int64_t> string_ids_;
  // The maps below are keyed by the interned fields packed into bytes (see the .cpp).
  StringKeyMap<uint64_t> function_ids_;
  StringKeyMap<uint64_t> mapping_ids_;
  StringKeyMap<uint64_t> location_ids_;
  StringKeyMap<int> sample_index_;  // stack + labels → index in profile_.sample
  std::string key_;                 // scratch buffer for building those keys
};

}  // namespace kprof::pprof
