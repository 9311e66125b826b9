#include "common/core/base64.hpp"

#include <gtest/gtest.h>

namespace kprof {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode("user:pa ss"), "dXNlcjpwYSBzcw==");
}

TEST(Base64, DecodesWhatItEncodesAndRejectsGarbage) {
  const std::string bytes("\x00\xff\x10kprof\n", 9);
  EXPECT_EQ(*base64Decode(base64Encode(bytes)), bytes);
  EXPECT_EQ(*base64Decode("Zm9v\nYmFy"), "foobar");
  EXPECT_FALSE(base64Decode("Zm9v!"));
  EXPECT_FALSE(base64Decode("Zg==Zg=="));
  EXPECT_FALSE(base64Decode("Z"));
}

}  // namespace
}  // namespace kprof
