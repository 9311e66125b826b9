// The Symbolizer end to end over real processes (this PIE test binary, libc, a live non-PIE
// program) and over fake /proc trees whose <pid>/root holds stripped binaries, debug files,
// perf maps and kallsyms.
#include "agent/symbolizer/symbolizer.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/auxv.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <unistd.h>

#include "agent/symbolizer/elf_image.hpp"
#include "agent/symbolizer/file_access.hpp"
#include "agent/symbolizer/test_fixtures.hpp"

extern char** environ;

namespace kprof_symbolizer_test {

// A function of this test binary with a known demangled name.
__attribute__((noinline)) int markerFunction(int value) {
  asm volatile("" ::: "memory");
  return value * 3 + 1;
}

}  // namespace kprof_symbolizer_test

namespace kprof::agent {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;
using testing::FakeProc;
using testing::readBytes;
using testing::writeBytes;
using testing::writeText;

const std::string kTarget = std::filesystem::canonical(KPROF_NOPIE_TARGET).string();
const std::string kTargetDebugName = std::filesystem::path(kTarget + ".debug").filename().string();
constexpr int kFakePid = 4242;

uint64_t addressOf(auto* function) {
  return reinterpret_cast<uint64_t>(function);
}

std::string buildIdOf(const std::string& path) {
  const auto bytes = readBytes(path);
  auto image = ElfImage::parse(bytes);
  return image ? image->buildId() : "";
}

// The non-PIE target, running until the object goes away. It prints the address of
// kprof_target::spinWork, which only its .symtab (or debug file) names.
class TargetProcess {
 public:
  TargetProcess() {
    int input[2];
    int output[2];
    EXPECT_EQ(::pipe2(input, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(output, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
    std::string program = kTarget;
    char* argv[] = {program.data(), nullptr};
    EXPECT_EQ(::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(input[0]);
    ::close(output[1]);
    stdin_ = input[1];
    std::string line;
    char c;
    while (::read(output[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    ::close(output[0]);
    spinWork_ = std::strtoull(line.c_str(), nullptr, 16);
  }
  ~TargetProcess() {
    ::close(stdin_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  pid_t pid() const { return pid_; }
  uint64_t spinWork() const { return spinWork_; }
  // Its maps lines for the executable, with the path as a container would show it.
  std::string mapsAs(const std::string& path) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/maps");
    std::string line;
    std::string out;
    while (std::getline(in, line)) {
      const size_t at = line.find(kTarget);
      if (at != std::string::npos && at + kTarget.size() == line.size()) {
        out += line.substr(0, at) + path + "\n";
      }
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  uint64_t spinWork_ = 0;
};

TEST(Symbolizer, NamesAFunctionOfThisPieTestBinary) {
  Symbolizer symbolizer;
  const uint64_t marker = addressOf(&kprof_symbolizer_test::markerFunction);
  const std::vector<uint64_t> addresses{marker, marker + 1};
  auto result = symbolizer.symbolize(::getpid(), addresses);
  ASSERT_TRUE(result) << result.error().toString();
  ASSERT_EQ(result->frames.size(), 2u);
  const Frame& frame = result->frames[0];
  EXPECT_TRUE(frame.resolved);
  EXPECT_EQ(frame.kind, FrameKind::Native);
  EXPECT_EQ(frame.function, "kprof_symbolizer_test::markerFunction(int)");
  EXPECT_EQ(frame.functionOffset, 0u);
  EXPECT_EQ(result->frames[1].function, frame.function);
  EXPECT_EQ(result->frames[1].functionOffset, 1u);
  // PIE: the runtime address is biased, the ELF address is not.
  ASSERT_TRUE(frame.elfAddress);
  EXPECT_NE(*frame.elfAddress, marker);
  const FrameMapping* mapping = result->mappingOf(frame);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->path, std::filesystem::canonical("/proc/self/exe").string());
  EXPECT_EQ(mapping->buildId, buildIdOf("/proc/self/exe"));
  EXPECT_EQ(result->mappings.size(), 1u);  // both frames share it
  EXPECT_EQ(symbolizer.stats().framesResolved, 2u);
}

TEST(Symbolizer, NamesALibcFunctionAsTheDynamicLinkerDoes) {
  void* libc = ::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr);
  void* getpidAddress = ::dlsym(libc, "getpid");
  ASSERT_NE(getpidAddress, nullptr);
  Dl_info info{};
  ASSERT_NE(::dladdr(getpidAddress, &info), 0);
  ::dlclose(libc);

  Symbolizer symbolizer;
  const std::vector<uint64_t> addresses{addressOf(getpidAddress) + 2};
  auto result = symbolizer.symbolize(::getpid(), addresses);
  ASSERT_TRUE(result);
  const Frame& frame = result->frames[0];
  ASSERT_TRUE(frame.resolved);
  EXPECT_THAT(frame.function, AnyOf(Eq("getpid"), Eq("__getpid")));
  EXPECT_EQ(frame.address - frame.functionOffset, addressOf(info.dli_saddr));
  EXPECT_THAT(result->mappingOf(frame)->path, ::testing::HasSubstr("libc.so.6"));
  EXPECT_FALSE(result->mappingOf(frame)->buildId.empty());
}

TEST(Symbolizer, NamesAFunctionOfALiveNonPieProcess) {
  TargetProcess target;
  ASSERT_NE(target.spinWork(), 0u);
  Symbolizer symbolizer;
  const std::vector<uint64_t> addresses{target.spinWork()};
  auto result = symbolizer.symbolize(target.pid(), addresses);
  ASSERT_TRUE(result) << result.error().toString();
  const Frame& frame = result->frames[0];
  EXPECT_TRUE(frame.resolved);
  EXPECT_EQ(frame.function, "kprof_target::spinWork(int)");
  EXPECT_EQ(frame.elfAddress, target.spinWork());  // non-PIE: runtime address is link address
  EXPECT_EQ(result->mappingOf(frame)->path, kTarget);
}

class SymbolizerFakeProc : public ::testing::Test {
 protected:
  SymbolizerOptions options() const {
    SymbolizerOptions options;
    options.procRoot = proc_.procRoot();
    return options;
  }
  // A fake process running a copy of `binary` as /app/server, mapped where the real target is.
  void installServer(const std::string& binary) {
    proc_.setMaps(kFakePid, target_.mapsAs("/app/server"));
    proc_.copyIntoRoot(kFakePid, binary, "/app/server");
  }
  Frame symbolizeSpinWork(Symbolizer& symbolizer, Symbolization* out = nullptr) {
    const std::vector<uint64_t> addresses{target_.spinWork()};
    auto result = symbolizer.symbolize(kFakePid, addresses);
    EXPECT_TRUE(result) << result.error().toString();
    if (out != nullptr) {
      *out = *result;
    }
    return result->frames.at(0);
  }

  FakeProc proc_;
  TargetProcess target_;
};

TEST_F(SymbolizerFakeProc, StrippedBinaryUsesTheDebugFileFoundByBuildIdInsideTheContainer) {
  installServer(kTarget + ".stripped");
  const std::string buildId = buildIdOf(kTarget);
  ASSERT_EQ(buildId.size(), 40u);
  proc_.copyIntoRoot(
      kFakePid,
      kTarget + ".debug",
      "/usr/lib/debug/.build-id/" + buildId.substr(0, 2) + "/" + buildId.substr(2) + ".debug");
  Symbolizer symbolizer(options());
  Symbolization result;
  const Frame frame = symbolizeSpinWork(symbolizer, &result);
  EXPECT_TRUE(frame.resolved);
  EXPECT_EQ(frame.function, "kprof_target::spinWork(int)");
  EXPECT_EQ(result.mappingOf(frame)->path, "/app/server");
  EXPECT_EQ(result.mappingOf(frame)->buildId, buildId);
}

TEST_F(SymbolizerFakeProc, ExtraDebugRootsAreSearchedAfterTheContainer) {
  installServer(kTarget + ".stripped");
  const std::string buildId = buildIdOf(kTarget);
  testing::ScratchDir agentRoot;
  const auto debugPath = agentRoot.path() / "usr/lib/debug/.build-id" / buildId.substr(0, 2) /
                         (buildId.substr(2) + ".debug");
  std::filesystem::create_directories(debugPath.parent_path());
  std::filesystem::copy_file(kTarget + ".debug", debugPath);
  SymbolizerOptions withRoot = options();
  withRoot.extraDebugRoots = {agentRoot.path().string()};
  Symbolizer symbolizer(withRoot);
  EXPECT_EQ(symbolizeSpinWork(symbolizer).function, "kprof_target::spinWork(int)");
}

TEST_F(SymbolizerFakeProc, StrippedBinaryWithoutDebugFileKeepsOffsetsAndBuildIdForLater) {
  installServer(kTarget + ".stripped");
  Symbolizer symbolizer(options());
  Symbolization result;
  const Frame frame = symbolizeSpinWork(symbolizer, &result);
  EXPECT_FALSE(frame.resolved);
  EXPECT_EQ(frame.function, "");
  EXPECT_EQ(frame.elfAddress, target_.spinWork());
  const FrameMapping* mapping = result.mappingOf(frame);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->path, "/app/server");
  EXPECT_EQ(mapping->buildId, buildIdOf(kTarget));
  EXPECT_EQ(frame.moduleOffset, frame.address - mapping->start + mapping->fileOffset);
  EXPECT_EQ(symbolizer.stats().framesUnresolved, 1u);
}

TEST_F(SymbolizerFakeProc, DebugLinkFileInTheDotDebugDirectoryIsCheckedByCrc) {
  installServer(kTarget + ".linked");
  // A debug file with the right name but other contents sits first in the search order.
  auto wrong = readBytes(kTarget + ".debug");
  wrong[wrong.size() / 2] ^= std::byte{0x5a};
  writeBytes(proc_.inRoot(kFakePid, "/app/" + kTargetDebugName), wrong.data(), wrong.size());
  {
    Symbolizer symbolizer(options());
    EXPECT_FALSE(symbolizeSpinWork(symbolizer).resolved);
  }
  proc_.copyIntoRoot(kFakePid, kTarget + ".debug", "/app/.debug/" + kTargetDebugName);
  Symbolizer symbolizer(options());
  EXPECT_EQ(symbolizeSpinWork(symbolizer).function, "kprof_target::spinWork(int)");
}

TEST_F(SymbolizerFakeProc, DeletedBinaryIsReadThroughMapFiles) {
  std::string maps = target_.mapsAs("/app/server (deleted)");
  proc_.setMaps(kFakePid, maps);
  // /proc/<pid>/map_files/<start>-<end> reaches each mapped file even after it was unlinked.
  // The kernel names them "%lx-%lx", without the zero padding maps uses.
  for (const Mapping& mapping : parseProcMaps(maps).mappings) {
    char range[40];
    std::snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, mapping.start, mapping.end);
    const auto link = proc_.processDir(kFakePid) / "map_files" / range;
    std::filesystem::create_directories(link.parent_path());
    std::filesystem::copy_file(kTarget, link);
  }
  Symbolizer symbolizer(options());
  Symbolization result;
  const Frame frame = symbolizeSpinWork(symbolizer, &result);
  EXPECT_EQ(frame.function, "kprof_target::spinWork(int)");
  EXPECT_TRUE(result.mappingOf(frame)->deleted);
  EXPECT_EQ(result.mappingOf(frame)->path, "/app/server");
}

TEST_F(SymbolizerFakeProc, ModulesAreCachedAndTheCacheStaysBounded) {
  installServer(kTarget);
  Symbolizer symbolizer(options());
  symbolizeSpinWork(symbolizer);
  symbolizeSpinWork(symbolizer);
  SymbolizerStats stats = symbolizer.stats();
  EXPECT_EQ(stats.moduleCacheMisses, 1u);
  EXPECT_EQ(stats.moduleCacheHits, 1u);

  // The same binary under another path (another container) shares the table through its build id.
  proc_.setMaps(kFakePid, target_.mapsAs("/other/server"));
  proc_.copyIntoRoot(kFakePid, kTarget, "/other/server");
  EXPECT_EQ(symbolizeSpinWork(symbolizer).function, "kprof_target::spinWork(int)");
  stats = symbolizer.stats();
  EXPECT_EQ(stats.moduleCacheMisses, 1u);
  EXPECT_EQ(stats.moduleCacheHits, 2u);

  // With room for one module, alternating between two binaries evicts every time.
  const std::vector<uint64_t> self{addressOf(&kprof_symbolizer_test::markerFunction)};
  SymbolizerOptions real;
  real.moduleCacheModules = 1;
  Symbolizer bounded(real);
  ASSERT_TRUE(bounded.symbolize(::getpid(), self));
  void* libc = ::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  const std::vector<uint64_t> inLibc{addressOf(::dlsym(libc, "getpid"))};
  ::dlclose(libc);
  ASSERT_TRUE(bounded.symbolize(::getpid(), inLibc));
  ASSERT_TRUE(bounded.symbolize(::getpid(), self));
  EXPECT_EQ(bounded.stats().moduleCacheEvictions, 2u);
  EXPECT_EQ(bounded.stats().moduleCacheMisses, 3u);
}

TEST_F(SymbolizerFakeProc, HostileOrOversizedBinariesLeaveFramesUnresolvedAndCountErrors) {
  installServer(kTarget);
  auto truncated = readBytes(kTarget);
  truncated.resize(truncated.size() / 3);
  writeBytes(proc_.inRoot(kFakePid, "/app/server"), truncated.data(), truncated.size());
  Symbolizer symbolizer(options());
  EXPECT_FALSE(symbolizeSpinWork(symbolizer).resolved);
  EXPECT_FALSE(symbolizeSpinWork(symbolizer).resolved);
  EXPECT_EQ(symbolizer.stats().errors, 1u);  // the failure is remembered, not retried

  installServer(kTarget);
  SymbolizerOptions tiny = options();
  tiny.maxElfFileBytes = 1024;
  Symbolizer refusing(tiny);
  EXPECT_FALSE(symbolizeSpinWork(refusing).resolved);
  EXPECT_EQ(refusing.stats().errors, 1u);

  writeText(proc_.inRoot(kFakePid, "/app/server"), "#!/bin/sh\necho not an ELF\n");
  Symbolizer notElf(options());
  EXPECT_FALSE(symbolizeSpinWork(notElf).resolved);
}

TEST_F(SymbolizerFakeProc, AddressesOutsideFilesStayUnresolvedWithTheirMapping) {
  proc_.setMaps(kFakePid,
                "55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0   [heap]\n"
                "7f0000000000-7f0000001000 r-xp 00001000 08:01 9   /app/missing.so\n");
  Symbolizer symbolizer(options());
  const std::vector<uint64_t> addresses{0x55d0c8a00010, 0x7f0000000020, 0x1234};
  auto result = symbolizer.symbolize(kFakePid, addresses);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->mappingOf(result->frames[0])->path, "[heap]");
  EXPECT_EQ(result->frames[0].moduleOffset, 0x10u);
  EXPECT_EQ(result->mappingOf(result->frames[1])->path, "/app/missing.so");
  EXPECT_EQ(result->frames[1].moduleOffset, 0x1020u);
  EXPECT_FALSE(result->frames[2].mappingIndex);
  for (const Frame& frame : result->frames) {
    EXPECT_FALSE(frame.resolved);
  }
  EXPECT_EQ(symbolizer.stats().errors, 1u);  // the missing library
}

TEST_F(SymbolizerFakeProc, ExitedProcessIsNotFound) {
  Symbolizer symbolizer(options());
  const std::vector<uint64_t> addresses{0x1000};
  auto result = symbolizer.symbolize(999999, addresses);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::NotFound);
}

TEST_F(SymbolizerFakeProc, JitFramesComeFromThePerfMapNamedByTheNamespacePid) {
  proc_.setMaps(kFakePid,
                "3ef414a00000-3ef414b00000 rwxp 00000000 00:00 0 \n"
                "3ef415000000-3ef415100000 r-xp 00000000 00:00 0   [anon:v8]\n");
  // In its container the process is pid 7, so node wrote /tmp/perf-7.map there.
  writeText(proc_.processDir(kFakePid) / "status", "Name:\tnode\nNSpid:\t4242\t7\nVmRSS:\t1 kB\n");
  const auto perfMap = proc_.inRoot(kFakePid, "/tmp/perf-7.map");
  writeText(perfMap,
            "3ef414a0a0c0 1c0 LazyCompile:~hotFunction /app/main.js:3\n"
            "3ef416000000 100 LazyCompile:~freedSinceTheSample /app/main.js:20\n");
  Symbolizer symbolizer(options());
  const std::vector<uint64_t> addresses{0x3ef414a0a100, 0x3ef415000010, 0x3ef416000020};
  auto result = symbolizer.symbolize(kFakePid, addresses);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->frames[0].kind, FrameKind::Jit);
  EXPECT_TRUE(result->frames[0].resolved);
  EXPECT_EQ(result->frames[0].function, "LazyCompile:~hotFunction /app/main.js:3");
  EXPECT_EQ(result->frames[0].functionOffset, 0x40u);
  EXPECT_FALSE(result->frames[1].resolved);
  // No mapping holds it any more, but the perf map still names it.
  EXPECT_EQ(result->frames[2].function, "LazyCompile:~freedSinceTheSample /app/main.js:20");
  EXPECT_EQ(result->frames[2].kind, FrameKind::Jit);
  EXPECT_FALSE(result->frames[2].mappingIndex);

  // Code compiled since then shows up once the file grows.
  std::ofstream(perfMap, std::ios::app) << "3ef415000000 100 LazyCompile:*warm /app/main.js:9\n";
  result = symbolizer.symbolize(kFakePid, addresses);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->frames[1].function, "LazyCompile:*warm /app/main.js:9");
  EXPECT_EQ(symbolizer.stats().perfMapReloads, 2u);
}

TEST_F(SymbolizerFakeProc, KernelAddressesResolveThroughKallsyms) {
  writeText(std::filesystem::path(proc_.procRoot()) / "kallsyms",
            "ffffffff81000000 T _text\n"
            "ffffffff81100000 T schedule\n"
            "ffffffff81100400 T io_schedule\n");
  proc_.setMaps(kFakePid, "");
  Symbolizer symbolizer(options());
  const std::vector<uint64_t> addresses{0xffffffff81100010};
  const Symbolization kernel = symbolizer.symbolizeKernel(addresses);
  EXPECT_TRUE(kernel.frames[0].resolved);
  EXPECT_EQ(kernel.frames[0].kind, FrameKind::Kernel);
  EXPECT_EQ(kernel.frames[0].function, "schedule");
  EXPECT_EQ(kernel.frames[0].functionOffset, 0x10u);
  EXPECT_EQ(kernel.mappingOf(kernel.frames[0])->path, "[kernel.kallsyms]");
  // Mixed into a user stack, kernel addresses are recognized by their upper-half address.
  auto mixed = symbolizer.symbolize(kFakePid, addresses);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->frames[0].function, "schedule");
  EXPECT_TRUE(symbolizer.stats().kernelSymbolsAvailable);
}

TEST_F(SymbolizerFakeProc, RestrictedKallsymsLeaveKernelFramesUnresolved) {
  writeText(std::filesystem::path(proc_.procRoot()) / "kallsyms",
            "0000000000000000 T _text\n0000000000000000 T schedule\n");
  Symbolizer symbolizer(options());
  const std::vector<uint64_t> addresses{0xffffffff81100010};
  const Symbolization kernel = symbolizer.symbolizeKernel(addresses);
  EXPECT_FALSE(kernel.frames[0].resolved);
  EXPECT_EQ(kernel.frames[0].function, "");
  EXPECT_EQ(kernel.frames[0].elfAddress, 0xffffffff81100010u);
  EXPECT_FALSE(symbolizer.stats().kernelSymbolsAvailable);
}

TEST(Symbolizer, ResolvesTheRealKernelWhenKallsymsShowsAddresses) {
  auto text = readTextFile("/proc/kallsyms", 64 << 20);
  if (!text || text->starts_with("0000000000000000")) {
    GTEST_SKIP() << "/proc/kallsyms is unreadable or restricted (kptr_restrict)";
  }
  // Find "schedule" in the file and ask for an address inside it.
  const size_t at = text->find(" T schedule\n");
  ASSERT_NE(at, std::string::npos);
  const size_t lineStart = text->rfind('\n', at) + 1;
  const uint64_t schedule =
      std::strtoull(text->substr(lineStart, at - lineStart).c_str(), nullptr, 16);
  Symbolizer symbolizer;
  const std::vector<uint64_t> addresses{schedule + 1};
  EXPECT_EQ(symbolizer.symbolizeKernel(addresses).frames[0].function, "schedule");
}

TEST(Symbolizer, NamesVdsoFunctions) {
  const auto base = ::getauxval(AT_SYSINFO_EHDR);
  if (base == 0) {
    GTEST_SKIP() << "no vDSO";
  }
  // Locate clock_gettime in our own vDSO image, then ask the symbolizer about that address.
  auto maps = readTextFile("/proc/self/maps", 16 << 20);
  ASSERT_TRUE(maps);
  const auto parsed = parseProcMaps(*maps);
  const Mapping* vdso = findMapping(parsed.mappings, base);
  ASSERT_NE(vdso, nullptr);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(base),
                                         vdso->end - vdso->start);
  auto image = ElfImage::parse(bytes);
  ASSERT_TRUE(image);
  auto symbols = image->functionSymbols(ElfImage::kDynsym);
  ASSERT_TRUE(symbols);
  uint64_t clockGettime = 0;
  for (const auto& symbol : *symbols) {
    if (symbol.name == "__vdso_clock_gettime") {
      clockGettime = symbol.address;
    }
  }
  ASSERT_NE(clockGettime, 0u);
  ASSERT_FALSE(image->loadSegments().empty());
  const uint64_t runtime = base + clockGettime - image->loadSegments()[0].virtualAddress;
  Symbolizer symbolizer;
  const std::vector<uint64_t> addresses{runtime};
  auto result = symbolizer.symbolize(::getpid(), addresses);
  ASSERT_TRUE(result);
  EXPECT_THAT(result->frames[0].function, AnyOf(Eq("__vdso_clock_gettime"), Eq("clock_gettime")));
  EXPECT_EQ(result->mappingOf(result->frames[0])->path, "[vdso]");
}

}  // namespace
}  // namespace kprof::agent
