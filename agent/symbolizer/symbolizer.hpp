// Symbolizer: turns the raw addresses of a process's stacks into function names. The pipeline's
// "symbolize" stage: sampler → Symbolizer → profile builder.
//
// For each address it finds the mapping in /proc/<pid>/maps, then
//   - file-backed code: opens the file through /proc/<pid>/root (so container binaries resolve in
//     their own mount namespace), translates the address to an ELF virtual address through the
//     PT_LOAD segments and looks it up in .symtab/.dynsym or a separate debug file;
//   - anonymous executable memory: the process's perf map (/tmp/perf-<pid>.map) for JIT code;
//   - [vdso]: the agent's own vDSO image, which every process on the kernel shares;
//   - kernel addresses: /proc/kallsyms when the kernel shows addresses.
// Frames that cannot be named keep mapping, file offset and build id, so a server can symbolize
// them later. Loaded modules are cached by build id (or file identity) within a memory budget.
// Kernel symbols are read once, on the first kernel address. Safe to call from several threads:
// calls are serialized by one mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/symbolizer/kallsyms.hpp"
#include "agent/symbolizer/module_cache.hpp"
#include "agent/symbolizer/perf_map.hpp"
#include "agent/symbolizer/proc_maps.hpp"
#include "agent/symbolizer/symbol_table.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct SymbolizerOptions {
  // Where /proc is; tests hand in a fake tree with <pid>/maps and <pid>/root/.
  std::string procRoot = "/proc";
  // Host directories also searched for debug files after the target's own root, e.g. "/".
  std::vector<std::string> extraDebugRoots;
  uint64_t maxElfFileBytes = uint64_t{1} << 30;  // larger files are refused, not mapped
  size_t moduleCacheBytes = size_t{128} << 20;
  size_t moduleCacheModules = 512;
  size_t maxPerfMapEntries = size_t{1} << 20;  // per process
  size_t maxPerfMapBytes = size_t{256} << 20;  // per process; the rest of the file is ignored
  size_t perfMapProcesses = 64;                // perf maps kept, least recently used dropped
  size_t maxMapsBytes = size_t{16} << 20;
  size_t maxKallsymsBytes = size_t{64} << 20;
};

enum class FrameKind { Native, Jit, Kernel };

// A mapping that frames of one symbolize call refer to; the shape of a pprof Mapping.
struct FrameMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t fileOffset = 0;
  std::string path;     // as the process sees it; "[vdso]", "[kernel.kallsyms]", "" (anonymous)
  std::string buildId;  // lowercase hex; empty when unknown
  bool deleted = false;
};

struct Frame {
  uint64_t address = 0;  // as given
  FrameKind kind = FrameKind::Native;
  bool resolved = false;
  std::string function;         // demangled; empty when unresolved
  uint64_t functionOffset = 0;  // address - start of the function, when resolved
  // Index into Symbolization::mappings; empty when no mapping contains the address.
  std::optional<size_t> mappingIndex;
  uint64_t moduleOffset = 0;  // offset in the mapped file: address - start + fileOffset
  // Link-time virtual address, what addr2line or a symbol server takes, when the ELF file was read.
  std::optional<uint64_t> elfAddress;
};

struct Symbolization {
  std::vector<FrameMapping> mappings;  // only those the frames refer to
  std::vector<Frame> frames;           // one per input address, in input order

  const FrameMapping* mappingOf(const Frame& frame) const {
    return frame.mappingIndex ? &mappings[*frame.mappingIndex] : nullptr;
  }
};

struct SymbolizerStats {
  uint64_t framesResolved = 0;
  uint64_t framesUnresolved = 0;
  uint64_t errors = 0;  // unreadable maps, files that could not be opened or parsed
  uint64_t moduleCacheHits = 0;
  uint64_t moduleCacheMisses = 0;  // modules read from disk
  uint64_t moduleCacheEvictions = 0;
  uint64_t perfMapReloads = 0;
  bool kernelSymbolsAvailable = false;
};

class Symbolizer {
 public:
  explicit Symbolizer(SymbolizerOptions options = {});
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Reads the process's maps and symbolizes `addresses`. Fails only when the maps cannot be read
  // (NotFound once the process has exited). Callers pass return addresses minus one for caller
  // frames, so a call at the end of a function is not attributed to the next one.
  Result<Symbolization> symbolize(int pid, std::span<const uint64_t> addresses);
  // The same over mappings the caller already holds (parsed once per upload interval, say).
  Symbolization symbolize(int pid,
                          std::span<const Mapping> mappings,
                          std::span<const uint64_t> addresses);
  // Kernel stack addresses, resolved through kallsyms.
  Symbolization symbolizeKernel(std::span<const uint64_t> addresses);
  // Indexes kallsyms now rather than at the first kernel frame, so a long-running agent pays its
  // memory (about 1.5 MB) at start-up and stays flat afterwards. Returns whether symbols are there.
  bool preloadKernelSymbols();

  SymbolizerStats stats() const;

 private:
  struct CallState;
  struct PerfMapSlot {
    std::unique_ptr<PerfMap> perfMap;
    uint64_t lastUsed = 0;
  };

  void symbolizeKernelFrame(Frame& frame, CallState& call);
  void symbolizeUserFrame(int pid,
                          std::span<const Mapping> mappings,
                          Frame& frame,
                          CallState& call);
  std::shared_ptr<const ModuleSymbols> moduleFor(int pid, const Mapping& mapping);
  Result<std::shared_ptr<const ModuleSymbols>> loadFileModule(int pid, const Mapping& mapping);
  std::shared_ptr<const ModuleSymbols> vdsoModule(const Mapping& mapping);
  // The process's perf map, refreshed once per call.
  const PerfMap* perfMapOf(int pid, CallState& call);
  PerfMap* refreshedPerfMap(int pid);
  // The kallsyms index, read on first use; null when kallsyms is unreadable or restricted.
  KernelSymbols* kernelSymbols();
  // Reads the kernel symbol names the kernel addresses among `addresses` need, in one pass.
  void loadKernelNames(std::span<const uint64_t> addresses);
  void finishFrame(Frame& frame, std::optional<SymbolMatch> match, CallState& call);

  const SymbolizerOptions options_;
  mutable std::mutex mutex_;
  ModuleCache modules_;
  std::map<int, PerfMapSlot> perfMaps_;
  uint64_t perfMapUseClock_ = 0;
  std::optional<KernelSymbols> kernelSymbols_;
  bool kernelSymbolsLoaded_ = false;
  std::shared_ptr<const ModuleSymbols> vdso_;
  size_t vdsoSize_ = 0;
  bool vdsoLoaded_ = false;
  SymbolizerStats stats_;
};

}  // namespace kprof::agent
