#include "agent/symbolizer/module_symbols.hpp"

#include <algorithm>
#include <climits>

#include <elf.h>
#include <zlib.h>

#include "agent/symbolizer/file_access.hpp"

namespace kprof::agent {
namespace {

// Among aliases at one address prefer a symbol with a size, then global over weak over local.
uint32_t symbolRank(const ElfFunctionSymbol& symbol) {
  const uint32_t binding = symbol.binding == STB_GLOBAL ? 2 : symbol.binding == STB_WEAK ? 1 : 0;
  return (symbol.size != 0 ? 4 : 0) + binding;
}

void addFunctions(const ElfImage& image, uint32_t tableType, SymbolTableBuilder& builder) {
  auto symbols = image.functionSymbols(tableType);
  if (!symbols) {
    return;  // a missing or unreadable table only means fewer names
  }
  for (const ElfFunctionSymbol& symbol : *symbols) {
    builder.add(symbol.address, symbol.size, symbol.name, symbol.sectionEnd, symbolRank(symbol));
  }
}

uint32_t crc32Of(std::span<const std::byte> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t chunk = std::min<size_t>(bytes.size(), UINT_MAX);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(chunk));
    bytes = bytes.subspan(chunk);
  }
  return static_cast<uint32_t>(crc);
}

bool matchesBinary(const ElfImage& binary,
                   const ElfImage& debug,
                   std::span<const std::byte> bytes) {
  if (!debug.hasSymtab()) {
    return false;
  }
  if (!binary.buildId().empty()) {
    return debug.buildId() == binary.buildId();
  }
  return binary.debugLink() && crc32Of(bytes) == binary.debugLink()->crc;
}

// Adds the debug file's .symtab to `builder` and returns its path, or "" when none was usable.
std::string addDebugFileSymbols(const ElfImage& binary,
                                const DebugFileSearch& search,
                                SymbolTableBuilder& builder) {
  const auto candidates =
      debugFileCandidates(search.binaryPath, binary.buildId(), binary.debugLink());
  for (const std::string& candidate : candidates) {
    for (const std::string& root : search.roots) {
      auto fd = openInRoot(root, candidate);
      if (!fd) {
        continue;
      }
      auto file = MappedFile::map(fd->get(), search.maxFileBytes);
      if (!file) {
        continue;
      }
      auto debug = ElfImage::parse(file->bytes());
      if (!debug || !matchesBinary(binary, *debug, file->bytes())) {
        continue;
      }
      addFunctions(*debug, ElfImage::kSymtab, builder);
      return candidate;
    }
  }
  return {};
}

std::string parentDirectory(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) {
    return "/";
  }
  return std::string(path.substr(0, slash));
}

}  // namespace

size_t ModuleSymbols::memoryBytes() const {
  return sizeof(*this) + loadSegments.capacity() * sizeof(ElfLoadSegment) + buildId.capacity() +
         symbols.memoryBytes() + symbolSource.capacity();
}

std::vector<std::string> debugFileCandidates(std::string_view binaryPath,
                                             std::string_view buildId,
                                             const std::optional<ElfDebugLink>& debugLink) {
  std::vector<std::string> candidates;
  if (buildId.size() > 2) {
    candidates.push_back("/usr/lib/debug/.build-id/" + std::string(buildId.substr(0, 2)) + "/" +
                         std::string(buildId.substr(2)) + ".debug");
  }
  if (debugLink) {
    std::string directory = parentDirectory(binaryPath);
    const std::string separator = directory == "/" ? "" : "/";
    candidates.push_back(directory + separator + debugLink->fileName);
    candidates.push_back(directory + separator + ".debug/" + debugLink->fileName);
    candidates.push_back("/usr/lib/debug" + directory + separator + debugLink->fileName);
  }
  return candidates;
}

ModuleSymbols loadModuleSymbols(const ElfImage& image, const DebugFileSearch* search) {
  ModuleSymbols module;
  module.fileType = image.fileType();
  module.loadSegments = image.loadSegments();
  module.buildId = image.buildId();

  SymbolTableBuilder builder;
  if (image.hasSymtab()) {
    addFunctions(image, ElfImage::kSymtab, builder);
    module.symbolSource = ".symtab";
  } else if (search != nullptr) {
    module.symbolSource = addDebugFileSymbols(image, *search, builder);
  }
  const size_t beforeDynsym = builder.size();
  addFunctions(image, ElfImage::kDynsym, builder);
  if (module.symbolSource.empty() && builder.size() > beforeDynsym) {
    module.symbolSource = ".dynsym";
  }
  module.symbols = std::move(builder).build();
  return module;
}

}  // namespace kprof::agent
