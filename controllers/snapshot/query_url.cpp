#include "controllers/snapshot/query_url.hpp"

#include <cctype>

namespace kprof::controllers {
namespace {

std::string withoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::string snapshotQueryUrl(const nlohmann::json& agent_config, std::string_view snapshot_id,
                             std::string_view embedded_store_url) {
  if (!agent_config.is_object()) return "";
  const nlohmann::json targets = agent_config.value("targets", nlohmann::json::array());
  if (!targets.is_array() || targets.empty() || !targets[0].is_object()) return "";
  const nlohmann::json& target = targets[0];
  const nlohmann::json labels = agent_config.value("labels", nlohmann::json::object());
  const std::string service =
      labels.is_object() ? labels.value("service_name", "unknown") : std::string("unknown");
  const std::string id(snapshot_id);
  if (const auto pyroscope = target.find("pyroscope");
      pyroscope != target.end() && pyroscope->is_object()) {
    const std::string url = pyroscope->value("url", "");
    if (url.empty()) return "";
    return withoutTrailingSlash(url) + "/?query=" +
           percentEncode(service + ".cpu{snapshot_id=\"" + id + "\"}");
  }
  if (const auto store = target.find("store"); store != target.end() && store->is_object()) {
    std::string url = store->value("url", "");
    if (url.empty()) url = embedded_store_url;
    if (url.empty()) return "";
    return withoutTrailingSlash(url) + "/profiles?snapshot_id=" + percentEncode(id);
  }
  if (const auto file = target.find("file"); file != target.end() && file->is_object()) {
    const std::string directory = file->value("directory", "");
    return directory.empty() ? "" : "file://" + directory;
  }
  return "";
}

}  // namespace kprof::controllers
