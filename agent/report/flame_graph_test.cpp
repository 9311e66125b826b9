#include "agent/report/flame_graph.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kprof::agent {
namespace {

const std::vector<WeightedStack> kStacks = {
    {{"main", "run", "hot"}, 75},
    {{"main", "run", "cold"}, 25},
    {{"main", "idle"}, 10},
};

TEST(FlameTree, SumsValuesAlongEveryPath) {
  const FlameNode root = buildFlameTree(kStacks, "all");
  EXPECT_EQ(root.total, 110);
  const FlameNode& main = *root.children.at("main");
  EXPECT_EQ(main.total, 110);
  const FlameNode& run = *main.children.at("run");
  EXPECT_EQ(run.total, 100);
  EXPECT_EQ(run.children.at("hot")->total, 75);
  EXPECT_EQ(run.children.at("cold")->total, 25);
  EXPECT_EQ(main.children.at("idle")->total, 10);
}

TEST(FlameTree, DiffKeepsBaseAndCurrentSideBySide) {
  const std::vector<WeightedStack> base = {{{"main", "run", "hot"}, 10}, {{"main", "gone"}, 5}};
  const FlameNode root = buildDiffTree(base, kStacks, "all");
  EXPECT_EQ(root.total, 110);
  EXPECT_EQ(root.base_total, 15);
  const FlameNode& main = *root.children.at("main");
  EXPECT_EQ(main.children.at("run")->children.at("hot")->base_total, 10);
  EXPECT_EQ(main.children.at("gone")->total, 0);  // only in the base: still drawn, as shrunk
  EXPECT_EQ(main.children.at("gone")->base_total, 5);
}

// The embedded data, as the page's script would read it.
nlohmann::json embeddedData(const std::string& page) {
  const std::string marker = "const ROOT = ";
  const size_t start = page.find(marker) + marker.size();
  const size_t end = page.find(";\nconst ROW", start);
  std::string data = page.substr(start, end - start);
  for (size_t pos = data.find("<\\/"); pos != std::string::npos; pos = data.find("<\\/", pos)) {
    data.replace(pos, 3, "</");
  }
  return nlohmann::json::parse(data);
}

TEST(FlameGraphHtml, IsSelfContainedAndCarriesTheTree) {
  const std::string page = renderFlameGraphHtml(buildFlameTree(kStacks, "all"), {});
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("fetch("), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);  // the browser refuses fetches
  const auto data = embeddedData(page);
  EXPECT_EQ(data["n"], "all");
  EXPECT_EQ(data["v"], 110);
  EXPECT_EQ(data["c"][0]["c"][1]["n"], "run");
}

TEST(FlameGraphHtml, HostileFunctionNamesCannotBreakOutOfTheScript) {
  const std::vector<WeightedStack> stacks = {{{"</script><script>alert(1)</script>"}, 1}};
  FlameGraphOptions options;
  options.title = "<b>title</b>";
  const std::string page = renderFlameGraphHtml(buildFlameTree(stacks, "all"), options);
  EXPECT_EQ(page.find("</script><script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<b>title</b>"), std::string::npos);
  EXPECT_EQ(embeddedData(page)["c"][0]["n"], "</script><script>alert(1)</script>");
}

TEST(FlameGraphSvg, DrawsOneFramePerVisibleNodeWithTooltips) {
  FlameGraphOptions options;
  options.unit = "samples";
  const std::string svg = renderFlameGraphSvg(buildFlameTree(kStacks, "all"), options);
  size_t frames = 0;
  for (size_t pos = svg.find("<rect x="); pos != std::string::npos;
       pos = svg.find("<rect x=", pos + 1)) {
    ++frames;
  }
  EXPECT_EQ(frames, 6u);  // all, main, run, hot, cold, idle
  EXPECT_NE(svg.find("<title>hot (75 samples, 68.18%)</title>"), std::string::npos) << svg;
  EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
}

TEST(FlameGraphSvg, LeavesOutFramesTooNarrowToSee) {
  std::vector<WeightedStack> stacks = {{{"big"}, 100000}, {{"tiny"}, 1}};
  const std::string svg = renderFlameGraphSvg(buildFlameTree(stacks, "all"), {});
  EXPECT_NE(svg.find("big"), std::string::npos);
  EXPECT_EQ(svg.find("tiny"), std::string::npos);
}

TEST(EscapeXml, EscapesMarkup) {
  EXPECT_EQ(escapeXml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

}  // namespace
}  // namespace kprof::agent
