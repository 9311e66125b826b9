#include "agent/symbolizer/symbolizer.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <unordered_map>

#include <sys/auxv.h>

#include "agent/symbolizer/address_translation.hpp"
#include "agent/symbolizer/demangle.hpp"
#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/file_access.hpp"
#include "agent/symbolizer/kallsyms.hpp"

namespace kprof::agent {
namespace {

constexpr std::string_view kKernelModule = "[kernel.kallsyms]";

// Kernel text lives in the upper half of the address space on x86-64 and arm64.
bool isKernelAddress(uint64_t address) {
  return (address >> 63) != 0;
}

std::string processDir(const std::string& procRoot, int pid) {
  return procRoot + "/" + std::to_string(pid);
}

std::string hexRange(const Mapping& mapping) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%" PRIx64 "-%" PRIx64, mapping.start, mapping.end);
  return buffer;
}

// The pid a containerized process knows itself by (the last NSpid entry), which names its perf
// map inside its own /tmp. Falls back to the host pid.
int namespacePid(const std::string& procRoot, int pid) {
  auto status = readTextFile(processDir(procRoot, pid) + "/status", 1 << 20);
  if (!status) {
    return pid;
  }
  const size_t line = status->find("\nNSpid:");
  if (line == std::string::npos) {
    return pid;
  }
  const size_t end = status->find('\n', line + 1);
  std::string_view fields = std::string_view(*status).substr(line + 7, end - line - 7);
  while (!fields.empty() && (fields.back() == ' ' || fields.back() == '\t')) {
    fields.remove_suffix(1);
  }
  const size_t lastSpace = fields.find_last_of(" \t");
  const std::string last(fields.substr(lastSpace == std::string_view::npos ? 0 : lastSpace + 1));
  char* parsedEnd = nullptr;
  const long value = std::strtol(last.c_str(), &parsedEnd, 10);
  return (parsedEnd != last.c_str() && *parsedEnd == '\0' && value > 0) ? static_cast<int>(value)
                                                                        : pid;
}

}  // namespace

struct Symbolizer::CallState {
  struct MappingState {
    size_t index = 0;  // into Symbolization::mappings
    std::shared_ptr<const ModuleSymbols> module;
  };
  Symbolization out;
  std::unordered_map<const Mapping*, MappingState> mappings;
  std::optional<size_t> kernelMapping;
  bool perfMapLooked = false;
  const PerfMap* perfMap = nullptr;
  // Stacks repeat the same functions; demangle each name once per call.
  std::unordered_map<std::string_view, std::string> demangled;
};

Symbolizer::Symbolizer(SymbolizerOptions options)
    : options_(std::move(options)),
      modules_(options_.moduleCacheBytes, options_.moduleCacheModules) {}

Symbolizer::~Symbolizer() = default;

Result<Symbolization> Symbolizer::symbolize(int pid, std::span<const uint64_t> addresses) {
  auto text = readTextFile(processDir(options_.procRoot, pid) + "/maps", options_.maxMapsBytes);
  if (!text) {
    std::lock_guard lock(mutex_);
    ++stats_.errors;
    return text.error().wrap("reading maps of pid " + std::to_string(pid));
  }
  const ProcMaps maps = parseProcMaps(*text);
  return symbolize(pid, maps.mappings, addresses);
}

Symbolization Symbolizer::symbolize(int pid,
                                    std::span<const Mapping> mappings,
                                    std::span<const uint64_t> addresses) {
  std::lock_guard lock(mutex_);
  loadKernelNames(addresses);
  CallState call;
  call.out.frames.reserve(addresses.size());
  for (const uint64_t address : addresses) {
    Frame& frame = call.out.frames.emplace_back();
    frame.address = address;
    if (isKernelAddress(address)) {
      symbolizeKernelFrame(frame, call);
    } else {
      symbolizeUserFrame(pid, mappings, frame, call);
    }
  }
  return std::move(call.out);
}

Symbolization Symbolizer::symbolizeKernel(std::span<const uint64_t> addresses) {
  std::lock_guard lock(mutex_);
  loadKernelNames(addresses);
  CallState call;
  call.out.frames.reserve(addresses.size());
  for (const uint64_t address : addresses) {
    Frame& frame = call.out.frames.emplace_back();
    frame.address = address;
    symbolizeKernelFrame(frame, call);
  }
  return std::move(call.out);
}

SymbolizerStats Symbolizer::stats() const {
  std::lock_guard lock(mutex_);
  SymbolizerStats stats = stats_;
  stats.moduleCacheEvictions = modules_.evictions();
  stats.kernelSymbolsAvailable = kernelSymbols_.has_value();
  return stats;
}

void Symbolizer::symbolizeKernelFrame(Frame& frame, CallState& call) {
  frame.kind = FrameKind::Kernel;
  if (!call.kernelMapping) {
    call.kernelMapping = call.out.mappings.size();
    FrameMapping kernel;
    kernel.path = std::string(kKernelModule);
    call.out.mappings.push_back(std::move(kernel));
  }
  frame.mappingIndex = call.kernelMapping;
  frame.moduleOffset = frame.address;
  frame.elfAddress = frame.address;
  const KernelSymbols* symbols = kernelSymbols();
  finishFrame(frame, symbols ? symbols->lookup(frame.address) : std::nullopt, call);
}

void Symbolizer::symbolizeUserFrame(int pid,
                                    std::span<const Mapping> mappings,
                                    Frame& frame,
                                    CallState& call) {
  const Mapping* mapping = findMapping(mappings, frame.address);
  if (mapping == nullptr) {
    // JIT code may have been freed between the sample and reading maps; its perf-map line stays.
    const PerfMap* perfMap = perfMapOf(pid, call);
    const auto match = perfMap ? perfMap->lookup(frame.address) : std::nullopt;
    if (match) {
      frame.kind = FrameKind::Jit;
    }
    finishFrame(frame, match, call);
    return;
  }
  auto [state, inserted] = call.mappings.try_emplace(mapping);
  if (inserted) {
    state->second.index = call.out.mappings.size();
    state->second.module = moduleFor(pid, *mapping);
    call.out.mappings.push_back(FrameMapping{
        .start = mapping->start,
        .end = mapping->end,
        .fileOffset = mapping->fileOffset,
        .path = mapping->path,
        .buildId = state->second.module ? state->second.module->buildId : std::string(),
        .deleted = mapping->deleted});
  }
  frame.mappingIndex = state->second.index;
  frame.moduleOffset = fileOffsetOf(*mapping, frame.address);

  if (const auto& module = state->second.module) {
    frame.elfAddress = elfAddressOfFileOffset(module->loadSegments, frame.moduleOffset);
    finishFrame(
        frame, frame.elfAddress ? module->symbols.lookup(*frame.elfAddress) : std::nullopt, call);
    return;
  }
  if (mapping->isAnonymous()) {
    frame.kind = FrameKind::Jit;
    const PerfMap* perfMap = perfMapOf(pid, call);
    finishFrame(frame, perfMap ? perfMap->lookup(frame.address) : std::nullopt, call);
    return;
  }
  finishFrame(frame, std::nullopt, call);
}

void Symbolizer::finishFrame(Frame& frame, std::optional<SymbolMatch> match, CallState& call) {
  if (!match) {
    ++stats_.framesUnresolved;
    return;
  }
  ++stats_.framesResolved;
  frame.resolved = true;
  // The lookup ran on the ELF address for files, on the address itself for JIT and kernel code.
  frame.functionOffset = frame.elfAddress.value_or(frame.address) - match->start;
  auto [name, inserted] = call.demangled.try_emplace(match->name);
  if (inserted) {
    name->second = demangle(match->name);
  }
  frame.function = name->second;
}

std::shared_ptr<const ModuleSymbols> Symbolizer::moduleFor(int pid, const Mapping& mapping) {
  if (mapping.isVdso()) {
    return vdsoModule(mapping);
  }
  if (!mapping.isFile()) {
    return nullptr;
  }
  auto module = loadFileModule(pid, mapping);
  if (!module) {
    ++stats_.errors;
    return nullptr;
  }
  return *module;
}

Result<std::shared_ptr<const ModuleSymbols>> Symbolizer::loadFileModule(int pid,
                                                                        const Mapping& mapping) {
  const std::string rootDir = processDir(options_.procRoot, pid) + "/root";
  // A deleted path now names nothing (or a newer file); map_files still reaches the mapped inode.
  auto fd = mapping.deleted
                ? openFile(processDir(options_.procRoot, pid) + "/map_files/" + hexRange(mapping))
                : openInRoot(rootDir, mapping.path);
  if (!fd) {
    return fd.error();
  }
  auto identity = identityOf(fd->get());
  if (!identity) {
    return identity.error();
  }
  const std::string fileKey = identity->cacheKey();
  if (auto cached = modules_.find(fileKey)) {
    ++stats_.moduleCacheHits;
    return cached;
  }

  auto file = MappedFile::map(fd->get(), options_.maxElfFileBytes);
  if (!file) {
    return file.error().wrap(mapping.path);
  }
  auto image = ElfImage::parse(file->bytes());
  if (!image) {
    // Remember the failure under this file's identity so it is not re-read on every call.
    modules_.insert({fileKey}, std::make_shared<const ModuleSymbols>());
    return image.error().wrap(mapping.path);
  }
  const std::string buildIdKey = image->buildId().empty() ? "" : "build-id:" + image->buildId();
  if (!buildIdKey.empty()) {
    if (auto shared = modules_.find(buildIdKey)) {
      modules_.addAlias(buildIdKey, fileKey);
      ++stats_.moduleCacheHits;
      return shared;
    }
  }
  ++stats_.moduleCacheMisses;
  DebugFileSearch search{
      .binaryPath = mapping.path, .roots = {rootDir}, .maxFileBytes = options_.maxElfFileBytes};
  search.roots.insert(
      search.roots.end(), options_.extraDebugRoots.begin(), options_.extraDebugRoots.end());
  auto module = std::make_shared<const ModuleSymbols>(loadModuleSymbols(*image, &search));
  std::vector<std::string> keys{fileKey};
  if (!buildIdKey.empty()) {
    keys.push_back(buildIdKey);
  }
  modules_.insert(keys, module);
  return module;
}

std::shared_ptr<const ModuleSymbols> Symbolizer::vdsoModule(const Mapping& mapping) {
  if (!vdsoLoaded_) {
    vdsoLoaded_ = true;
    // Every process on this kernel maps the same vDSO image, so read the agent's own.
    const auto base = getauxval(AT_SYSINFO_EHDR);
    auto maps = readTextFile("/proc/self/maps", options_.maxMapsBytes);
    if (base != 0 && maps) {
      for (const Mapping& own : parseProcMaps(*maps).mappings) {
        if (own.isVdso() && own.start == base) {
          vdsoSize_ = own.end - own.start;
          const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(base),
                                                 vdsoSize_);
          if (auto image = ElfImage::parse(bytes)) {
            vdso_ = std::make_shared<const ModuleSymbols>(loadModuleSymbols(*image, nullptr));
          }
        }
      }
    }
  }
  // A process of another ABI (32-bit) has a different vDSO; sizes tell them apart.
  return vdso_ && mapping.end - mapping.start == vdsoSize_ ? vdso_ : nullptr;
}

const PerfMap* Symbolizer::perfMapOf(int pid, CallState& call) {
  if (!call.perfMapLooked) {
    call.perfMapLooked = true;
    call.perfMap = refreshedPerfMap(pid);
  }
  return call.perfMap;
}

PerfMap* Symbolizer::refreshedPerfMap(int pid) {
  auto slot = perfMaps_.find(pid);
  if (slot == perfMaps_.end()) {
    if (perfMaps_.size() >= std::max<size_t>(options_.perfMapProcesses, 1)) {
      auto oldest = perfMaps_.begin();
      for (auto it = perfMaps_.begin(); it != perfMaps_.end(); ++it) {
        if (it->second.lastUsed < oldest->second.lastUsed) {
          oldest = it;
        }
      }
      perfMaps_.erase(oldest);
    }
    // Opened inside the process's root: its /tmp, and its symlinks, not the agent's.
    auto perfMap = std::make_unique<PerfMap>(
        processDir(options_.procRoot, pid) + "/root",
        "/tmp/perf-" + std::to_string(namespacePid(options_.procRoot, pid)) + ".map",
        options_.maxPerfMapEntries,
        options_.maxPerfMapBytes);
    slot = perfMaps_.emplace(pid, PerfMapSlot{std::move(perfMap)}).first;
  }
  slot->second.lastUsed = ++perfMapUseClock_;
  PerfMap& perfMap = *slot->second.perfMap;
  const uint64_t reloadsBefore = perfMap.reloads();
  const Status refreshed = perfMap.refresh();
  stats_.perfMapReloads += perfMap.reloads() - reloadsBefore;
  if (!refreshed && refreshed.error().code != ErrorCode::NotFound) {
    ++stats_.errors;  // no perf map is normal for native code; anything else is worth counting
  }
  return &perfMap;
}

bool Symbolizer::preloadKernelSymbols() {
  std::lock_guard lock(mutex_);
  return kernelSymbols() != nullptr;
}

KernelSymbols* Symbolizer::kernelSymbols() {
  if (!kernelSymbolsLoaded_) {
    kernelSymbolsLoaded_ = true;
    auto loaded =
        KernelSymbols::fromFile(options_.procRoot + "/kallsyms", options_.maxKallsymsBytes);
    if (loaded) {
      kernelSymbols_ = std::move(*loaded);
    }
  }
  return kernelSymbols_ ? &*kernelSymbols_ : nullptr;
}

void Symbolizer::loadKernelNames(std::span<const uint64_t> addresses) {
  if (std::none_of(addresses.begin(), addresses.end(), isKernelAddress)) {
    return;
  }
  KernelSymbols* symbols = kernelSymbols();
  if (symbols != nullptr && !symbols->loadNames(addresses)) {
    ++stats_.errors;  // the frames stay unresolved, with their addresses
  }
}

}  // namespace kprof::agent
