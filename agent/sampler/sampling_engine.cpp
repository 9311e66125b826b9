#include "agent/sampler/sampling_engine.hpp"

namespace kprof::agent {

std::string_view profileKindName(ProfileKind kind) {
  switch (kind) {
    case ProfileKind::Cpu:
      return "cpu";
    case ProfileKind::OffCpu:
      return "offcpu";
  }
  return "unknown";
}

}  // namespace kprof::agent
