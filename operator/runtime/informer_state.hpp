// The informer's list/watch protocol as a pure state machine, so every transition is a table
// row in a unit test and the driver thread only performs actions:
//
//   Empty ──list ok──► Listed(rv) ──watch opened──► Watching(rv) ──event/bookmark──► Watching(rv')
//     ▲                   ▲  │                          │
//     │                   │  └──── watch error: backoff, then watch from rv again
//     │                   └─────── stream ended: watch again from rv at once
//     └── Expired (410): list again — at once, unless it was the first watch after a list (then
//         the list's own version is already too old: back off); list error: backoff, then list
//
// `failures` counts consecutive failures and is the backoff attempt (0 → 800 ms, doubling to
// 30 s, with jitter drawn by the driver). It resets once a watch has been open for
// `healthy_watch`. A stream that ends cleanly after less than `min_watch` without any event is
// treated as a failure, so a server that closes every watch at once cannot make us spin.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::runtime {

enum class InformerPhase { Empty, Listed, Watching };

struct InformerState {
  InformerPhase phase = InformerPhase::Empty;
  std::string resource_version;  // Listed/Watching: where the next watch starts
  uint32_t failures = 0;
  uint32_t watches_since_list = 0;
  bool operator==(const InformerState&) const = default;
};

struct InformerOutcome {
  enum class Kind {
    Started,      // the driver begins (or restarts)
    ListDone,     // every page read and the cache replaced; resource_version set
    ListFailed,   // error set
    WatchOpened,  // the watch call is being made
    WatchEvent,   // an event or bookmark arrived; resource_version set
    WatchEnded,   // the server ended the stream cleanly
    WatchFailed,  // error set (Expired: the version is too old)
    BackoffDone,  // the backoff delay has passed
  };
  Kind kind = Kind::Started;
  std::string resource_version;
  ErrorCode error = ErrorCode::Internal;
  Clock::Duration watch_duration{0};  // WatchEnded/WatchFailed: how long the watch was open
  uint64_t watch_events = 0;          // WatchEnded/WatchFailed: events it delivered
};

struct InformerAction {
  enum class Kind {
    List,      // list every page and replace the cache
    Watch,     // watch from resource_version
    Backoff,   // wait backoffDelay(policy, attempt, random), then report BackoffDone
    Continue,  // nothing new: keep reading the open watch
  };
  Kind kind = Kind::List;
  std::string resource_version;
  uint32_t attempt = 0;
  bool operator==(const InformerAction&) const = default;
};

struct InformerStep {
  InformerState state;
  InformerAction action;
};

struct InformerTiming {
  Clock::Duration healthy_watch = std::chrono::seconds(60);
  Clock::Duration min_watch = std::chrono::seconds(1);
};

InformerStep nextInformerStep(const InformerState& current,
                              const InformerOutcome& outcome,
                              const InformerTiming& timing = {});

std::string_view informerPhaseName(InformerPhase phase);

}  // namespace kprof::runtime
