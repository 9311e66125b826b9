#include "tests/fake_apiserver/yaml_documents.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

namespace kprof::testing {

namespace {

bool allDigits(std::string_view text, int base) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    bool ok = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
              : base == 8 ? (c >= '0' && c <= '7')
                          : (c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::optional<nlohmann::json> asInteger(std::string_view digits, int base, bool negative) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return nlohmann::json(negative ? -value : value);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looksLikeFloat(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    ++i;
  }
  size_t whole = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    ++i;
    ++whole;
  }
  size_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
      ++fraction;
    }
  }
  if (whole == 0 && fraction == 0) {
    return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
      ++i;
    }
    size_t exponent = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
      ++exponent;
    }
    if (exponent == 0) {
      return false;
    }
  }
  return i == text.size();
}

nlohmann::json plainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  std::string_view view = text;
  bool negative = view.front() == '-';
  std::string_view unsigned_view =
      (view.front() == '-' || view.front() == '+') ? view.substr(1) : view;
  if (allDigits(unsigned_view, 10)) {
    if (auto value = asInteger(unsigned_view, 10, negative)) {
      return *value;
    }
    return std::strtod(text.c_str(), nullptr);
  }
  if (view.starts_with("0x") && allDigits(view.substr(2), 16)) {
    if (auto value = asInteger(view.substr(2), 16, false)) {
      return *value;
    }
  }
  if (view.starts_with("0o") && allDigits(view.substr(2), 8)) {
    if (auto value = asInteger(view.substr(2), 8, false)) {
      return *value;
    }
  }
  if (looksLikeFloat(view)) {
    return std::strtod(text.c_str(), nullptr);
  }
  if (unsigned_view == ".inf" || unsigned_view == ".Inf" || unsigned_view == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (view == ".nan" || view == ".NaN" || view == ".NAN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return text;
}

nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      // yaml-cpp tags plain scalars "?" and quoted ones "!".
      const std::string& tag = node.Tag();
      if (tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
          tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
        return plainScalar(node.Scalar());
      }
      return node.Scalar();
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const YAML::Node& item : node) {
        out.push_back(toJson(item));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) {
        out[entry.first.as<std::string>()] = toJson(entry.second);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text) {
  // JSON is YAML; nlohmann reads it much faster than yaml-cpp (a 10,000-pod manifest).
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_discarded()) {
      return std::vector<nlohmann::json>{std::move(parsed)};
    }
  }
  try {
    std::vector<nlohmann::json> documents;
    for (const YAML::Node& document : YAML::LoadAll(std::string(text))) {
      nlohmann::json value = toJson(document);
      if (!value.is_null()) {
        documents.push_back(std::move(value));
      }
    }
    return documents;
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, std::string("invalid YAML: ") + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::Parse, std::string("invalid YAML: ") + e.what());
  }
}

Result<std::vector<nlohmann::json>> readManifestFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(ErrorCode::Io, "cannot open " + file.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  auto documents = parseYamlDocuments(content.str());
  if (!documents) {
    return documents.error().wrap(file.string());
  }
  std::vector<nlohmann::json> objects;
  for (nlohmann::json& document : *documents) {
    if (document.is_object() && document.value("kind", "") == "List" &&
        document.contains("items") && document["items"].is_array()) {
      for (nlohmann::json& item : document["items"]) {
        objects.push_back(std::move(item));
      }
    } else {
      objects.push_back(std::move(document));
    }
  }
  return objects;
}

}  // namespace kprof::testing
