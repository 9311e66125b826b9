#include "operator/kube/status_error.hpp"

#include <gtest/gtest.h>

namespace kprof::kube {
namespace {

using namespace std::chrono_literals;

std::string statusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"status", "Failure"},
                        {"code", code},
                        {"reason", reason},
                        {"message", message}}
      .dump();
}

struct Case {
  int status;
  std::string reason;
  ErrorCode expected;
};

class StatusTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(StatusTableTest, MapsStatusAndReasonToErrorCode) {
  const Case& c = GetParam();
  Error error = decodeErrorResponse(c.status, {}, statusBody(c.status, c.reason, "the message"));
  EXPECT_EQ(error.code, c.expected) << c.status << " " << c.reason << ": " << error.toString();
  EXPECT_EQ(error.message, "the message (" + c.reason + ")");
}

INSTANTIATE_TEST_SUITE_P(
    ApiHppMapping,
    StatusTableTest,
    ::testing::Values(Case{400, "BadRequest", ErrorCode::InvalidArgument},
                      Case{401, "Unauthorized", ErrorCode::Unauthenticated},
                      Case{403, "Forbidden", ErrorCode::PermissionDenied},
                      Case{404, "NotFound", ErrorCode::NotFound},
                      Case{405, "MethodNotAllowed", ErrorCode::InvalidArgument},
                      Case{409, "AlreadyExists", ErrorCode::AlreadyExists},
                      Case{409, "Conflict", ErrorCode::Conflict},
                      Case{410, "Gone", ErrorCode::Expired},
                      Case{410, "Expired", ErrorCode::Expired},
                      Case{413, "RequestEntityTooLarge", ErrorCode::ResourceExhausted},
                      Case{415, "UnsupportedMediaType", ErrorCode::InvalidArgument},
                      Case{422, "Invalid", ErrorCode::InvalidArgument},
                      Case{429, "TooManyRequests", ErrorCode::ResourceExhausted},
                      Case{500, "InternalError", ErrorCode::Unavailable},
                      Case{503, "ServiceUnavailable", ErrorCode::Unavailable},
                      Case{504, "Timeout", ErrorCode::Timeout}));

TEST(StatusErrorTest, KeepsTheServerMessageAndReason) {
  Error error = decodeErrorResponse(404, {}, statusBody(404, "NotFound", "pods \"x\" not found"));
  EXPECT_EQ(error.code, ErrorCode::NotFound);
  EXPECT_EQ(error.message, "pods \"x\" not found (NotFound)");
}

TEST(StatusErrorTest, ConflictOnAStaleVersionIsNotAlreadyExists) {
  Error error = decodeErrorResponse(
      409,
      {},
      statusBody(409,
                 "Conflict",
                 "Operation cannot be fulfilled on leases \"kprof\": the object has been "
                 "modified; please apply your changes to the latest version and try again"));
  EXPECT_EQ(error.code, ErrorCode::Conflict);
  EXPECT_NE(error.message.find("the object has been modified"), std::string::npos);
  // A 409 without any Status body is a conflict too.
  EXPECT_EQ(decodeErrorResponse(409, {}, "").code, ErrorCode::Conflict);
}

TEST(StatusErrorTest, RetryAfterHeaderInSeconds) {
  http::Headers headers{{"Retry-After", " 7 "}};
  Error error = decodeErrorResponse(429, headers, statusBody(429, "TooManyRequests", "slow down"));
  EXPECT_EQ(error.code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(error.retry_after, 7s);
}

TEST(StatusErrorTest, RetryAfterFromStatusDetails) {
  nlohmann::json body = nlohmann::json::parse(statusBody(429, "TooManyRequests", "slow down"));
  body["details"] = {{"retryAfterSeconds", 3}};
  EXPECT_EQ(decodeErrorResponse(429, {}, body.dump()).retry_after, 3s);
  // The header wins over the body.
  EXPECT_EQ(decodeErrorResponse(429, {{"retry-after", "5"}}, body.dump()).retry_after, 5s);
  // And a 503 that says when to come back is honoured as well.
  Error unavailable = decodeErrorResponse(503, {{"Retry-After", "2"}}, "");
  EXPECT_EQ(unavailable.code, ErrorCode::Unavailable);
  EXPECT_EQ(unavailable.retry_after, 2s);
}

TEST(StatusErrorTest, UnusableRetryAfterIsIgnoredAndHugeOnesCapped) {
  EXPECT_EQ(
      decodeErrorResponse(429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, "").retry_after,
      0s);
  EXPECT_EQ(decodeErrorResponse(429, {{"Retry-After", "-4"}}, "").retry_after, 0s);
  EXPECT_EQ(decodeErrorResponse(429, {{"Retry-After", "99999999"}}, "").retry_after, 1h);
}

TEST(StatusErrorTest, BodiesThatAreNotAStatusStillGiveAUsefulMessage) {
  Error proxy = decodeErrorResponse(502, {}, "<html>\n<body>Bad Gateway</body>\n</html>");
  EXPECT_EQ(proxy.code, ErrorCode::Unavailable);
  EXPECT_EQ(proxy.message, "HTTP 502 Bad Gateway: <html> <body>Bad Gateway</body> </html>");

  Error empty = decodeErrorResponse(403, {}, "");
  EXPECT_EQ(empty.code, ErrorCode::PermissionDenied);
  EXPECT_EQ(empty.message, "HTTP 403 Forbidden");

  Error truncated = decodeErrorResponse(500, {}, std::string(1000, 'x'));
  EXPECT_LT(truncated.message.size(), 300u);
  EXPECT_EQ(truncated.message.substr(truncated.message.size() - 3), "...");

  // JSON that is not a Status (an array) is shown as text too.
  EXPECT_EQ(decodeErrorResponse(400, {}, "[1,2]").message, "HTTP 400 Bad Request: [1,2]");
}

TEST(StatusErrorTest, StatusWithOnlyAReason) {
  Error error = decodeErrorResponse(
      403, {}, R"({"kind":"Status","status":"Failure","reason":"Forbidden","code":403})");
  EXPECT_EQ(error.code, ErrorCode::PermissionDenied);
  EXPECT_EQ(error.message, "Forbidden (HTTP 403 Forbidden)");
}

TEST(StatusErrorTest, OtherStatusesAreNotMistakenForRetriableOnes) {
  EXPECT_EQ(decodeErrorResponse(418, {}, "").code, ErrorCode::InvalidArgument);
  EXPECT_EQ(decodeErrorResponse(302, {}, "").code, ErrorCode::Internal);
  EXPECT_EQ(decodeErrorResponse(408, {}, "").code, ErrorCode::Timeout);
}

TEST(ErrorFromStatusTest, UsesTheCodeField) {
  Error expired = errorFromStatus(nlohmann::json::parse(
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
          "message":"too old resource version: 1 (42)","reason":"Expired","code":410})j"));
  EXPECT_EQ(expired.code, ErrorCode::Expired);
  EXPECT_EQ(expired.message, "too old resource version: 1 (42) (Expired)");
}

TEST(ErrorFromStatusTest, WithoutACodeTheReasonDecides) {
  EXPECT_EQ(errorFromStatus({{"reason", "Gone"}, {"message", "x"}}).code, ErrorCode::Expired);
  EXPECT_EQ(errorFromStatus({{"reason", "Forbidden"}}).code, ErrorCode::PermissionDenied);
  EXPECT_EQ(errorFromStatus({{"reason", "InternalError"}}).code, ErrorCode::Unavailable);
  EXPECT_EQ(errorFromStatus({{"message", "mystery"}}).code, ErrorCode::Internal);
  EXPECT_EQ(errorFromStatus(nlohmann::json::array()).code, ErrorCode::Internal);
  // A code of the wrong type is ignored rather than thrown on.
  EXPECT_EQ(errorFromStatus({{"code", "410"}, {"reason", "Expired"}}).code, ErrorCode::Expired);
}

}  // namespace
}  // namespace kprof::kube
