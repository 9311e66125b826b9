#include "agent/sampler/stack_aggregator.hpp"

#include <algorithm>
#include <tuple>

namespace kprof::agent {

namespace {

size_t mix(size_t seed, uint64_t value) {
  // boost::hash_combine's mixing step, widened to 64 bits.
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

}  // namespace

size_t StackAggregator::IdentityHash::operator()(const Identity& identity) const {
  size_t seed = mix(identity.pid, static_cast<uint64_t>(identity.kind));
  seed = mix(seed, identity.tid.value_or(0xffffffffU));
  for (uint64_t ip : identity.user_ips) {
    seed = mix(seed, ip);
  }
  seed = mix(seed, identity.user_ips.size());
  for (uint64_t ip : identity.kernel_ips) {
    seed = mix(seed, ip);
  }
  return seed;
}

bool StackAggregator::add(RawStack stack) {
  Identity identity{
      stack.pid, stack.tid, stack.kind, std::move(stack.user_ips), std::move(stack.kernel_ips)};
  auto found = stacks_.find(identity);
  if (found == stacks_.end()) {
    if (max_stacks_ != 0 && stacks_.size() >= max_stacks_) {
      return false;
    }
    found = stacks_.emplace(std::move(identity), Totals{}).first;
  }
  found->second.count += stack.count;
  found->second.value_ns += stack.value_ns;
  return true;
}

std::vector<RawStack> StackAggregator::take() {
  std::vector<RawStack> out;
  out.reserve(stacks_.size());
  for (auto& [identity, totals] : stacks_) {
    out.push_back(RawStack{identity.pid,
                           identity.tid,
                           identity.user_ips,
                           identity.kernel_ips,
                           totals.count,
                           totals.value_ns,
                           identity.kind});
  }
  stacks_.clear();
  std::sort(out.begin(), out.end(), [](const RawStack& a, const RawStack& b) {
    return std::tie(a.pid, a.kind, a.tid, a.user_ips, a.kernel_ips) <
           std::tie(b.pid, b.kind, b.tid, b.user_ips, b.kernel_ips);
  });
  return out;
}

}  // namespace kprof::agent
