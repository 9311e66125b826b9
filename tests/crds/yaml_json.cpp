#include "tests/crds/yaml_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include <yaml-cpp/yaml.h>

namespace kprof::testing {
namespace {

bool allOf(std::string_view text, bool (*accept)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), accept);
}
bool isDecimalDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isOctalDigit(char c) {
  return c >= '0' && c <= '7';
}
bool isHexDigit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::string_view withoutSign(std::string_view text) {
  return !text.empty() && (text.front() == '-' || text.front() == '+') ? text.substr(1) : text;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool isFloat(std::string_view text) {
  std::string_view rest = withoutSign(text);
  const size_t exponent = rest.find_first_of("eE");
  std::string_view mantissa = rest.substr(0, exponent);
  const size_t dot = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : mantissa.substr(dot + 1);
  const bool mantissa_ok = dot == std::string_view::npos
                               ? allOf(whole, isDecimalDigit)
                               : (whole.empty() || allOf(whole, isDecimalDigit)) &&
                                     (fraction.empty() || allOf(fraction, isDecimalDigit)) &&
                                     !(whole.empty() && fraction.empty());
  if (!mantissa_ok) {
    return false;
  }
  return exponent == std::string_view::npos ||
         allOf(withoutSign(rest.substr(exponent + 1)), isDecimalDigit);
}

nlohmann::json integer(std::string_view digits, int base, bool negative) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error != std::errc() || end != digits.data() + digits.size()) {
    return std::stod(std::string(digits));  // out of int64 range: keep it as a number
  }
  return negative ? -value : value;
}

// A plain (unquoted) scalar under the YAML 1.2 core schema.
nlohmann::json resolvePlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  const std::string_view unsigned_text = withoutSign(text);
  if (allOf(unsigned_text, isDecimalDigit)) {
    return integer(unsigned_text, 10, text.front() == '-');
  }
  const std::string_view view = text;
  if (view.starts_with("0o") && allOf(view.substr(2), isOctalDigit)) {
    return integer(view.substr(2), 8, false);
  }
  if (view.starts_with("0x") && allOf(view.substr(2), isHexDigit)) {
    return integer(view.substr(2), 16, false);
  }
  if (isFloat(text)) {
    return std::stod(text);
  }
  if (unsigned_text == ".inf" || unsigned_text == ".Inf" || unsigned_text == ".INF") {
    return text.front() == '-' ? -std::numeric_limits<double>::infinity()
                               : std::numeric_limits<double>::infinity();
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") {
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
      // "?" marks a plain scalar; quoted and block scalars ("!") and !!str are strings.
      const std::string& tag = node.Tag();
      if (tag == "?") {
        return resolvePlainScalar(node.Scalar());
      }
      if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
          tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
        return resolvePlainScalar(node.Scalar());
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

Result<std::vector<nlohmann::json>> loadYamlDocuments(const std::filesystem::path& file) {
  try {
    std::vector<nlohmann::json> documents;
    for (const YAML::Node& document : YAML::LoadAllFromFile(file.string())) {
      documents.push_back(toJson(document));
    }
    return documents;
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, file.string() + ": " + e.what());
  }
}

}  // namespace kprof::testing
