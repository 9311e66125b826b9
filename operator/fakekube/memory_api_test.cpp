#include "operator/fakekube/memory_api.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace kprof::fakekube {
namespace {

using namespace std::chrono_literals;
using kube::Object;
using kube::WatchEventType;
namespace res = kube::resources;

constexpr auto kWait = 10s;  // bound on every wait for another thread

Object pod(const std::string& name, Object labels = Object::object()) {
  return {{"metadata", {{"name", name}, {"labels", std::move(labels)}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
}

std::string rv(const Object& object) {
  return object["metadata"]["resourceVersion"].get<std::string>();
}

// Runs one watch on its own thread and keeps what it receives.
class WatchRecorder {
 public:
  WatchRecorder(MemoryApi& api,
                kube::WatchOptions options,
                std::string ns = "ns",
                kube::ResourceType type = res::kPods) {
    thread_ = std::jthread([this, &api, options, ns, type](std::stop_token stop) mutable {
      options.stop = stop;
      Status status = api.watch(type, ns, options, [this](const kube::WatchEvent& event) {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
        changed_.notify_all();
        return true;
      });
      std::lock_guard lock(mutex_);
      result_ = status;
      finished_ = true;
      changed_.notify_all();
    });
  }

  bool waitForEvents(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return events_.size() >= count; });
  }
  // Waits for the watch call to return and gives its result.
  std::optional<Status> waitForEnd() {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, kWait, [&] { return finished_; })) {
      return std::nullopt;
    }
    return result_;
  }
  std::vector<kube::WatchEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<kube::WatchEvent> events_;
  Status result_;
  bool finished_ = false;
  std::jthread thread_;
};

TEST(MemoryApi, CreateAssignsIdentityAndVersion) {
  FakeClock clock;
  MemoryApi api(clock);
  auto created = api.create(res::kPods, "ns", pod("a"));
  ASSERT_TRUE(created) << created.error().toString();
  EXPECT_EQ((*created)["kind"], "Pod");
  EXPECT_EQ((*created)["apiVersion"], "v1");
  EXPECT_EQ((*created)["metadata"]["namespace"], "ns");
  EXPECT_EQ((*created)["metadata"]["generation"], 1);
  EXPECT_EQ((*created)["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ(rv(*created), "1");

  auto second = api.create(res::kPods, "ns", pod("b"));
  ASSERT_TRUE(second);
  EXPECT_EQ(rv(*second), "2");
  EXPECT_NE((*second)["metadata"]["uid"], (*created)["metadata"]["uid"]);

  auto read = api.get(res::kPods, "ns", "a");
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, *created);
}

TEST(MemoryApi, CreateRefusesDuplicatesAndBadRequests) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a")));
  auto duplicate = api.create(res::kPods, "ns", pod("a"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::AlreadyExists);
  EXPECT_TRUE(api.create(res::kPods, "other", pod("a")));  // names are per namespace

  Object wrong_ns = pod("b");
  wrong_ns["metadata"]["namespace"] = "elsewhere";
  EXPECT_EQ(api.create(res::kPods, "ns", wrong_ns).error().code, ErrorCode::InvalidArgument);
  Object with_rv = pod("c");
  with_rv["metadata"]["resourceVersion"] = "7";
  EXPECT_EQ(api.create(res::kPods, "ns", with_rv).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(api.create(res::kPods, "", pod("d")).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(api.create(res::kPods, "ns", Object::array()).error().code, ErrorCode::InvalidArgument);

  auto generated = api.create(res::kPods, "ns", {{"metadata", {{"generateName", "job-"}}}});
  ASSERT_TRUE(generated);
  EXPECT_EQ((*generated)["metadata"]["name"].get<std::string>().rfind("job-", 0), 0u);

  auto missing = api.get(res::kPods, "ns", "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_EQ(missing.error().message, "pods \"nope\" not found");
}

TEST(MemoryApi, ClusterScopedObjectsHaveNoNamespace) {
  MemoryApi api;
  auto created = api.create(res::kNamespaces, "", {{"metadata", {{"name", "team-a"}}}});
  ASSERT_TRUE(created);
  EXPECT_FALSE((*created)["metadata"].contains("namespace"));
  EXPECT_TRUE(api.get(res::kNamespaces, "", "team-a"));
}

TEST(MemoryApi, UpdateChecksResourceVersionAndBumpsGenerationOnSpecChanges) {
  MemoryApi api;
  Object lease = {{"metadata", {{"name", "leader"}}}, {"spec", {{"holderIdentity", "a"}}}};
  auto created = api.create(res::kLeases, "ns", lease);
  ASSERT_TRUE(created);

  Object changed = *created;
  changed["spec"]["holderIdentity"] = "b";
  auto updated = api.update(res::kLeases, "ns", changed);
  ASSERT_TRUE(updated) << updated.error().toString();
  EXPECT_EQ((*updated)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*updated)["metadata"]["generation"], 2);
  EXPECT_GT(std::stoll(rv(*updated)), std::stoll(rv(*created)));

  // The same write again carries the old version: someone else changed the object since.
  auto stale = api.update(res::kLeases, "ns", changed);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::Conflict);

  // Labels are metadata: a new version, the same generation.
  Object labeled = *updated;
  labeled["metadata"]["labels"] = {{"x", "y"}};
  auto relabeled = api.update(res::kLeases, "ns", labeled);
  ASSERT_TRUE(relabeled);
  EXPECT_EQ((*relabeled)["metadata"]["generation"], 2);

  // Writing what is stored changes nothing, not even the version.
  auto same = api.update(res::kLeases, "ns", *relabeled);
  ASSERT_TRUE(same);
  EXPECT_EQ(rv(*same), rv(*relabeled));

  // Server-managed fields survive a write that tries to change them.
  Object tampered = *same;
  tampered["metadata"]["uid"] = "forged";
  tampered["metadata"]["generation"] = 40;
  auto kept = api.update(res::kLeases, "ns", tampered);
  ASSERT_TRUE(kept);
  EXPECT_EQ((*kept)["metadata"]["uid"], (*created)["metadata"]["uid"]);
  EXPECT_EQ((*kept)["metadata"]["generation"], 2);

  Object unknown = {{"metadata", {{"name", "nobody"}}}};
  EXPECT_EQ(api.update(res::kLeases, "ns", unknown).error().code, ErrorCode::NotFound);
}

TEST(MemoryApi, StatusIsASubresource) {
  MemoryApi api;
  Object policy = {{"metadata", {{"name", "p"}}}, {"spec", {{"rate", 1}}}};
  auto created = api.create(res::kProfilingPolicies, "ns", policy);
  ASSERT_TRUE(created);

  Object with_status = *created;
  with_status["status"] = {{"observedGeneration", 1}};
  auto status_written = api.updateStatus(res::kProfilingPolicies, "ns", with_status);
  ASSERT_TRUE(status_written);
  EXPECT_EQ((*status_written)["status"]["observedGeneration"], 1);
  EXPECT_EQ((*status_written)["metadata"]["generation"], 1);

  // A main-resource write cannot change status; a status write cannot change spec.
  Object main_write = *status_written;
  main_write["status"] = {{"observedGeneration", 99}};
  main_write["spec"]["rate"] = 2;
  auto updated = api.update(res::kProfilingPolicies, "ns", main_write);
  ASSERT_TRUE(updated);
  EXPECT_EQ((*updated)["status"]["observedGeneration"], 1);
  EXPECT_EQ((*updated)["spec"]["rate"], 2);
  EXPECT_EQ((*updated)["metadata"]["generation"], 2);

  Object status_write = *updated;
  status_write["spec"]["rate"] = 3;
  status_write["status"]["observedGeneration"] = 2;
  auto status_only = api.updateStatus(res::kProfilingPolicies, "ns", status_write);
  ASSERT_TRUE(status_only);
  EXPECT_EQ((*status_only)["spec"]["rate"], 2);
  EXPECT_EQ((*status_only)["status"]["observedGeneration"], 2);

  auto patched = api.patch(res::kProfilingPolicies,
                           "ns",
                           "p",
                           kube::PatchType::Merge,
                           {{"status", {{"matchedPods", 4}}}},
                           {.subresource = "status"});
  ASSERT_TRUE(patched);
  EXPECT_EQ((*patched)["status"]["matchedPods"], 4);
  EXPECT_EQ((*patched)["status"]["observedGeneration"], 2);

  ASSERT_TRUE(api.create(res::kLeases, "ns", {{"metadata", {{"name", "l"}}}}));
  EXPECT_EQ(api.updateStatus(res::kLeases, "ns", {{"metadata", {{"name", "l"}}}}).error().code,
            ErrorCode::NotFound);
}

TEST(MemoryApi, MergeAndJsonPatches) {
  MemoryApi api;
  auto created = api.create(res::kPods, "ns", pod("a", {{"app", "web"}}));
  ASSERT_TRUE(created);

  auto merged =
      api.patch(res::kPods,
                "ns",
                "a",
                kube::PatchType::Merge,
                {{"metadata", {{"labels", {{"kprof.dev/env", "prod"}, {"app", nullptr}}}}}},
                {});
  ASSERT_TRUE(merged) << merged.error().toString();
  EXPECT_EQ((*merged)["metadata"]["labels"], (Object{{"kprof.dev/env", "prod"}}));

  // A resourceVersion in the patch is a precondition.
  auto stale =
      api.patch(res::kPods,
                "ns",
                "a",
                kube::PatchType::Merge,
                {{"metadata", {{"resourceVersion", rv(*created)}, {"labels", {{"x", "1"}}}}}},
                {});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::Conflict);

  const Object json_patch = Object::array(
      {{{"op", "add"},
        {"path", "/metadata/annotations"},
        {"value", {{"kprof.dev/injected", "true"}}}},
       {{"op", "replace"}, {"path", "/metadata/labels/kprof.dev~1env"}, {"value", "dev"}}});
  auto json_patched = api.patch(res::kPods, "ns", "a", kube::PatchType::Json, json_patch, {});
  ASSERT_TRUE(json_patched) << json_patched.error().toString();
  EXPECT_EQ((*json_patched)["metadata"]["annotations"]["kprof.dev/injected"], "true");
  EXPECT_EQ((*json_patched)["metadata"]["labels"]["kprof.dev/env"], "dev");

  const Object failing_test = Object::array(
      {{{"op", "test"}, {"path", "/metadata/labels/kprof.dev~1env"}, {"value", "prod"}}});
  EXPECT_EQ(api.patch(res::kPods, "ns", "a", kube::PatchType::Json, failing_test, {}).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(
      api.patch(res::kPods, "ns", "a", kube::PatchType::Json, Object::object(), {}).error().code,
      ErrorCode::InvalidArgument);
  EXPECT_EQ(
      api.patch(res::kPods, "ns", "b", kube::PatchType::Merge, Object::object(), {}).error().code,
      ErrorCode::NotFound);

  // Server-side apply creates a missing object.
  auto applied = api.patch(res::kPods,
                           "ns",
                           "b",
                           kube::PatchType::Apply,
                           {{"apiVersion", "v1"}, {"kind", "Pod"}, {"spec", {{"x", 1}}}},
                           {});
  ASSERT_TRUE(applied) << applied.error().toString();
  EXPECT_EQ((*applied)["metadata"]["name"], "b");
}

TEST(MemoryApi, FinalizersHoldAnObjectUntilRemoved) {
  FakeClock clock;
  MemoryApi api(clock);
  Object held = pod("a");
  held["metadata"]["finalizers"] = {"kprof.dev/cleanup"};
  ASSERT_TRUE(api.create(res::kPods, "ns", held));

  ASSERT_TRUE(api.remove(res::kPods, "ns", "a"));
  auto marked = api.get(res::kPods, "ns", "a");
  ASSERT_TRUE(marked);
  EXPECT_TRUE((*marked)["metadata"].contains("deletionTimestamp"));

  ASSERT_TRUE(api.patch(res::kPods,
                        "ns",
                        "a",
                        kube::PatchType::Merge,
                        {{"metadata", {{"finalizers", nullptr}}}},
                        {}));
  EXPECT_EQ(api.get(res::kPods, "ns", "a").error().code, ErrorCode::NotFound);
  EXPECT_EQ(api.remove(res::kPods, "ns", "a").error().code, ErrorCode::NotFound);
}

TEST(MemoryApi, ListFiltersByNamespaceAndSelectors) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a", {{"app", "web"}})));
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("b", {{"app", "db"}})));
  ASSERT_TRUE(api.create(res::kPods, "other", pod("c", {{"app", "web"}})));

  auto all = api.list(res::kPods, "", {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->items.size(), 3u);
  EXPECT_EQ(all->resource_version, "3");
  EXPECT_TRUE(all->continue_token.empty());

  auto in_ns = api.list(res::kPods, "ns", {});
  ASSERT_TRUE(in_ns);
  EXPECT_EQ(in_ns->items.size(), 2u);

  auto web = api.list(res::kPods, "", {.label_selector = "app=web"});
  ASSERT_TRUE(web);
  ASSERT_EQ(web->items.size(), 2u);
  EXPECT_EQ(web->items[0]["metadata"]["name"], "a");
  EXPECT_EQ(web->items[1]["metadata"]["name"], "c");

  auto by_name = api.list(res::kPods, "", {.field_selector = "metadata.name=b"});
  ASSERT_TRUE(by_name);
  ASSERT_EQ(by_name->items.size(), 1u);

  EXPECT_EQ(api.list(res::kPods, "", {.label_selector = "app in (web"}).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_TRUE(api.list(res::kLeases, "", {})->items.empty());
}

TEST(MemoryApi, PagesAreOneConsistentSnapshot) {
  MemoryApi api;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(api.create(res::kPods, "ns", pod(name)));
  }
  auto first = api.list(res::kPods, "ns", {.limit = 2});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->continue_token.empty());

  // Writes between pages do not show up in the remaining pages.
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("f")));
  ASSERT_TRUE(api.remove(res::kPods, "ns", "e"));

  std::vector<std::string> names;
  for (const auto& item : first->items) {
    names.push_back(item["metadata"]["name"]);
  }
  std::string token = first->continue_token;
  while (!token.empty()) {
    auto page = api.list(res::kPods, "ns", {.limit = 2, .continue_token = token});
    ASSERT_TRUE(page) << page.error().toString();
    EXPECT_EQ(page->resource_version, first->resource_version);
    for (const auto& item : page->items) {
      names.push_back(item["metadata"]["name"]);
    }
    token = page->continue_token;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));

  EXPECT_EQ(api.list(res::kPods, "ns", {.continue_token = "garbage"}).error().code,
            ErrorCode::InvalidArgument);
}

TEST(MemoryApi, ContinueTokenExpiresWithCompaction) {
  MemoryApi api;
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(api.create(res::kPods, "ns", pod(name)));
  }
  auto first = api.list(res::kPods, "ns", {.limit = 1});
  ASSERT_TRUE(first);
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("d")));
  api.compactHistory();
  auto next = api.list(res::kPods, "ns", {.limit = 1, .continue_token = first->continue_token});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, ErrorCode::Expired);
}

TEST(MemoryApi, WatchFromAVersionDeliversLaterChangesInOrder) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("before")));
  const std::string start = api.list(res::kPods, "ns", {})->resource_version;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a")));  // after the list, before the watch

  WatchRecorder watch(api, {.resource_version = start});
  ASSERT_TRUE(api.waitForWatches(1, kWait));
  ASSERT_TRUE(api.patch(res::kPods,
                        "ns",
                        "a",
                        kube::PatchType::Merge,
                        {{"metadata", {{"labels", {{"x", "1"}}}}}},
                        {}));
  ASSERT_TRUE(api.remove(res::kPods, "ns", "a"));
  ASSERT_TRUE(api.create(res::kPods, "other", pod("elsewhere")));  // another namespace

  ASSERT_TRUE(watch.waitForEvents(3));
  const auto events = watch.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEventType::Added);
  EXPECT_EQ(events[1].type, WatchEventType::Modified);
  EXPECT_EQ(events[1].object["metadata"]["labels"]["x"], "1");
  EXPECT_EQ(events[2].type, WatchEventType::Deleted);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(std::stoll(rv(events[i - 1].object)), std::stoll(rv(events[i].object)));
  }
}

TEST(MemoryApi, WatchWithoutVersionStartsWithTheCurrentObjects) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a")));
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("b")));
  WatchRecorder watch(api, {});
  ASSERT_TRUE(watch.waitForEvents(2));
  EXPECT_EQ(watch.events()[0].type, WatchEventType::Added);
  EXPECT_EQ(watch.events()[1].object["metadata"]["name"], "b");
}

TEST(MemoryApi, SelectedWatchSeesObjectsEnterAndLeaveTheSelection) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a", {{"app", "db"}})));
  WatchRecorder watch(
      api,
      {.resource_version = std::to_string(api.resourceVersion()), .label_selector = "app=web"});
  ASSERT_TRUE(api.waitForWatches(1, kWait));
  const auto relabel = [&](const char* app) {
    ASSERT_TRUE(api.patch(res::kPods,
                          "ns",
                          "a",
                          kube::PatchType::Merge,
                          {{"metadata", {{"labels", {{"app", app}}}}}},
                          {}));
  };
  relabel("web");  // enters: Added
  relabel("web");  // no change, no event
  ASSERT_TRUE(api.patch(res::kPods,
                        "ns",
                        "a",
                        kube::PatchType::Merge,
                        {{"metadata", {{"annotations", {{"n", "1"}}}}}},
                        {}));  // Modified
  relabel("db");               // leaves: Deleted
  ASSERT_TRUE(watch.waitForEvents(3));
  const auto events = watch.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEventType::Added);
  EXPECT_EQ(events[1].type, WatchEventType::Modified);
  EXPECT_EQ(events[2].type, WatchEventType::Deleted);
}

TEST(MemoryApi, WatchFromACompactedVersionIsExpired) {
  MemoryApi api;
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a")));
  const std::string old_version = std::to_string(api.resourceVersion());
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("b")));
  api.compactHistory();
  Status status =
      api.watch(res::kPods, "ns", {.resource_version = old_version}, [](const kube::WatchEvent&) {
        return true;
      });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Expired);

  EXPECT_EQ(api.watch(res::kPods,
                      "ns",
                      {.resource_version = "x1"},
                      [](const kube::WatchEvent&) { return true; })
                .error()
                .code,
            ErrorCode::InvalidArgument);
}

TEST(MemoryApi, HistoryIsBounded) {
  FakeClock clock;
  MemoryApi api(clock, {.history_limit = 3});
  ASSERT_TRUE(api.create(res::kPods, "ns", pod("a")));
  const std::string start = std::to_string(api.resourceVersion());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(api.patch(res::kPods,
                          "ns",
                          "a",
                          kube::PatchType::Merge,
                          {{"metadata", {{"labels", {{"i", std::to_string(i)}}}}}},
                          {}));
  }
  // Three changes after `start` are still held: a watch from it works.
  kube::WatchOptions options{.resource_version = start};
  std::stop_source stop;
  options.stop = stop.get_token();
  int seen = 0;
  EXPECT_TRUE(
      api.watch(res::kPods, "ns", options, [&](const kube::WatchEvent&) { return ++seen < 3; }));
  EXPECT_EQ(seen, 3);
  ASSERT_TRUE(api.remove(res::kPods, "ns", "a"));  // pushes the first of them out
  EXPECT_EQ(api.watch(res::kPods, "ns", options, [](const kube::WatchEvent&) { return true; })
                .error()
                .code,
            ErrorCode::Expired);
}

TEST(MemoryApi, OpenWatchesEndOnCommand) {
  MemoryApi api;
  {
    WatchRecorder clean(api, {.resource_version = "0"});
    ASSERT_TRUE(api.waitForWatches(1, kWait));
    api.endWatches();
    auto result = clean.waitForEnd();
    ASSERT_TRUE(result);
    EXPECT_TRUE(*result);
  }
  {
    WatchRecorder gone(api, {.resource_version = "0"});
    ASSERT_TRUE(api.waitForWatches(1, kWait));
    api.endWatches(makeError(ErrorCode::Expired, "too old resource version"));
    auto result = gone.waitForEnd();
    ASSERT_TRUE(result);
    ASSERT_FALSE(*result);
    EXPECT_EQ(result->error().code, ErrorCode::Expired);
  }
  {
    // A watcher that fell behind a compaction ends with Expired too.
    WatchRecorder behind(api, {.resource_version = "0"});
    ASSERT_TRUE(api.waitForWatches(1, kWait));
    api.compactHistory();
    api.endWatches();
    auto result = behind.waitForEnd();
    ASSERT_TRUE(result);
    EXPECT_TRUE(*result);  // it was up to date: nothing was lost, the end is clean
  }
  EXPECT_EQ(api.openWatches(), 0u);
}

TEST(MemoryApi, StopTokenEndsAWatchPromptly) {
  MemoryApi api;
  {
    WatchRecorder watch(api, {.resource_version = "0"});
    ASSERT_TRUE(api.waitForWatches(1, kWait));
  }  // the recorder's jthread requests stop and joins: this returns only if the watch ended
  EXPECT_EQ(api.openWatches(), 0u);
}

TEST(MemoryApi, BookmarksCarryTheCurrentVersion) {
  MemoryApi api;
  WatchRecorder watch(api, {.resource_version = "0"});
  ASSERT_TRUE(api.waitForWatches(1, kWait));
  ASSERT_TRUE(api.create(res::kLeases, "ns", {{"metadata", {{"name", "l"}}}}));  // another type
  api.sendBookmarks();
  ASSERT_TRUE(watch.waitForEvents(1));
  const auto event = watch.events().at(0);
  EXPECT_EQ(event.type, WatchEventType::Bookmark);
  EXPECT_EQ(event.object["metadata"]["resourceVersion"], std::to_string(api.resourceVersion()));
}

TEST(MemoryApi, StreamEndsAfterTheConfiguredNumberOfEvents) {
  MemoryApi api;
  api.setWatchEventLimit(2);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(api.create(res::kPods, "ns", pod(name)));
  }
  int seen = 0;
  EXPECT_TRUE(api.watch(res::kPods, "ns", {.resource_version = "0"}, [&](const kube::WatchEvent&) {
    return ++seen > 0;
  }));
  EXPECT_EQ(seen, 2);
}

TEST(MemoryApi, ScriptedFaultsFailTheNextCallsOfAVerb) {
  MemoryApi api;
  api.failNext(Verb::Create, 2, makeError(ErrorCode::Unavailable, "etcd down"));
  api.failNext(Verb::Get, 1, makeError(ErrorCode::Conflict, "x"), "leases");
  EXPECT_EQ(api.create(res::kPods, "ns", pod("a")).error().code, ErrorCode::Unavailable);
  EXPECT_EQ(api.create(res::kPods, "ns", pod("a")).error().code, ErrorCode::Unavailable);
  EXPECT_TRUE(api.create(res::kPods, "ns", pod("a")));
  EXPECT_EQ(api.resourceVersion(), 1);  // the failed calls changed nothing

  EXPECT_TRUE(api.get(res::kPods, "ns", "a"));  // only leases were scripted
  EXPECT_EQ(api.get(res::kLeases, "ns", "l").error().code, ErrorCode::Conflict);
  EXPECT_EQ(api.get(res::kLeases, "ns", "l").error().code, ErrorCode::NotFound);

  EXPECT_EQ(api.calls(Verb::Create), 3u);
  EXPECT_EQ(api.calls(Verb::Get), 3u);
  EXPECT_EQ(api.calls(Verb::Get, "leases"), 2u);
  EXPECT_EQ(api.calls(Verb::Remove), 0u);
}

TEST(MemoryApi, ConcurrentWritersAndAWatcherAgree) {
  MemoryApi api;
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 50;
  WatchRecorder watch(api, {.resource_version = "0"});
  ASSERT_TRUE(api.waitForWatches(1, kWait));
  {
    std::vector<std::jthread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&api, w] {
        for (int i = 0; i < kPerWriter; ++i) {
          EXPECT_TRUE(
              api.create(res::kPods, "ns", pod("p" + std::to_string(w) + "-" + std::to_string(i))));
        }
      });
    }
  }
  ASSERT_TRUE(watch.waitForEvents(kWriters * kPerWriter));
  const auto events = watch.events();
  ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kPerWriter));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(rv(events[i].object), std::to_string(i + 1));
  }
  EXPECT_EQ(api.list(res::kPods, "ns", {})->items.size(), events.size());
}

}  // namespace
}  // namespace kprof::fakekube
