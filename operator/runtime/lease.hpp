// Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it,
// with the decision as a pure function of what was read and the time.
//
// Timing (client-go's defaults): the holder renews every retry_period (2 s) and gives up leading
// when it has not renewed for renew_deadline (10 s); others take over once renewTime +
// leaseDurationSeconds (15 s) has passed. The gap between the two (5 s) is the clock skew
// between replicas the scheme tolerates: expiry is judged from the Lease's renewTime against the
// candidate's own wall clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "operator/kube/api.hpp"

namespace kprof::runtime {

// The Lease spec fields leader election reads and writes.
struct LeaseRecord {
  std::string holder_identity;  // "" when nobody holds the lease (released)
  int64_t lease_duration_seconds = 0;
  std::optional<Clock::WallTime> acquire_time;
  std::optional<Clock::WallTime> renew_time;
  int64_t lease_transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

// Reads a Lease's .spec; missing fields stay empty, malformed times are a Parse error.
Result<LeaseRecord> leaseRecordFromSpec(const kube::Object& spec);
// The .spec to write; times in MicroTime format ("2006-01-02T15:04:05.000000Z").
kube::Object leaseSpecFromRecord(const LeaseRecord& record);

struct LeaderElectionTiming {
  Clock::Duration lease_duration = std::chrono::seconds(15);
  Clock::Duration renew_deadline = std::chrono::seconds(10);
  Clock::Duration retry_period = std::chrono::seconds(2);
};

// What a candidate knows when it decides.
struct LeaseObservation {
  std::optional<LeaseRecord> lease;  // nullopt: there is no Lease object
  bool leading = false;              // we are leading as far as we know
  // Our last successful write of the lease while leading.
  std::optional<Clock::WallTime> last_renewed;
};

struct LeaseDecision {
  enum class Kind {
    Acquire,  // write `record` (create the Lease when `create`): take the lease
    Renew,    // write `record`: we hold it and extend it
    Wait,     // someone else holds it: look again at `wait_until`
    Lost,     // we were leading and are not any more: stop leading now
  };
  Kind kind = Kind::Wait;
  LeaseRecord record;
  bool create = false;
  Clock::WallTime wait_until{};
  bool operator==(const LeaseDecision&) const = default;
};

LeaseDecision decideLease(const LeaseObservation& observation,
                          std::string_view identity,
                          Clock::WallTime now,
                          const LeaderElectionTiming& timing = {});

// What a leader writes when it steps down (client-go's ReleaseOnCancel): no holder and a 1 s
// duration, so the next candidate takes over at its next try instead of waiting for expiry.
LeaseRecord releasedRecord(const LeaseRecord& held, Clock::WallTime now);

}  // namespace kprof::runtime
