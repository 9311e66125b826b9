// The name rules of Kubernetes (apimachinery validation) and Prometheus that policy fields follow.
#pragma once

#include <string_view>

namespace kprof::controllers {

// A label value: at most 63 characters, alphanumerics with - _ . inside; may be empty.
bool isLabelValue(std::string_view value);
// A label or annotation key: an optional DNS-subdomain prefix and "/", then a name of at most 63
// characters that would be a non-empty label value ("app.kubernetes.io/name", "tier").
bool isLabelKey(std::string_view key);
// An RFC 1123 label: at most 63 lowercase alphanumerics and '-', alphanumeric at both ends.
bool isDnsLabel(std::string_view name);
// An RFC 1123 subdomain: dot-separated DNS labels, at most 253 characters.
bool isDnsSubdomain(std::string_view name);
// A Secret data key: at most 253 of alphanumerics, '-', '_' and '.'.
bool isSecretKey(std::string_view key);
// A Prometheus/Pyroscope label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool isProfileLabelName(std::string_view name);

}  // namespace kprof::controllers
