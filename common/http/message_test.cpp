#include "common/http/message.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kprof::http {
namespace {

TEST(HeadersTest, LookupIgnoresCase) {
  Headers headers{{"Content-Type", "application/json"}};
  headers.add("X-Trace", "a");
  headers.add("x-trace", "b");
  EXPECT_EQ(headers.get("content-type"), "application/json");
  EXPECT_EQ(headers.get("X-TRACE"), "a");
  EXPECT_FALSE(headers.get("Accept"));
  headers.set("X-Trace", "c");
  EXPECT_EQ(headers.get("x-trace"), "c");
  EXPECT_EQ(headers.entries().size(), 2u);
  headers.remove("CONTENT-TYPE");
  EXPECT_FALSE(headers.contains("Content-Type"));
}

TEST(MessageTest, ErrorResponseIsJson) {
  Response response = errorResponse(404, "no route for GET /x \"quoted\"");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["error"], "Not Found");
  EXPECT_EQ(body["message"], "no route for GET /x \"quoted\"");
}

TEST(MessageTest, ErrorResponseSurvivesInvalidUtf8) {
  Response response = errorResponse(400, "bad \xff path");
  EXPECT_TRUE(nlohmann::json::accept(response.body));
}

TEST(MessageTest, AuthorizationValues) {
  EXPECT_EQ(bearerAuthorization("abc.def"), "Bearer abc.def");
  // RFC 7617's example.
  EXPECT_EQ(basicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basicAuthorization("a", ""), "Basic YTo=");
  EXPECT_EQ(basicAuthorization("ab", "c"), "Basic YWI6Yw==");
}

TEST(MessageTest, QueryParamLookup) {
  Request request;
  request.query = {{"version", "7"}};
  EXPECT_EQ(request.queryParam("version"), "7");
  EXPECT_FALSE(request.queryParam("watch"));
}

}  // namespace
}  // namespace kprof::http
