// libFuzzer target: arbitrary text as /proc/<pid>/maps, and as perf-map and kallsyms text, which
// come from the same kind of untrusted, line-oriented source.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/symbolizer/kallsyms.hpp"
#include "agent/symbolizer/perf_map.hpp"
#include "agent/symbolizer/proc_maps.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto maps = kprof::agent::parseProcMaps(text);
  for (const auto& mapping : maps.mappings) {
    // Every parsed mapping must be findable by its own start address.
    if (kprof::agent::findMapping(maps.mappings, mapping.start) == nullptr) {
      __builtin_trap();
    }
    (void)mapping.isFile();
    (void)mapping.isAnonymous();
  }
  const auto perfMap = kprof::agent::parsePerfMap(text);
  kprof::agent::SymbolTableBuilder builder;
  for (const auto& entry : perfMap.entries) {
    builder.add(entry.start, entry.size, entry.name);
  }
  const auto table = std::move(builder).build();
  for (const auto& entry : perfMap.entries) {
    (void)table.lookup(entry.start);
  }
  if (auto kernel = kprof::agent::KernelSymbols::fromText(std::string(text))) {
    const uint64_t probes[] = {0, 0xffffffff81000000, UINT64_MAX};
    (void)kernel->loadNames(probes);
    for (const uint64_t address : probes) {
      (void)kernel->lookup(address);
    }
  }
  return 0;
}
