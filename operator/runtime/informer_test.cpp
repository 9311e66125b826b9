#include "operator/runtime/informer.hpp"

#include <condition_variable>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "operator/fakekube/clock_pump.hpp"
#include "operator/fakekube/memory_api.hpp"

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using fakekube::MemoryApi;
using fakekube::Verb;
using kube::Object;
namespace res = kube::resources;

constexpr auto kWait = 10s;  // bound on waiting for another thread

Object pod(const std::string& name, Object labels = Object::object()) {
  return {{"metadata", {{"name", name}, {"labels", std::move(labels)}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
}

// Collects the keys handlers are told about; waits re-check their condition on each one.
class KeyLog {
 public:
  ChangeHandler handler() {
    return [this](const std::string& key) {
      std::lock_guard lock(mutex_);
      ++counts_[key];
      changed_.notify_all();
    };
  }
  int count(const std::string& key) {
    std::lock_guard lock(mutex_);
    return counts_[key];
  }
  // Waits until `condition` holds; it is checked after each notification.
  template <typename Condition>
  bool waitFor(Condition condition) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] {
      lock.unlock();
      const bool done = condition();
      lock.lock();
      return done;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> counts_;
};

// For the one state without a notification (a bookmark only moves the version): looks again
// every millisecond, for at most kWait.
template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class InformerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Informer> makeInformer(InformerOptions options = {}) {
    if (options.type.resource.empty()) {
      options.type = res::kPods;
      options.ns = "ns";
    }
    options.seed = 7;
    auto informer = std::make_unique<Informer>(api_, clock_, std::move(options));
    informer->onChange(keys_.handler());
    return informer;
  }
  // Threads waiting on the fake clock see the stop at the next advance.
  static void stopWithPump(FakeClock& clock, Informer& informer) {
    fakekube::ClockPump pump(clock, 1ms);
    informer.stop();
  }
  void create(const std::string& name, Object labels = Object::object()) {
    ASSERT_TRUE(api_.create(res::kPods, "ns", pod(name, std::move(labels))));
  }

  FakeClock clock_;
  MemoryApi api_{clock_};
  KeyLog keys_;
};

TEST_F(InformerTest, InitialSyncReadsEveryPage) {
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    create(name);
  }
  ASSERT_TRUE(api_.create(res::kPods, "other", pod("elsewhere")));
  auto informer = makeInformer({.type = res::kPods, .ns = "ns", .page_size = 2});
  EXPECT_FALSE(informer->hasSynced());
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  EXPECT_EQ(api_.calls(Verb::List), 3u);  // 2 + 2 + 1
  EXPECT_EQ(informer->cache().size(), 5u);
  EXPECT_EQ(informer->cache().get("other/elsewhere"), nullptr);
  for (const char* key : {"ns/a", "ns/b", "ns/c", "ns/d", "ns/e"}) {
    EXPECT_EQ(keys_.count(key), 1) << key;
  }
  const Cache::Entry a = informer->cache().get("ns/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["kind"], "Pod");
  informer->stop();
}

TEST_F(InformerTest, ChangesFlowIntoTheCache) {
  create("a");
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));

  create("b");
  ASSERT_TRUE(api_.patch(res::kPods,
                         "ns",
                         "a",
                         kube::PatchType::Merge,
                         {{"metadata", {{"labels", {{"app", "web"}}}}}},
                         {}));
  ASSERT_TRUE(api_.remove(res::kPods, "ns", "b"));
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/b") == 2 && keys_.count("ns/a") == 2; }));
  EXPECT_EQ(informer->cache().get("ns/b"), nullptr);
  EXPECT_EQ((*informer->cache().get("ns/a"))["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(informer->cache().keysWithLabel("app", "web"), (std::vector<std::string>{"ns/a"}));
  EXPECT_EQ(informer->state().phase, InformerPhase::Watching);
  EXPECT_EQ(informer->state().resource_version, std::to_string(api_.resourceVersion()));
  informer->stop();
}

TEST_F(InformerTest, ADroppedWatchIsResumedWithoutAList) {
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  create("a");
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/a") == 1; }));

  api_.endWatches();  // the server closes the stream
  create("b");        // while no watch is open
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/b") == 1; }));
  ASSERT_TRUE(api_.waitForCalls(Verb::Watch, 2, kWait));
  EXPECT_EQ(api_.calls(Verb::List), 1u);
  EXPECT_EQ(informer->stats().lists, 1u);
  EXPECT_EQ(informer->stats().watch_failures, 0u);
  EXPECT_EQ(informer->cache().size(), 2u);
  informer->stop();
}

TEST_F(InformerTest, BookmarksMoveTheResumeVersion) {
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  ASSERT_TRUE(api_.waitForWatches(1, kWait));
  // Changes to other resources move the global version; a bookmark tells the informer.
  ASSERT_TRUE(api_.create(res::kLeases, "ns", {{"metadata", {{"name", "l"}}}}));
  api_.sendBookmarks();
  const std::string expected = std::to_string(api_.resourceVersion());
  ASSERT_TRUE(eventually([&] { return informer->state().resource_version == expected; }));
  EXPECT_EQ(informer->cache().resourceVersion(), expected);

  // The history before the bookmark goes away; resuming from the bookmark needs none of it.
  api_.compactHistory();
  api_.endWatches();
  create("a");
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/a") == 1; }));
  EXPECT_EQ(api_.calls(Verb::List), 1u);
  EXPECT_EQ(informer->stats().expired, 0u);
  informer->stop();
}

TEST_F(InformerTest, ExpiredRelistsAndReplacesTheCache) {
  create("a");
  create("b");
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  ASSERT_TRUE(api_.waitForWatches(1, kWait));

  // The connection breaks; while the informer backs off, b is deleted, c created, and the
  // history it would resume from is compacted away.
  api_.endWatches(makeError(ErrorCode::Unavailable, "connection reset"));
  clock_.waitForSleepers(1);
  ASSERT_TRUE(api_.remove(res::kPods, "ns", "b"));
  create("c");
  api_.compactHistory();
  EXPECT_EQ(informer->cache().size(), 2u);  // still the old view

  clock_.advance(1s);  // past any jittered first backoff (640–960 ms)
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/b") == 2 && keys_.count("ns/c") == 1; }));
  EXPECT_EQ(informer->cache().get("ns/b"), nullptr);  // deleted while disconnected
  EXPECT_NE(informer->cache().get("ns/c"), nullptr);
  EXPECT_EQ(keys_.count("ns/a"), 1);  // unchanged: not notified again
  EXPECT_EQ(api_.calls(Verb::List), 2u);
  EXPECT_EQ(informer->stats().expired, 1u);
  stopWithPump(clock_, *informer);
}

TEST_F(InformerTest, ErrorsBackOffOnTheClock) {
  create("a");
  api_.failNext(Verb::List, 2, makeError(ErrorCode::Unavailable, "apiserver down"));
  auto informer = makeInformer();
  informer->start();

  clock_.waitForSleepers(1);  // backing off after the first failure
  EXPECT_EQ(api_.calls(Verb::List), 1u);
  clock_.advance(600ms);  // less than the shortest first backoff (800 ms - 20 %)
  EXPECT_EQ(api_.calls(Verb::List), 1u);
  EXPECT_FALSE(informer->hasSynced());

  clock_.advance(400ms);
  ASSERT_TRUE(api_.waitForCalls(Verb::List, 2, kWait));
  clock_.waitForSleepers(1);  // second backoff: 1.28–1.92 s
  clock_.advance(1200ms);
  EXPECT_EQ(api_.calls(Verb::List), 2u);
  clock_.advance(800ms);
  ASSERT_TRUE(informer->waitForSync(kWait));
  EXPECT_EQ(api_.calls(Verb::List), 3u);
  EXPECT_EQ(informer->stats().list_failures, 2u);
  EXPECT_EQ(informer->cache().size(), 1u);
  stopWithPump(clock_, *informer);
}

TEST_F(InformerTest, WatchErrorsBackOffAndResumeFromTheLastVersion) {
  create("a");
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  ASSERT_TRUE(api_.waitForWatches(1, kWait));
  api_.failNext(Verb::Watch, 1, makeError(ErrorCode::Unavailable, "still down"));
  api_.endWatches(makeError(ErrorCode::Unavailable, "connection reset"));
  create("b");

  clock_.waitForSleepers(1);
  clock_.advance(1s);  // first retry fails (scripted), second backoff follows
  ASSERT_TRUE(api_.waitForCalls(Verb::Watch, 2, kWait));
  clock_.waitForSleepers(1);
  clock_.advance(2s);
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/b") == 1; }));
  EXPECT_EQ(api_.calls(Verb::List), 1u);  // resumed from its version, no re-list
  EXPECT_EQ(informer->stats().watch_failures, 2u);
  stopWithPump(clock_, *informer);
}

TEST_F(InformerTest, ResyncRenotifiesEveryKey) {
  create("a");
  create("b");
  auto informer = makeInformer({.type = res::kPods, .ns = "ns", .resync_period = 30s});
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/a") == 1 && keys_.count("ns/b") == 1; }));

  clock_.waitForSleepers(1);  // the resync thread; the driver is inside the watch
  clock_.advance(30s);
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/a") == 2 && keys_.count("ns/b") == 2; }));
  EXPECT_EQ(informer->stats().resyncs, 1u);
  EXPECT_EQ(api_.calls(Verb::List), 1u);  // a resync reads the cache, not the server
  stopWithPump(clock_, *informer);
}

TEST_F(InformerTest, SelectorsNarrowTheCache) {
  create("web", {{"app", "web"}});
  create("db", {{"app", "db"}});
  auto informer = makeInformer({.type = res::kPods, .ns = "ns", .label_selector = "app=web"});
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  EXPECT_EQ(informer->cache().keys(), (std::vector<std::string>{"ns/web"}));

  // Leaving the selection looks like a deletion.
  ASSERT_TRUE(api_.patch(res::kPods,
                         "ns",
                         "web",
                         kube::PatchType::Merge,
                         {{"metadata", {{"labels", {{"app", "old"}}}}}},
                         {}));
  ASSERT_TRUE(keys_.waitFor([&] { return keys_.count("ns/web") == 2; }));
  EXPECT_EQ(informer->cache().size(), 0u);
  informer->stop();
}

TEST_F(InformerTest, PodCachesCanBePruned) {
  Object big = pod("a");
  big["spec"]["volumes"] = Object::array({{{"name", "data"}}});
  big["metadata"]["managedFields"] = Object::array({{{"manager", "kubelet"}}});
  ASSERT_TRUE(api_.create(res::kPods, "ns", big));
  auto informer = makeInformer({.type = res::kPods, .ns = "ns", .transform = prunePodForCache});
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  const Cache::Entry a = informer->cache().get("ns/a");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE((*a)["spec"].contains("volumes"));
  EXPECT_FALSE((*a)["metadata"].contains("managedFields"));
  EXPECT_EQ((*a)["spec"]["containers"][0]["image"], "app:1");
  informer->stop();
}

TEST_F(InformerTest, LateHandlersHearAboutWhatIsCached) {
  create("a");
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  KeyLog late;
  informer->onChange(late.handler());
  EXPECT_EQ(late.count("ns/a"), 1);
  informer->stop();
}

TEST_F(InformerTest, StopEndsAnOpenWatchAtOnce) {
  auto informer = makeInformer();
  informer->start();
  ASSERT_TRUE(informer->waitForSync(kWait));
  ASSERT_TRUE(api_.waitForWatches(1, kWait));
  informer->stop();  // no clock movement needed: the watch honours the stop token
  EXPECT_EQ(api_.openWatches(), 0u);
  informer->stop();  // idempotent
}

}  // namespace
}  // namespace kprof::runtime
