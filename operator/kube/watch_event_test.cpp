#include "operator/kube/watch_event.hpp"

#include <gtest/gtest.h>

namespace kprof::kube {
namespace {

TEST(WatchEventTest, ParsesEachEventType) {
  struct Case {
    const char* wire;
    WatchEventType type;
  };
  for (Case c : {Case{"ADDED", WatchEventType::Added},
                 Case{"MODIFIED", WatchEventType::Modified},
                 Case{"DELETED", WatchEventType::Deleted},
                 Case{"BOOKMARK", WatchEventType::Bookmark}}) {
    std::string line =
        std::string(R"({"type":")") + c.wire +
        R"(","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"7"}}})";
    auto event = parseWatchLine(line);
    ASSERT_TRUE(event) << event.error().toString();
    EXPECT_EQ(event->type, c.type);
    EXPECT_EQ(event->object["metadata"]["resourceVersion"], "7");
    EXPECT_EQ(watchEventTypeName(event->type), c.wire);
  }
}

TEST(WatchEventTest, ErrorEventCarriesTheStatus) {
  auto gone = parseWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
      R"j("status":"Failure","message":"too old resource version: 5 (90)","reason":"Expired",)j"
      R"("code":410}})");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::Expired);
  EXPECT_NE(gone.error().message.find("too old resource version: 5 (90)"), std::string::npos);

  auto internal = parseWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","code":500,"reason":"InternalError",)"
      R"("message":"etcd is sad"}})");
  ASSERT_FALSE(internal);
  EXPECT_EQ(internal.error().code, ErrorCode::Unavailable);
}

TEST(WatchEventTest, MalformedLinesAreParseErrors) {
  for (const char* line : {"",
                           "not json",
                           "{\"type\":\"ADDED\"",
                           "[1,2,3]",
                           "{}",
                           R"({"type":"ADDED"})",
                           R"({"type":"ADDED","object":"pod"})",
                           R"({"type":7,"object":{}})",
                           R"({"type":"RENAMED","object":{}})",
                           R"({"type":"ERROR"})"}) {
    auto event = parseWatchLine(line);
    ASSERT_FALSE(event) << line;
    EXPECT_EQ(event.error().code, ErrorCode::Parse) << line << ": " << event.error().toString();
  }
}

TEST(WatchEventTest, DeeplyNestedOrHugeLinesDoNotCrash) {
  std::string nested(100000, '[');
  auto event = parseWatchLine(nested);
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().code, ErrorCode::Parse);
  EXPECT_LT(event.error().message.size(), 300u);  // the message quotes only the start
}

}  // namespace
}  // namespace kprof::kube
