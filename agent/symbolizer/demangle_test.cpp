#include "agent/symbolizer/demangle.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(Demangle, ItaniumNames) {
  EXPECT_EQ(demangle("_ZN12kprof_target8spinWorkEi"), "kprof_target::spinWork(int)");
  EXPECT_EQ(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
            "std::vector<int, std::allocator<int> >::push_back(int const&)");
}

TEST(Demangle, PlainAndUndemangleableNamesComeBackUnchanged) {
  EXPECT_EQ(demangle("main"), "main");
  EXPECT_EQ(demangle("f"), "f");  // not "float"
  EXPECT_EQ(demangle("_Z"), "_Z");
  EXPECT_EQ(demangle("_ZN3foo"), "_ZN3foo");
  EXPECT_EQ(demangle(""), "");
  EXPECT_EQ(demangle("LazyCompile:~hot /app/main.js:3"), "LazyCompile:~hot /app/main.js:3");
}

}  // namespace
}  // namespace kprof::agent
