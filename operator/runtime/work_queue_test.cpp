#include "operator/runtime/work_queue.hpp"

#include <atomic>
#include <future>
#include <map>

#include <gtest/gtest.h>

#include "operator/fakekube/clock_pump.hpp"

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 10s;  // bound on waiting for another thread

TEST(WorkQueue, AKeyOccupiesOneSlot) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.depth(), 2u);
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.processing(), 2u);
}

TEST(WorkQueue, GetBlocksUntilAKeyArrives) {
  FakeClock clock;
  WorkQueue queue(clock);
  auto got = std::async(std::launch::async, [&] { return queue.get(); });
  EXPECT_NE(got.wait_for(0s), std::future_status::ready);
  queue.add("ns/a");
  ASSERT_EQ(got.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(got.get(), "ns/a");
}

TEST(WorkQueue, AKeyAddedWhileProcessedComesBackAfterDone) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  queue.add("ns/a");
  queue.add("ns/a");
  EXPECT_EQ(queue.depth(), 0u);  // not handed to a second worker while the first holds it
  queue.done("ns/a");
  EXPECT_EQ(queue.depth(), 1u);
  EXPECT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.depth(), 0u);  // processed once more, not twice
}

TEST(WorkQueue, NeverTwoWorkersOnOneKey) {
  FakeClock clock;
  WorkQueue queue(clock);
  constexpr int kKeys = 3;
  constexpr int kRounds = 300;
  std::map<std::string, std::atomic<int>> in_flight;
  for (int k = 0; k < kKeys; ++k) {
    in_flight["ns/k" + std::to_string(k)] = 0;
  }
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&] {
        while (auto key = queue.get()) {
          if (++in_flight.at(*key) > 1) {
            ++overlaps;
          }
          queue.add(*key);  // an event for the key arrives while it is reconciled
          --in_flight.at(*key);
          queue.done(*key);
          if (++processed >= kRounds) {
            queue.shutDown();
          }
        }
      });
    }
    for (const auto& [key, count] : in_flight) {
      queue.add(key);
    }
  }
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), kRounds);
}

TEST(WorkQueue, ShutDownWakesEveryWaiterAndDrainsWhatIsQueued) {
  FakeClock clock;
  WorkQueue queue(clock);
  std::vector<std::future<std::optional<std::string>>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::async(std::launch::async, [&] { return queue.get(); }));
  }
  queue.shutDown();
  for (auto& waiter : waiters) {
    ASSERT_EQ(waiter.wait_for(kWait), std::future_status::ready);
    EXPECT_EQ(waiter.get(), std::nullopt);
  }

  WorkQueue draining(clock);
  draining.add("ns/a");
  draining.shutDown();
  draining.add("ns/b");  // ignored after shutdown
  EXPECT_TRUE(draining.shuttingDown());
  EXPECT_EQ(draining.get(), "ns/a");
  EXPECT_EQ(draining.get(), std::nullopt);
}

TEST(WorkQueue, AddAfterWaitsForTheClock) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.addAfter("ns/a", 10s);
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.delayed(), 1u);
  clock.waitForSleepers(1);
  clock.advance(9s);
  EXPECT_EQ(queue.depth(), 0u);  // not due yet
  clock.advance(1s);
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.delayed(), 0u);

  queue.addAfter("ns/now", 0s);  // no delay: queued at once
  EXPECT_EQ(queue.depth(), 1u);
}

TEST(WorkQueue, TheEarliestDelayWins) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.addAfter("ns/a", 10s);
  queue.addAfter("ns/a", 2s);
  queue.addAfter("ns/a", 5s);
  EXPECT_EQ(queue.delayed(), 1u);
  clock.advance(2s);
  EXPECT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.delayed(), 0u);  // the later requests were merged, not kept
}

TEST(WorkQueue, AddRateLimitedBacksOffPerKeyUntilForgotten) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.addRateLimited("ns/a");  // 5 ms
  EXPECT_EQ(queue.depth(), 0u);
  clock.advance(5ms);
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.numRequeues("ns/a"), 1);

  queue.addRateLimited("ns/a");  // 10 ms
  clock.advance(5ms);
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.delayed(), 1u);
  clock.advance(5ms);
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.numRequeues("ns/a"), 2);

  queue.forget("ns/a");
  EXPECT_EQ(queue.numRequeues("ns/a"), 0);
  queue.addRateLimited("ns/a");  // 5 ms again
  clock.advance(5ms);
  EXPECT_EQ(queue.get(), "ns/a");
}

TEST(WorkQueue, DestroyedWithDelayedKeys) {
  FakeClock clock;
  auto queue = std::make_unique<WorkQueue>(clock);
  queue->addAfter("ns/a", 1h);
  clock.waitForSleepers(1);
  fakekube::ClockPump pump(clock, 1ms);
  queue.reset();  // returns: the delay thread saw the shutdown
}

}  // namespace
}  // namespace kprof::runtime
