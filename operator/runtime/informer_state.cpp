#include "operator/runtime/informer_state.hpp"

namespace kprof::runtime {
namespace {

using Kind = InformerOutcome::Kind;
using Act = InformerAction::Kind;

InformerStep backoff(InformerState state) {
  const uint32_t attempt = state.failures;
  ++state.failures;
  return {std::move(state), {Act::Backoff, "", attempt}};
}

InformerStep relist(InformerState state, bool at_once) {
  state.phase = InformerPhase::Empty;
  state.resource_version.clear();
  if (!at_once) {
    return backoff(std::move(state));
  }
  return {std::move(state), {Act::List, "", 0}};
}

}  // namespace

InformerStep nextInformerStep(const InformerState& current,
                              const InformerOutcome& outcome,
                              const InformerTiming& timing) {
  InformerState state = current;
  switch (outcome.kind) {
    case Kind::Started:
      state.phase = InformerPhase::Empty;
      state.resource_version.clear();
      return {state, {Act::List, "", 0}};

    case Kind::ListDone:
      state.phase = InformerPhase::Listed;
      state.resource_version = outcome.resource_version;
      state.watches_since_list = 0;
      return {state, {Act::Watch, state.resource_version, 0}};

    case Kind::ListFailed:
      state.phase = InformerPhase::Empty;
      state.resource_version.clear();
      if (outcome.error == ErrorCode::Expired && state.failures == 0) {
        ++state.failures;  // a continue token expired: start over at once, but only once
        return {state, {Act::List, "", 0}};
      }
      return backoff(std::move(state));

    case Kind::WatchOpened:
      if (state.phase == InformerPhase::Empty) {
        return {state, {Act::List, "", 0}};  // nothing to watch from
      }
      state.phase = InformerPhase::Watching;
      ++state.watches_since_list;
      return {state, {Act::Continue, "", 0}};

    case Kind::WatchEvent:
      if (!outcome.resource_version.empty()) {
        state.resource_version = outcome.resource_version;
      }
      state.phase = InformerPhase::Watching;
      return {state, {Act::Continue, "", 0}};

    case Kind::WatchEnded:
    case Kind::WatchFailed: {
      if (state.phase == InformerPhase::Empty) {
        return {state, {Act::List, "", 0}};
      }
      state.phase = InformerPhase::Listed;
      const bool healthy = outcome.watch_duration >= timing.healthy_watch;
      if (healthy) {
        state.failures = 0;
      }
      if (outcome.kind == Kind::WatchFailed) {
        if (outcome.error == ErrorCode::Expired) {
          // Expired on the first watch after a list, before any event, means the list's own
          // version is already too old (or the server says so every time): back off rather
          // than list in a loop. Otherwise the version we resumed from aged out: list at once.
          const bool at_once = state.watches_since_list > 1 || outcome.watch_events > 0 || healthy;
          return relist(std::move(state), at_once);
        }
        return backoff(std::move(state));
      }
      if (outcome.watch_events == 0 && outcome.watch_duration < timing.min_watch) {
        return backoff(std::move(state));  // closed at once with nothing: do not spin
      }
      return {state, {Act::Watch, state.resource_version, 0}};
    }

    case Kind::BackoffDone:
      if (state.phase == InformerPhase::Empty) {
        return {state, {Act::List, "", 0}};
      }
      state.phase = InformerPhase::Listed;
      return {state, {Act::Watch, state.resource_version, 0}};
  }
  return {state, {Act::List, "", 0}};
}

std::string_view informerPhaseName(InformerPhase phase) {
  switch (phase) {
    case InformerPhase::Empty:
      return "Empty";
    case InformerPhase::Listed:
      return "Listed";
    case InformerPhase::Watching:
      return "Watching";
  }
  return "Unknown";
}

}  // namespace kprof::runtime
