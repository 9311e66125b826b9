#include "operator/runtime/lease.hpp"

#include <algorithm>

#include "operator/runtime/time_format.hpp"

namespace kprof::runtime {
namespace {

using Kind = LeaseDecision::Kind;

Result<std::optional<Clock::WallTime>> timeField(const kube::Object& spec, const char* field) {
  const auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) {
    return std::optional<Clock::WallTime>{};
  }
  if (!it->is_string()) {
    return fail(ErrorCode::Parse, std::string("Lease spec.") + field + " is not a string");
  }
  auto parsed = parseTime(it->get<std::string>());
  if (!parsed) {
    return Unexpected{parsed.error().wrap(std::string("Lease spec.") + field)};
  }
  return std::optional<Clock::WallTime>{*parsed};
}

int64_t seconds(Clock::Duration duration) {
  return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(duration).count());
}

}  // namespace

Result<LeaseRecord> leaseRecordFromSpec(const kube::Object& spec) {
  LeaseRecord record;
  if (spec.is_null()) {
    return record;
  }
  if (!spec.is_object()) {
    return fail(ErrorCode::Parse, "Lease spec is not an object");
  }
  const auto holder = spec.find("holderIdentity");
  if (holder != spec.end() && holder->is_string()) {
    record.holder_identity = holder->get<std::string>();
  }
  const auto duration = spec.find("leaseDurationSeconds");
  if (duration != spec.end() && duration->is_number_integer()) {
    record.lease_duration_seconds = duration->get<int64_t>();
  }
  const auto transitions = spec.find("leaseTransitions");
  if (transitions != spec.end() && transitions->is_number_integer()) {
    record.lease_transitions = transitions->get<int64_t>();
  }
  auto acquire = timeField(spec, "acquireTime");
  if (!acquire) {
    return Unexpected{acquire.error()};
  }
  auto renew = timeField(spec, "renewTime");
  if (!renew) {
    return Unexpected{renew.error()};
  }
  record.acquire_time = *acquire;
  record.renew_time = *renew;
  return record;
}

kube::Object leaseSpecFromRecord(const LeaseRecord& record) {
  kube::Object spec = {{"holderIdentity", record.holder_identity},
                       {"leaseDurationSeconds", record.lease_duration_seconds},
                       {"leaseTransitions", record.lease_transitions}};
  if (record.acquire_time) {
    spec["acquireTime"] = formatMicroTime(*record.acquire_time);
  }
  if (record.renew_time) {
    spec["renewTime"] = formatMicroTime(*record.renew_time);
  }
  return spec;
}

LeaseDecision decideLease(const LeaseObservation& observation,
                          std::string_view identity,
                          Clock::WallTime now,
                          const LeaderElectionTiming& timing) {
  const int64_t duration_seconds = seconds(timing.lease_duration);
  if (observation.leading && observation.last_renewed &&
      now - *observation.last_renewed >= timing.renew_deadline) {
    // Could not renew in time: others may take over soon, so stop acting as leader first.
    return {Kind::Lost};
  }
  if (!observation.lease) {
    return {Kind::Acquire, LeaseRecord{std::string(identity), duration_seconds, now, now, 0}, true};
  }
  const LeaseRecord& lease = *observation.lease;
  if (lease.holder_identity == identity) {
    return {Kind::Renew,
            LeaseRecord{std::string(identity),
                        duration_seconds,
                        lease.acquire_time.value_or(now),
                        now,
                        lease.lease_transitions}};
  }
  if (observation.leading) {
    return {Kind::Lost};  // someone else holds it now
  }
  if (!lease.holder_identity.empty() && lease.renew_time) {
    const Clock::Duration lease_duration = lease.lease_duration_seconds > 0
                                               ? std::chrono::seconds(lease.lease_duration_seconds)
                                               : timing.lease_duration;
    const Clock::WallTime expires = *lease.renew_time + lease_duration;
    if (now < expires) {
      // Look again at expiry, or sooner: a release shows up at the next try.
      LeaseDecision wait{Kind::Wait};
      wait.wait_until = std::min(expires, now + timing.retry_period);
      return wait;
    }
  }
  // Expired, released, or never held: take it over.
  return {
      Kind::Acquire,
      LeaseRecord{std::string(identity), duration_seconds, now, now, lease.lease_transitions + 1}};
}

LeaseRecord releasedRecord(const LeaseRecord& held, Clock::WallTime now) {
  return LeaseRecord{"", 1, now, now, held.lease_transitions};
}

}  // namespace kprof::runtime
