#include "agent/symbolizer/demangle.hpp"

#include <cstdlib>
#include <memory>

#include <cxxabi.h>

namespace kprof::agent {

std::string demangle(std::string_view symbol) {
  // Only Itanium-mangled names: __cxa_demangle would also "demangle" plain C names such as "f"
  // as types ("float").
  if (!symbol.starts_with("_Z")) {
    return std::string(symbol);
  }
  const std::string mangled(symbol);  // __cxa_demangle needs a NUL-terminated name
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || demangled == nullptr) {
    return mangled;
  }
  return std::string(demangled.get());
}

}  // namespace kprof::agent
