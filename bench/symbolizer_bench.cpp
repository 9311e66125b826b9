// Symbolization throughput of kprof's Symbolizer over one ELF file, for comparison with addr2line
// and llvm-symbolizer (bench/symbolizer_bench.sh runs all three over the same address file).
//
//   kprof_symbolizer_bench addresses BIN COUNT SEED   print COUNT link-time addresses, one per
//                                                     line in hex, each inside a function symbol
//                                                     of BIN (.symtab, else .dynsym), seeded
//   kprof_symbolizer_bench symbolize BIN FILE         one run as a CLI tool would: load BIN, name
//                                                     every address of FILE, print one function per
//                                                     line ("??" when unresolved)
//   kprof_symbolizer_bench time BIN FILE [REPEAT]     in-process: cold first call (loads BIN), then
//                                                     REPEAT warm calls; prints addresses/second
//
// The addresses go through the public API, Symbolizer::symbolize(pid, mappings, addresses), with
// this process's pid and mappings that place BIN's PT_LOAD segments at a fixed bias, so the path
// is the agent's: mapping lookup, file offset → ELF address, module cache, symbol table lookup,
// demangling (once per distinct name per call).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/file_access.hpp"
#include "agent/symbolizer/symbolizer.hpp"

namespace kprof::agent {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kDynamicBias = 0x7f0000000000;  // where an ET_DYN image is "loaded"

[[noreturn]] void die(const std::string& message) {
  std::cerr << "kprof_symbolizer_bench: " << message << "\n";
  std::exit(1);
}

struct LoadedElf {
  MappedFile file;
  ElfImage image;
};

LoadedElf loadElf(const std::string& path) {
  auto fd = openFile(path);
  if (!fd) die(path + ": " + fd.error().message);
  auto file = MappedFile::map(fd->get(), uint64_t{1} << 32);
  if (!file) die(path + ": " + file.error().message);
  auto image = ElfImage::parse(file->bytes());
  if (!image) die(path + ": " + image.error().message);
  return LoadedElf{std::move(*file), std::move(*image)};
}

uint64_t biasOf(const ElfImage& image) {
  return image.fileType() == ElfFileType::Dynamic ? kDynamicBias : 0;
}

// The mappings a process that loaded `path` would show for its PT_LOAD segments.
std::vector<Mapping> mappingsOf(const std::string& path, const ElfImage& image) {
  std::vector<Mapping> mappings;
  const uint64_t bias = biasOf(image);
  for (const ElfLoadSegment& segment : image.loadSegments()) {
    Mapping mapping;
    mapping.start = bias + segment.virtualAddress / kPage * kPage;
    mapping.end = bias + (segment.virtualAddress + segment.memorySize + kPage - 1) / kPage * kPage;
    mapping.fileOffset = segment.fileOffset / kPage * kPage;
    mapping.readable = true;
    mapping.executable = (segment.flags & 1) != 0;  // PF_X
    mapping.path = path;
    mappings.push_back(std::move(mapping));
  }
  std::sort(mappings.begin(), mappings.end(),
            [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
  return mappings;
}

std::vector<uint64_t> readAddresses(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<uint64_t> addresses;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) addresses.push_back(std::stoull(line, nullptr, 16));
  }
  return addresses;
}

std::string absolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) die("getcwd failed");
  return std::string(cwd) + "/" + path;
}

int printAddresses(const std::string& path, size_t count, uint64_t seed) {
  const LoadedElf elf = loadElf(path);
  auto symbols = elf.image.functionSymbols(ElfImage::kSymtab);
  if (!symbols || symbols->empty()) symbols = elf.image.functionSymbols(ElfImage::kDynsym);
  if (!symbols || symbols->empty()) die(path + ": no function symbols");
  std::vector<ElfFunctionSymbol> sized;
  std::copy_if(symbols->begin(), symbols->end(), std::back_inserter(sized),
               [](const ElfFunctionSymbol& s) { return s.size > 0 && s.address > 0; });
  std::sort(sized.begin(), sized.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<size_t> pickSymbol(0, sized.size() - 1);
  for (size_t i = 0; i < count; ++i) {
    const ElfFunctionSymbol& symbol = sized[pickSymbol(random)];
    const uint64_t offset = std::uniform_int_distribution<uint64_t>(0, symbol.size - 1)(random);
    std::printf("%#llx\n", static_cast<unsigned long long>(symbol.address + offset));
  }
  std::fprintf(stderr, "%zu addresses over %zu sized function symbols of %s\n", count,
               sized.size(), path.c_str());
  return 0;
}

int symbolizeOnce(const std::string& path, const std::string& addressFile) {
  const std::vector<uint64_t> elfAddresses = readAddresses(addressFile);
  const LoadedElf elf = loadElf(path);
  const std::vector<Mapping> mappings = mappingsOf(path, elf.image);
  std::vector<uint64_t> addresses;
  addresses.reserve(elfAddresses.size());
  for (const uint64_t address : elfAddresses) addresses.push_back(address + biasOf(elf.image));
  Symbolizer symbolizer;
  const Symbolization result = symbolizer.symbolize(getpid(), mappings, addresses);
  std::string out;
  for (const Frame& frame : result.frames) {
    out += frame.resolved ? frame.function : "??";
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int timeSymbolizer(const std::string& path, const std::string& addressFile, int repeat) {
  using Clock = std::chrono::steady_clock;
  const std::vector<uint64_t> elfAddresses = readAddresses(addressFile);
  const LoadedElf elf = loadElf(path);
  const std::vector<Mapping> mappings = mappingsOf(path, elf.image);
  std::vector<uint64_t> addresses;
  for (const uint64_t address : elfAddresses) addresses.push_back(address + biasOf(elf.image));

  Symbolizer symbolizer;
  const auto coldStart = Clock::now();
  const Symbolization first = symbolizer.symbolize(getpid(), mappings, addresses);
  const double cold = std::chrono::duration<double>(Clock::now() - coldStart).count();
  const auto resolved = std::count_if(first.frames.begin(), first.frames.end(),
                                      [](const Frame& f) { return f.resolved; });

  std::vector<double> warm;
  for (int i = 0; i < repeat; ++i) {
    const auto start = Clock::now();
    const Symbolization again = symbolizer.symbolize(getpid(), mappings, addresses);
    warm.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (again.frames.size() != addresses.size()) die("short result");
  }
  std::sort(warm.begin(), warm.end());
  const double median = warm.empty() ? 0 : warm[warm.size() / 2];
  std::printf("addresses            %zu (%lld resolved)\n", addresses.size(),
              static_cast<long long>(resolved));
  std::printf("cold call (load+all) %.2f ms  %.0f addresses/s\n", cold * 1e3,
              addresses.size() / cold);
  if (!warm.empty()) {
    std::printf("warm call (median of %d) %.2f ms  %.0f addresses/s\n", repeat, median * 1e3,
                addresses.size() / median);
  }
  return 0;
}

}  // namespace
}  // namespace kprof::agent

int main(int argc, char** argv) {
  using namespace kprof::agent;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "addresses") {
    return printAddresses(args[1], std::stoull(args[2]), std::stoull(args[3]));
  }
  if (args.size() == 3 && args[0] == "symbolize") {
    return symbolizeOnce(absolutePath(args[1]), args[2]);
  }
  if ((args.size() == 3 || args.size() == 4) && args[0] == "time") {
    return timeSymbolizer(absolutePath(args[1]), args[2], args.size() == 4 ? std::stoi(args[3]) : 20);
  }
  std::cerr << "usage: kprof_symbolizer_bench addresses BIN COUNT SEED\n"
               "       kprof_symbolizer_bench symbolize BIN ADDRESS_FILE\n"
               "       kprof_symbolizer_bench time BIN ADDRESS_FILE [REPEAT]\n";
  return 2;
}
