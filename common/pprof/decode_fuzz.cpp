// libFuzzer target for the pprof decoder: whatever the bytes, decode must return a profile or an
// Error, and every profile it returns must be safe to summarize, merge and re-encode.
// Build and run: see common/pprof/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/pprof/codec.hpp"
#include "common/pprof/merge.hpp"
#include "common/pprof/summary.hpp"

namespace {

void check(bool property) {
  if (!property) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprof::pprof;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = decode(bytes, DecodeLimits{.max_decoded_bytes = size_t{1} << 20});
  if (!decoded) {
    return 0;
  }
  const Profile& profile = *decoded;

  for (size_t i = 0; i < static_cast<size_t>(profile.sample_type_size()); ++i) {
    check(summarize(profile, i).hasValue());
  }

  // Re-encoding is stable: decode(encode(p)) encodes to the same bytes.
  auto encoded = encode(profile);
  check(encoded.hasValue());
  auto again = decode(*encoded, DecodeLimits{.max_decoded_bytes = size_t{4} << 20});
  check(again.hasValue());
  check(encode(*again).value() == *encoded);

  // A valid profile always merges with itself, into a valid profile.
  Profile pair[] = {profile, profile};
  auto merged = merge(pair);
  check(merged.hasValue());
  check(validate(*merged).hasValue());
  return 0;
}
