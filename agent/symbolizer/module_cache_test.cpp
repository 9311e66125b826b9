#include "agent/symbolizer/module_cache.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

std::shared_ptr<const ModuleSymbols> moduleWithSymbols(size_t count, std::string buildId = "") {
  SymbolTableBuilder builder;
  for (size_t i = 0; i < count; ++i) {
    builder.add(i * 16, 16, "function_" + std::to_string(i));
  }
  auto module = std::make_shared<ModuleSymbols>();
  module->symbols = std::move(builder).build();
  module->buildId = std::move(buildId);
  return module;
}

TEST(ModuleCache, FindsAModuleByAnyOfItsKeys) {
  ModuleCache cache(1 << 20, 10);
  auto module = moduleWithSymbols(3, "abcd");
  cache.insert({"file:1:2:3:4", "build-id:abcd"}, module);
  EXPECT_EQ(cache.find("file:1:2:3:4"), module);
  EXPECT_EQ(cache.find("build-id:abcd"), module);
  EXPECT_EQ(cache.find("file:9:9:9:9"), nullptr);
  // The same binary seen in another container: a new file identity aliases the loaded module.
  EXPECT_TRUE(cache.addAlias("build-id:abcd", "file:5:6:7:8"));
  EXPECT_EQ(cache.find("file:5:6:7:8"), module);
  EXPECT_FALSE(cache.addAlias("build-id:none", "file:0:0:0:0"));
  EXPECT_EQ(cache.moduleCount(), 1u);
}

TEST(ModuleCache, EvictsTheLeastRecentlyUsedModuleOverTheModuleCap) {
  ModuleCache cache(1 << 20, 2);
  cache.insert({"a"}, moduleWithSymbols(1));
  cache.insert({"b"}, moduleWithSymbols(1));
  ASSERT_NE(cache.find("a"), nullptr);  // a is now more recent than b
  cache.insert({"c", "c-alias"}, moduleWithSymbols(1));
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("c-alias"), nullptr);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.moduleCount(), 2u);
}

TEST(ModuleCache, StaysWithinTheByteBudgetButKeepsTheNewestModule) {
  const size_t oneModule = moduleWithSymbols(1000)->memoryBytes();
  ModuleCache cache(oneModule * 2 + oneModule / 2, 100);
  for (int i = 0; i < 10; ++i) {
    cache.insert({"m" + std::to_string(i)}, moduleWithSymbols(1000));
    EXPECT_LE(cache.bytes(), oneModule * 2 + oneModule / 2);
  }
  EXPECT_EQ(cache.moduleCount(), 2u);
  EXPECT_NE(cache.find("m9"), nullptr);

  ModuleCache tiny(10, 100);
  tiny.insert({"big"}, moduleWithSymbols(1000));
  EXPECT_NE(tiny.find("big"), nullptr);
  tiny.insert({"bigger"}, moduleWithSymbols(2000));
  EXPECT_EQ(tiny.find("big"), nullptr);
  EXPECT_EQ(tiny.moduleCount(), 1u);
}

TEST(ModuleCache, ReinsertingAKeyReplacesAndFreesTheOldModule) {
  ModuleCache cache(1 << 20, 10);
  cache.insert({"k"}, moduleWithSymbols(10));
  const auto replacement = moduleWithSymbols(20);
  cache.insert({"k"}, replacement);
  EXPECT_EQ(cache.find("k"), replacement);
  EXPECT_EQ(cache.moduleCount(), 1u);
  EXPECT_EQ(cache.bytes(), replacement->memoryBytes());
}

}  // namespace
}  // namespace kprof::agent
