#include "operator/kube/list_all.hpp"

#include <deque>

#include <gtest/gtest.h>

namespace kprof::kube {
namespace {

// An Api whose list() answers from a script and records what it was asked.
class ScriptedLister : public Api {
 public:
  std::deque<Result<ObjectList>> answers;
  std::vector<ListOptions> calls;

  Result<ObjectList> list(const ResourceType&, std::string_view, const ListOptions& o) override {
    calls.push_back(o);
    if (answers.empty()) {
      return fail(ErrorCode::Internal, "unscripted list call");
    }
    auto next = std::move(answers.front());
    answers.pop_front();
    return next;
  }
  Result<Object> get(const ResourceType&, std::string_view, std::string_view) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Status watch(const ResourceType&,
               std::string_view,
               const WatchOptions&,
               const WatchHandler&) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Result<Object> create(const ResourceType&, std::string_view, const Object&) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Result<Object> update(const ResourceType&, std::string_view, const Object&) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Result<Object> updateStatus(const ResourceType&, std::string_view, const Object&) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Result<Object> patch(const ResourceType&,
                       std::string_view,
                       std::string_view,
                       PatchType,
                       const Object&,
                       const PatchOptions&) override {
    return fail(ErrorCode::Internal, "unused");
  }
  Status remove(const ResourceType&, std::string_view, std::string_view) override {
    return fail(ErrorCode::Internal, "unused");
  }
};

Object named(const std::string& name) {
  return {{"metadata", {{"name", name}}}};
}

TEST(ListAllTest, FollowsContinueTokens) {
  ScriptedLister api;
  api.answers.push_back(ObjectList{{named("a"), named("b")}, "10", "page2"});
  api.answers.push_back(ObjectList{{named("c")}, "10", "page3"});
  api.answers.push_back(ObjectList{{named("d")}, "10", ""});
  auto all = listAll(
      api, resources::kPods, "web", {.label_selector = "app=x", .resource_version = "5"}, 2);
  ASSERT_TRUE(all) << all.error().toString();
  ASSERT_EQ(all->items.size(), 4u);
  EXPECT_EQ(all->items[3]["metadata"]["name"], "d");
  EXPECT_EQ(all->resource_version, "10");
  EXPECT_EQ(all->continue_token, "");
  ASSERT_EQ(api.calls.size(), 3u);
  EXPECT_EQ(api.calls[0].limit, 2);
  EXPECT_EQ(api.calls[0].continue_token, "");
  EXPECT_EQ(api.calls[0].resource_version, "5");
  EXPECT_EQ(api.calls[1].continue_token, "page2");
  EXPECT_EQ(api.calls[1].resource_version, "");  // the token pins the snapshot
  EXPECT_EQ(api.calls[2].continue_token, "page3");
  EXPECT_EQ(api.calls[2].label_selector, "app=x");
}

TEST(ListAllTest, ExpiredContinueTokenFallsBackToOneFullList) {
  ScriptedLister api;
  api.answers.push_back(ObjectList{{named("a")}, "10", "page2"});
  api.answers.push_back(fail(ErrorCode::Expired, "continue token expired"));
  api.answers.push_back(ObjectList{{named("a"), named("b"), named("c")}, "20", ""});
  auto all = listAll(api, resources::kPods, "", {}, 1);
  ASSERT_TRUE(all) << all.error().toString();
  EXPECT_EQ(all->items.size(), 3u);  // only the full list, no duplicates from the first page
  EXPECT_EQ(all->resource_version, "20");
  ASSERT_EQ(api.calls.size(), 3u);
  EXPECT_EQ(api.calls[2].limit, 0);
  EXPECT_EQ(api.calls[2].continue_token, "");
}

TEST(ListAllTest, ErrorsOnTheFirstPageAreReturned) {
  ScriptedLister api;
  api.answers.push_back(fail(ErrorCode::Expired, "too old resource version"));
  auto all = listAll(api, resources::kPods, "", {.resource_version = "1"});
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, ErrorCode::Expired);
  EXPECT_EQ(api.calls.size(), 1u);
}

TEST(ListAllTest, RepeatedContinueTokenStopsInsteadOfLooping) {
  ScriptedLister api;
  for (int i = 0; i < 5; ++i) {
    api.answers.push_back(ObjectList{{named("a")}, "1", "same"});
  }
  auto all = listAll(api, resources::kPods, "", {}, 1);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, ErrorCode::Internal);
  EXPECT_EQ(api.calls.size(), 2u);
}

TEST(ListAllTest, ZeroPageSizeIsOneUnpagedRequest) {
  ScriptedLister api;
  api.answers.push_back(ObjectList{{named("a")}, "3", ""});
  auto all = listAll(api, resources::kNamespaces, "", {.limit = 7}, 0);
  ASSERT_TRUE(all);
  EXPECT_EQ(api.calls.at(0).limit, 0);
}

}  // namespace
}  // namespace kprof::kube
