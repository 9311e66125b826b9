#include "operator/runtime/leader_elector.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "operator/fakekube/clock_pump.hpp"
#include "operator/fakekube/forwarding_api.hpp"
#include "operator/fakekube/memory_api.hpp"
#include "operator/runtime/time_format.hpp"

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using fakekube::ClockPump;
using fakekube::MemoryApi;
using fakekube::Verb;
namespace res = kube::resources;

constexpr auto kWait = 10s;  // bound on waiting for another thread

// Passes calls through until frozen; then every call fails as if the network were cut.
class FreezableApi final : public fakekube::ForwardingApi {
 public:
  using ForwardingApi::ForwardingApi;
  void freeze() { frozen_ = true; }

  Result<kube::Object> get(const kube::ResourceType& t,
                           std::string_view ns,
                           std::string_view name) override {
    if (frozen_) {
      return cut();
    }
    return ForwardingApi::get(t, ns, name);
  }
  Result<kube::Object> create(const kube::ResourceType& t,
                              std::string_view ns,
                              const kube::Object& o) override {
    if (frozen_) {
      return cut();
    }
    return ForwardingApi::create(t, ns, o);
  }
  Result<kube::Object> update(const kube::ResourceType& t,
                              std::string_view ns,
                              const kube::Object& o) override {
    if (frozen_) {
      return cut();
    }
    return ForwardingApi::update(t, ns, o);
  }

 private:
  static Unexpected cut() { return fail(ErrorCode::Unavailable, "network partition"); }
  std::atomic<bool> frozen_{false};
};

// Records the callbacks; leading lasts until the elector requests stop.
class Leadership {
 public:
  LeaderCallbacks callbacks() {
    return {[this](std::stop_token stop) {
              std::unique_lock lock(mutex_);
              ++started_;
              changed_.notify_all();
              changed_.wait(lock, stop, [] { return false; });  // lead until told to stop
              ++returned_;
            },
            [this] {
              std::lock_guard lock(mutex_);
              ++stopped_;
              changed_.notify_all();
            },
            {}};
  }
  bool waitStarted(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return started_ >= count; });
  }
  bool waitStopped(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return stopped_ >= count; });
  }
  int started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  int stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }
  int returned() {
    std::lock_guard lock(mutex_);
    return returned_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any changed_;
  int started_ = 0;
  int stopped_ = 0;
  int returned_ = 0;
};

LeaderElectionConfig config(const std::string& identity) {
  return {.ns = "kprof-system", .name = "kprof-operator", .identity = identity};
}

class LeaderElectorTest : public ::testing::Test {
 protected:
  LeaseRecord lease() {
    auto object = api_.get(res::kLeases, "kprof-system", "kprof-operator");
    EXPECT_TRUE(object);
    if (!object) {
      return {};
    }
    auto record = leaseRecordFromSpec((*object)["spec"]);
    EXPECT_TRUE(record);
    return record ? *record : LeaseRecord{};
  }
  void stopAll(std::initializer_list<LeaderElector*> electors) {
    ClockPump pump(clock_, 1ms);
    for (LeaderElector* elector : electors) {
      elector->stop();
    }
  }

  FakeClock clock_;
  MemoryApi api_{clock_};
};

TEST_F(LeaderElectorTest, OneOfTwoLeadsAndKeepsRenewing) {
  Leadership la, lb;
  LeaderElector a(api_, clock_, config("a"), la.callbacks());
  LeaderElector b(api_, clock_, config("b"), lb.callbacks());
  a.start();
  ASSERT_TRUE(la.waitStarted(1));
  EXPECT_TRUE(a.isLeader());
  b.start();
  ASSERT_TRUE(api_.waitForCalls(Verb::Get, 2, kWait, "leases"));  // b has looked

  // Ten retry periods, one at a time: a renews each of them, b keeps waiting.
  for (int i = 0; i < 10; ++i) {
    const size_t updates = api_.calls(Verb::Update, "leases");
    clock_.waitForSleepers(2);
    clock_.advance(2s);
    ASSERT_TRUE(api_.waitForCalls(Verb::Update, updates + 1, kWait, "leases"));
    EXPECT_FALSE(b.isLeader());
  }
  EXPECT_TRUE(a.isLeader());
  EXPECT_EQ(lb.started(), 0);
  EXPECT_EQ(b.observedLeader(), "a");
  const LeaseRecord record = lease();
  EXPECT_EQ(record.holder_identity, "a");
  EXPECT_EQ(record.lease_duration_seconds, 15);
  EXPECT_EQ(record.lease_transitions, 0);
  EXPECT_EQ(record.renew_time, clock_.wallNow());
  stopAll({&a, &b});
}

TEST_F(LeaderElectorTest, ALeaderThatCannotRenewIsReplacedAfterTheLeaseExpires) {
  FreezableApi a_api(api_);
  Leadership la, lb;
  LeaderElector a(a_api, clock_, config("a"), la.callbacks());
  LeaderElector b(api_, clock_, config("b"), lb.callbacks());
  a.start();
  ASSERT_TRUE(la.waitStarted(1));
  b.start();
  ASSERT_TRUE(api_.waitForCalls(Verb::Get, 2, kWait, "leases"));

  a_api.freeze();  // a can no longer reach the API server
  const LeaseRecord last_renewal = lease();
  {
    ClockPump pump(clock_, 20ms);
    ASSERT_TRUE(lb.waitStarted(1));
    ASSERT_TRUE(la.waitStopped(1));  // a gave up after its renew deadline
  }
  EXPECT_FALSE(a.isLeader());
  EXPECT_TRUE(b.isLeader());
  EXPECT_EQ(la.returned(), 1);  // a's leading work was told to stop and did
  const LeaseRecord taken = lease();
  EXPECT_EQ(taken.holder_identity, "b");
  EXPECT_EQ(taken.lease_transitions, 1);
  ASSERT_TRUE(taken.acquire_time && last_renewal.renew_time);
  EXPECT_GE(*taken.acquire_time - *last_renewal.renew_time, 15s);  // not before expiry
  stopAll({&a, &b});
}

TEST_F(LeaderElectorTest, ReleaseOnShutdownLetsTheNextTakeOverAtOnce) {
  Leadership la, lb;
  LeaderElector a(api_, clock_, config("a"), la.callbacks());
  LeaderElector b(api_, clock_, config("b"), lb.callbacks());
  a.start();
  ASSERT_TRUE(la.waitStarted(1));
  b.start();
  ASSERT_TRUE(api_.waitForCalls(Verb::Get, 2, kWait, "leases"));
  const LeaseRecord before = lease();

  {
    ClockPump pump(clock_, 1ms);
    a.stop();
  }
  EXPECT_FALSE(a.isLeader());
  EXPECT_EQ(la.returned(), 1);
  EXPECT_EQ(la.stopped(), 1);
  {
    ClockPump pump(clock_, 10ms);
    ASSERT_TRUE(lb.waitStarted(1));
  }
  const LeaseRecord taken = lease();
  EXPECT_EQ(taken.holder_identity, "b");
  EXPECT_EQ(taken.lease_transitions, 1);
  ASSERT_TRUE(taken.acquire_time && before.renew_time);
  // Well before a's lease would have expired (15 s after its last renewal).
  EXPECT_LT(*taken.acquire_time - *before.renew_time, 15s);
  stopAll({&b});
  EXPECT_EQ(lease().holder_identity, "");  // b released it too
}

TEST_F(LeaderElectorTest, AConflictingRenewalIsRetriedNextPeriod) {
  Leadership la;
  LeaderElector a(api_, clock_, config("a"), la.callbacks());
  a.start();
  ASSERT_TRUE(la.waitStarted(1));
  api_.failNext(
      Verb::Update, 1, makeError(ErrorCode::Conflict, "the object has been modified"), "leases");
  const size_t updates = api_.calls(Verb::Update, "leases");
  clock_.waitForSleepers(1);
  clock_.advance(2s);
  ASSERT_TRUE(api_.waitForCalls(Verb::Update, updates + 1, kWait, "leases"));  // the conflict
  clock_.waitForSleepers(1);
  clock_.advance(2s);
  ASSERT_TRUE(api_.waitForCalls(Verb::Update, updates + 2, kWait, "leases"));  // the retry
  clock_.waitForSleepers(1);
  EXPECT_TRUE(a.isLeader());  // one failed renewal is far inside the renew deadline
  EXPECT_EQ(la.stopped(), 0);
  EXPECT_EQ(a.stats().write_conflicts, 1u);
  EXPECT_EQ(lease().renew_time, clock_.wallNow());
  stopAll({&a});
}

}  // namespace
}  // namespace kprof::runtime
