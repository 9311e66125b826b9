#include "agent/report/flame_graph.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/report/flame_graph_page.hpp"

namespace kprof::agent {
namespace {

void addStack(FlameNode& root, const WeightedStack& stack, bool as_base) {
  FlameNode* node = &root;
  auto add = [&](FlameNode& n) { (as_base ? n.base_total : n.total) += stack.value; };
  add(*node);
  for (const auto& frame : stack.frames) {
    auto& child = node->children[frame];
    if (!child) {
      child = std::make_unique<FlameNode>();
      child->name = frame;
    }
    node = child.get();
    add(*node);
  }
}

nlohmann::json toJson(const FlameNode& node, bool diff) {
  nlohmann::json out = {{"n", node.name}, {"v", node.total}};
  if (diff) {
    out["b"] = node.base_total;
  }
  if (!node.children.empty()) {
    auto& children = out["c"] = nlohmann::json::array();
    for (const auto& [name, child] : node.children) {
      children.push_back(toJson(*child, diff));
    }
  }
  return out;
}

// A stable warm colour per name, so the same function looks the same in every graph.
std::string warmColour(const std::string& name) {
  const auto hash = std::hash<std::string>{}(name);
  const int red = 205 + static_cast<int>(hash % 50);
  const int green = 80 + static_cast<int>((hash >> 8) % 130);
  const int blue = static_cast<int>((hash >> 16) % 55);
  char out[8];
  std::snprintf(out, sizeof(out), "#%02x%02x%02x", red, green, blue);
  return out;
}

// Red where the share grew, blue where it shrank, grey when unchanged.
std::string diffColour(double base_share, double new_share) {
  const double delta = std::clamp((new_share - base_share) * 5.0, -1.0, 1.0);
  const int strength = static_cast<int>(std::abs(delta) * 200);
  char out[8];
  if (delta >= 0) {
    std::snprintf(out, sizeof(out), "#%02x%02x%02x", 255, 230 - strength, 230 - strength);
  } else {
    std::snprintf(out, sizeof(out), "#%02x%02x%02x", 230 - strength, 230 - strength, 255);
  }
  return out;
}

std::string formatShare(double share) {
  char out[16];
  std::snprintf(out, sizeof(out), "%.2f%%", share * 100);
  return out;
}

}  // namespace

FlameNode buildFlameTree(const std::vector<WeightedStack>& stacks, const std::string& root_name) {
  FlameNode root;
  root.name = root_name;
  for (const auto& stack : stacks) {
    addStack(root, stack, false);
  }
  return root;
}

FlameNode buildDiffTree(const std::vector<WeightedStack>& base,
                        const std::vector<WeightedStack>& current,
                        const std::string& root_name) {
  FlameNode root;
  root.name = root_name;
  for (const auto& stack : current) {
    addStack(root, stack, false);
  }
  for (const auto& stack : base) {
    addStack(root, stack, true);
  }
  return root;
}

std::string escapeXml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string renderFlameGraphHtml(const FlameNode& root, const FlameGraphOptions& options) {
  std::string data = toJson(root, options.diff).dump();
  // The data sits inside <script>: a "</" in a function name must not end the element.
  for (size_t pos = data.find("</"); pos != std::string::npos; pos = data.find("</", pos + 3)) {
    data.replace(pos, 2, "<\\/");
  }
  const nlohmann::json meta = {
      {"title", options.title}, {"unit", options.unit}, {"diff", options.diff}};
  std::string meta_text = meta.dump();
  for (size_t pos = meta_text.find("</"); pos != std::string::npos;
       pos = meta_text.find("</", pos + 3)) {
    meta_text.replace(pos, 2, "<\\/");
  }
  std::string page(kFlameGraphPage);
  auto substitute = [&](const std::string& marker, const std::string& value) {
    const size_t pos = page.find(marker);
    if (pos != std::string::npos) {
      page.replace(pos, marker.size(), value);
    }
  };
  substitute("@TITLE@", escapeXml(options.title));
  substitute("@META@", meta_text);
  substitute("@DATA@", data);
  return page;
}

std::string renderFlameGraphSvg(const FlameNode& root, const FlameGraphOptions& options) {
  constexpr double kWidth = 1200;
  constexpr double kRowHeight = 16;
  constexpr double kTop = 30;
  constexpr double kMinShare = 0.001;
  const double total = std::max<int64_t>(root.total, 1);
  const double base_total = std::max<int64_t>(root.base_total, 1);

  std::ostringstream body;
  int max_depth = 0;
  std::function<void(const FlameNode&, double, int)> draw =
      [&](const FlameNode& node, double x, int depth) {
        const double share = static_cast<double>(node.total) / total;
        const double width = share * kWidth;
        max_depth = std::max(max_depth, depth);
        const double y = kTop + depth * kRowHeight;
        std::string tooltip = node.name + " (" + std::to_string(node.total) + " " + options.unit +
                              ", " + formatShare(share) + ")";
        std::string colour = warmColour(node.name);
        if (options.diff) {
          const double base_share = static_cast<double>(node.base_total) / base_total;
          tooltip += ", base " + formatShare(base_share);
          colour = diffColour(base_share, share);
        }
        body << "<g><title>" << escapeXml(tooltip) << "</title><rect x=\"" << x << "\" y=\"" << y
             << "\" width=\"" << width << "\" height=\"" << (kRowHeight - 1) << "\" fill=\""
             << colour << "\" rx=\"2\"/>";
        // About 7 px per character at 12 px: show as much of the name as fits.
        const auto fits = static_cast<size_t>(std::max(0.0, (width - 6) / 7));
        if (fits >= 3) {
          std::string label =
              node.name.size() > fits ? node.name.substr(0, fits - 2) + ".." : node.name;
          body << "<text x=\"" << (x + 3) << "\" y=\"" << (y + 12) << "\">" << escapeXml(label)
               << "</text>";
        }
        body << "</g>\n";
        double child_x = x;
        for (const auto& [name, child] : node.children) {
          if (static_cast<double>(child->total) / total >= kMinShare) {
            draw(*child, child_x, depth + 1);
          }
          child_x += static_cast<double>(child->total) / total * kWidth;
        }
      };
  draw(root, 0, 0);

  const double height = kTop + (max_depth + 1) * kRowHeight + 10;
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" standalone=\"no\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << kWidth
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << kWidth << " " << height
      << "\" font-family=\"monospace\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"16\">"
      << escapeXml(options.title) << "</text>\n"
      << body.str() << "</svg>\n";
  return svg.str();
}

}  // namespace kprof::agent
