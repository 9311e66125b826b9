// C++ (Itanium ABI) demangling with a fallback to the raw name.
#pragma once

#include <string>
#include <string_view>

namespace kprof::agent {

// "_ZN5kprof4mainEv" → "kprof::main()". Names that are not mangled, or that the runtime cannot
// demangle, come back unchanged.
std::string demangle(std::string_view symbol);

}  // namespace kprof::agent
