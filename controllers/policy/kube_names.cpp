#include "controllers/policy/kube_names.hpp"

#include <algorithm>
#include <cctype>

namespace kprof::controllers {
namespace {

bool isAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

bool isLabelValue(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  if (value.size() > 63 || !isAlnum(value.front()) || !isAlnum(value.back())) {
    return false;
  }
  return std::ranges::all_of(value,
                             [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool isLabelKey(std::string_view key) {
  const size_t slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string_view::npos) {
    if (!isDnsSubdomain(key.substr(0, slash))) {
      return false;
    }
    name = key.substr(slash + 1);
  }
  return !name.empty() && isLabelValue(name);
}

bool isDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63 || !isLowerAlnum(name.front()) ||
      !isLowerAlnum(name.back())) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool isDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot - start);
    if (!isDnsLabel(part)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool isSecretKey(std::string_view key) {
  if (key.empty() || key.size() > 253) {
    return false;
  }
  return std::ranges::all_of(key,
                             [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool isProfileLabelName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return isAlnum(c) || c == '_'; });
}

}  // namespace kprof::controllers
