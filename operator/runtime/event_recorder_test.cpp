#include "operator/runtime/event_recorder.hpp"

#include <condition_variable>
#include <mutex>
#include <regex>

#include <gtest/gtest.h>

#include "operator/fakekube/forwarding_api.hpp"
#include "operator/fakekube/memory_api.hpp"
#include "operator/runtime/time_format.hpp"

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using fakekube::MemoryApi;
using fakekube::Verb;
using kube::Object;
namespace res = kube::resources;

constexpr auto kWait = 10s;  // bound on waiting for another thread

const Object kPod = {{"kind", "Pod"},
                     {"apiVersion", "v1"},
                     {"metadata", {{"name", "web-1"}, {"namespace", "shop"}, {"uid", "u-1"}}}};

std::vector<Object> events(MemoryApi& api, const std::string& ns) {
  auto listed = api.list(res::kEvents, ns, {});
  EXPECT_TRUE(listed);
  return listed ? listed->items : std::vector<Object>{};
}

TEST(EventRecorder, CreatesAnEventAboutTheObject) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock, {.reporting_instance = "kprof-operator-0"});
  recorder.record(kPod, EventType::Warning, "InjectionFailed", "no agent image configured");
  ASSERT_TRUE(recorder.flush(kWait));

  const auto written = events(api, "shop");
  ASSERT_EQ(written.size(), 1u);
  const Object& event = written[0];
  EXPECT_TRUE(std::regex_match(event["metadata"]["name"].get<std::string>(),
                               std::regex(R"(web-1\.[0-9a-f]{16})")))
      << event["metadata"]["name"];
  EXPECT_EQ(event["involvedObject"],
            (Object{{"kind", "Pod"},
                    {"apiVersion", "v1"},
                    {"namespace", "shop"},
                    {"name", "web-1"},
                    {"uid", "u-1"}}));
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["reason"], "InjectionFailed");
  EXPECT_EQ(event["message"], "no agent image configured");
  EXPECT_EQ(event["count"], 1);
  EXPECT_EQ(event["firstTimestamp"], formatTime(clock.wallNow()));
  EXPECT_EQ(event["lastTimestamp"], formatTime(clock.wallNow()));
  EXPECT_EQ(event["source"],
            (Object{{"component", "kprof-operator"}, {"host", "kprof-operator-0"}}));
  EXPECT_EQ(event["reportingComponent"], "kprof-operator");
  EXPECT_EQ(event["reportingInstance"], "kprof-operator-0");
  EXPECT_EQ(recorder.stats().created, 1u);
}

TEST(EventRecorder, RepeatsWithinTenMinutesCountOnOneEvent) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock);
  const std::string first = formatTime(clock.wallNow());
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  clock.advance(4min);
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  clock.advance(4min);
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));

  auto written = events(api, "shop");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["count"], 3);
  EXPECT_EQ(written[0]["firstTimestamp"], first);
  EXPECT_EQ(written[0]["lastTimestamp"], formatTime(clock.wallNow()));
  EXPECT_EQ(recorder.stats().patched, 2u);

  // Something else about the same pod is another Event.
  recorder.record(kPod, EventType::Normal, "Injected", "agent added to 2 containers");
  recorder.record(kPod, EventType::Warning, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  EXPECT_EQ(events(api, "shop").size(), 3u);

  // After more than ten quiet minutes the same event starts a new series.
  clock.advance(11min);
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  EXPECT_EQ(events(api, "shop").size(), 4u);
  EXPECT_EQ(recorder.stats().created, 4u);
}

TEST(EventRecorder, AnEventDeletedMeanwhileIsWrittenAgain) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock);
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  const std::string name = events(api, "shop").at(0)["metadata"]["name"];
  ASSERT_TRUE(api.remove(res::kEvents, "shop", name));  // the API server's event TTL
  recorder.record(kPod, EventType::Normal, "Injected", "agent added");
  ASSERT_TRUE(recorder.flush(kWait));
  const auto written = events(api, "shop");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["count"], 1);
}

TEST(EventRecorder, ClusterScopedObjectsGetEventsInDefault) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock);
  recorder.record({{"kind", "Namespace"}, {"apiVersion", "v1"}, {"metadata", {{"name", "shop"}}}},
                  EventType::Normal,
                  "Labeled",
                  "injection enabled");
  ASSERT_TRUE(recorder.flush(kWait));
  const auto written = events(api, "default");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_FALSE(written[0]["involvedObject"].contains("namespace"));
}

TEST(EventRecorder, BadInputIsDroppedAndCounted) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock);
  recorder.record({{"kind", "Pod"}, {"metadata", Object::object()}}, EventType::Normal, "R", "m");
  recorder.record(Object("not an object"), EventType::Normal, "R", "m");
  recorder.record(kPod, EventType::Normal, "Long", std::string(5000, 'x'));
  ASSERT_TRUE(recorder.flush(kWait));
  EXPECT_EQ(recorder.stats().dropped, 2u);
  const auto written = events(api, "shop");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["message"].get<std::string>().size(), 1024u);
}

// An API whose event writes wait until the test lets them through.
class GatedApi final : public fakekube::ForwardingApi {
 public:
  using ForwardingApi::ForwardingApi;
  Result<Object> create(const kube::ResourceType& type,
                        std::string_view ns,
                        const Object& object) override {
    {
      std::unique_lock lock(gate_mutex_);
      ++waiting_;
      gate_changed_.notify_all();
      gate_changed_.wait(lock, [this] { return open_; });
    }
    return ForwardingApi::create(type, ns, object);
  }
  bool waitForWriter() {
    std::unique_lock lock(gate_mutex_);
    return gate_changed_.wait_for(lock, kWait, [this] { return waiting_ > 0; });
  }
  void open() {
    std::lock_guard lock(gate_mutex_);
    open_ = true;
    gate_changed_.notify_all();
  }

 private:
  std::mutex gate_mutex_;
  std::condition_variable gate_changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(EventRecorder, RecordNeverBlocksAndDropsWhenTheQueueIsFull) {
  FakeClock clock;
  MemoryApi memory(clock);
  GatedApi api(memory);
  EventRecorder recorder(api, clock, {.queue_capacity = 2});
  recorder.record(kPod, EventType::Normal, "R", "1");  // taken by the writer, which blocks
  ASSERT_TRUE(api.waitForWriter());
  recorder.record(kPod, EventType::Normal, "R", "2");
  recorder.record(kPod, EventType::Normal, "R", "3");
  recorder.record(kPod, EventType::Normal, "R", "4");  // the queue holds two: dropped
  EXPECT_EQ(recorder.stats().dropped, 1u);
  EXPECT_EQ(recorder.stats().recorded, 3u);
  api.open();
  ASSERT_TRUE(recorder.flush(kWait));
  EXPECT_EQ(recorder.stats().created, 3u);
  EXPECT_EQ(events(memory, "shop").size(), 3u);
}

TEST(EventRecorder, FailuresAreCountedAndDoNotStopLaterEvents) {
  FakeClock clock;
  MemoryApi api(clock);
  EventRecorder recorder(api, clock);
  api.failNext(Verb::Create, 1, makeError(ErrorCode::PermissionDenied, "events is forbidden"));
  recorder.record(kPod, EventType::Normal, "R", "first");
  recorder.record(kPod, EventType::Normal, "R", "second");
  ASSERT_TRUE(recorder.flush(kWait));
  EXPECT_EQ(recorder.stats().failed, 1u);
  EXPECT_EQ(recorder.stats().created, 1u);
  EXPECT_EQ(events(api, "shop").at(0)["message"], "second");
}

TEST(EventRecorder, StopWritesWhatIsQueued) {
  FakeClock clock;
  MemoryApi api(clock);
  {
    EventRecorder recorder(api, clock);
    for (int i = 0; i < 20; ++i) {
      recorder.record(kPod, EventType::Normal, "R", "message " + std::to_string(i));
    }
    recorder.stop();
    recorder.record(kPod, EventType::Normal, "R", "too late");
    EXPECT_EQ(recorder.stats().dropped, 1u);
  }
  EXPECT_EQ(events(api, "shop").size(), 20u);
}

}  // namespace
}  // namespace kprof::runtime
