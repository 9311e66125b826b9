// Flame graphs from aggregated stacks: a pure tree builder and two renderers — a self-contained
// interactive HTML page (search, click to zoom, tooltips; no network fetches) and a static SVG.
// A diff graph carries a base and a new value per node and colours by the change of share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kprof::agent {

// One stack with its value, frames root first ("main", "run", "hot_loop").
struct WeightedStack {
  std::vector<std::string> frames;
  int64_t value = 0;
};

struct FlameNode {
  std::string name;
  int64_t total = 0;       // value of this frame and everything it called
  int64_t base_total = 0;  // diff graphs only: the same in the base profile
  std::map<std::string, std::unique_ptr<FlameNode>> children;  // sorted: stable output
};

// The tree of `stacks`, under a root named `root_name`.
FlameNode buildFlameTree(const std::vector<WeightedStack>& stacks, const std::string& root_name);

// The tree of `current` with `base` folded in as base_total, for a diff graph.
FlameNode buildDiffTree(const std::vector<WeightedStack>& base,
                        const std::vector<WeightedStack>& current,
                        const std::string& root_name);

struct FlameGraphOptions {
  std::string title = "kprof flame graph";
  std::string unit = "samples";  // "nanoseconds", "bytes", ...
  bool diff = false;
};

// A complete HTML document: the tree embedded as JSON, the viewer inline.
std::string renderFlameGraphHtml(const FlameNode& root, const FlameGraphOptions& options);

// A static SVG, 1200 px wide, frames narrower than 0.1% of the root left out.
std::string renderFlameGraphSvg(const FlameNode& root, const FlameGraphOptions& options);

// Escapes &, <, >, " and ' for HTML/SVG text and attributes.
std::string escapeXml(const std::string& text);

}  // namespace kprof::agent
