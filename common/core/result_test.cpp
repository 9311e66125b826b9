#include "common/core/result.hpp"

#include <gtest/gtest.h>

namespace kprof {
namespace {

Result<int> parsePositive(int n) {
  if (n <= 0) {
    return fail(ErrorCode::InvalidArgument, "must be positive");
  }
  return n;
}

Result<int> doubled(int n) {
  KPROF_TRY(parsePositive(n));
  return n * 2;
}

TEST(Result, CarriesValueOrError) {
  auto good = parsePositive(3);
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 3);

  auto bad = parsePositive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().toString(), "InvalidArgument: must be positive");
  EXPECT_EQ(bad.valueOr(7), 7);
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_EQ(*doubled(4), 8);
  auto failed = doubled(0);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "must be positive");
}

TEST(Result, WrapAddsContextAndKeepsTheCode) {
  Error err{ErrorCode::Parse, "truncated varint"};
  Error wrapped = err.wrap("profile.pb.gz");
  EXPECT_EQ(wrapped.code, ErrorCode::Parse);
  EXPECT_EQ(wrapped.message, "profile.pb.gz: truncated varint");
}

TEST(Status, DefaultIsOk) {
  Status status = ok();
  EXPECT_TRUE(status);
  Status failed = fail(ErrorCode::Io, "disk full");
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::Io);
}

}  // namespace
}  // namespace kprof
