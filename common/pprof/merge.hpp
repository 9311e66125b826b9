// Merging profiles of one kind (e.g. the CPU profiles of every replica of a deployment, or of
// consecutive upload intervals) into one profile, as `go tool pprof a.pb.gz b.pb.gz` would.
#pragma once

#include <span>

#include "common/core/result.hpp"
#include "common/pprof/profile_builder.hpp"

namespace kprof::pprof {

// Merges `profiles` into one. Strings, functions, mappings and locations are deduplicated across
// inputs by content (not by id), and samples with the same stack and labels are summed.
//   time      the earliest start among inputs that carry one
//   duration  from that start to the latest end; when no input carries a time, the sum
//   period    the largest input period (inputs normally share one)
//   comments  the distinct comments of all inputs, in order of first appearance
// Fails with InvalidArgument when there is nothing to merge or the inputs disagree on sample
// types or period type, and with Parse when an input does not pass validate().
Result<Profile> merge(std::span<const Profile> profiles);

}  // namespace kprof::pprof
