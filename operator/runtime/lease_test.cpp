#include "operator/runtime/lease.hpp"

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using Kind = LeaseDecision::Kind;

const Clock::WallTime kNow = Clock::WallTime{1'700'000'000s};

LeaseRecord held(std::string holder,
                 Clock::Duration renewed_ago,
                 int64_t transitions = 3,
                 int64_t duration_seconds = 15) {
  return {std::move(holder), duration_seconds, kNow - 1h, kNow - renewed_ago, transitions};
}

struct Row {
  const char* name;
  LeaseObservation observation;
  LeaseDecision expected;
};

TEST(DecideLease, Table) {
  LeaseDecision wait_2s{Kind::Wait};
  wait_2s.wait_until = kNow + 2s;
  LeaseDecision wait_half_s{Kind::Wait};
  wait_half_s.wait_until = kNow + 500ms;

  const std::vector<Row> rows = {
      {"no lease yet: create it",
       {std::nullopt, false, std::nullopt},
       {Kind::Acquire, LeaseRecord{"me", 15, kNow, kNow, 0}, true}},
      {"held by another, fresh: wait one retry period",
       {held("other", 5s), false, std::nullopt},
       wait_2s},
      {"held by another, about to expire: wait until expiry",
       {held("other", 14500ms), false, std::nullopt},
       wait_half_s},
      {"held by another, expired: take over, one more transition",
       {held("other", 15s), false, std::nullopt},
       {Kind::Acquire, LeaseRecord{"me", 15, kNow, kNow, 4}}},
      {"expiry follows the lease's own duration",
       {held("other", 2s, 3, 1), false, std::nullopt},
       {Kind::Acquire, LeaseRecord{"me", 15, kNow, kNow, 4}}},
      {"released (no holder): take over at once",
       {held("", 0s), false, std::nullopt},
       {Kind::Acquire, LeaseRecord{"me", 15, kNow, kNow, 4}}},
      {"holder without renewTime: take over",
       {LeaseRecord{"other", 15, std::nullopt, std::nullopt, 1}, false, std::nullopt},
       {Kind::Acquire, LeaseRecord{"me", 15, kNow, kNow, 2}}},
      {"ours: renew, keeping acquireTime and transitions",
       {held("me", 2s), true, kNow - 2s},
       {Kind::Renew, LeaseRecord{"me", 15, kNow - 1h, kNow, 3}}},
      {"ours after a restart (we did not know): renew",
       {held("me", 5s), false, std::nullopt},
       {Kind::Renew, LeaseRecord{"me", 15, kNow - 1h, kNow, 3}}},
      {"leading, still inside the renew deadline: renew",
       {held("me", 9s), true, kNow - 9s},
       {Kind::Renew, LeaseRecord{"me", 15, kNow - 1h, kNow, 3}}},
      {"leading, renew deadline passed: lost even though the lease names us",
       {held("me", 10s), true, kNow - 10s},
       {Kind::Lost}},
      {"leading, but someone else holds it now: lost",
       {held("other", 1s), true, kNow - 2s},
       {Kind::Lost}},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(decideLease(row.observation, "me", kNow), row.expected) << row.name;
  }
}

TEST(DecideLease, UsesTheConfiguredTiming) {
  const LeaderElectionTiming slow{.lease_duration = 60s, .renew_deadline = 40s, .retry_period = 5s};
  const LeaseDecision created = decideLease({}, "me", kNow, slow);
  EXPECT_EQ(created.record.lease_duration_seconds, 60);
  const LeaseDecision wait = decideLease({held("other", 1s, 0, 60), false, {}}, "me", kNow, slow);
  EXPECT_EQ(wait.kind, Kind::Wait);
  EXPECT_EQ(wait.wait_until, kNow + 5s);
  EXPECT_EQ(decideLease({held("me", 30s), true, kNow - 30s}, "me", kNow, slow).kind, Kind::Renew);
}

TEST(LeaseRecord, SpecRoundTripInMicroTime) {
  const LeaseRecord record{"kprof-operator-7d9f", 15, kNow + 123456us, kNow + 2s, 5};
  const kube::Object spec = leaseSpecFromRecord(record);
  EXPECT_EQ(spec, kube::Object::parse(R"({
    "holderIdentity": "kprof-operator-7d9f", "leaseDurationSeconds": 15, "leaseTransitions": 5,
    "acquireTime": "2023-11-14T22:13:20.123456Z", "renewTime": "2023-11-14T22:13:22.000000Z"
  })"));
  auto parsed = leaseRecordFromSpec(spec);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, record);
}

TEST(LeaseRecord, ReadsPartialAndRejectsMalformedSpecs) {
  auto empty = leaseRecordFromSpec(kube::Object());
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, LeaseRecord{});
  auto partial = leaseRecordFromSpec({{"holderIdentity", "a"}});
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->holder_identity, "a");
  EXPECT_FALSE(partial->renew_time);

  auto bad_time = leaseRecordFromSpec({{"renewTime", "last tuesday"}});
  ASSERT_FALSE(bad_time);
  EXPECT_EQ(bad_time.error().code, ErrorCode::Parse);
  EXPECT_FALSE(leaseRecordFromSpec({{"renewTime", 5}}));
  EXPECT_FALSE(leaseRecordFromSpec(kube::Object::array()));
}

TEST(ReleasedRecord, ClearsTheHolderAndShortensTheLease) {
  const LeaseRecord released = releasedRecord(held("me", 1s, 7), kNow);
  EXPECT_EQ(released, (LeaseRecord{"", 1, kNow, kNow, 7}));
  // Anyone may take a released lease at once.
  EXPECT_EQ(decideLease({released, false, {}}, "next", kNow).kind, Kind::Acquire);
}

}  // namespace
}  // namespace kprof::runtime
