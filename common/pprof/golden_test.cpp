// Byte-exact golden tests: the encodings of the example profiles must not change by accident,
// because stored profiles, upload dedup hashes and other tools' fixtures depend on them.
//
// To regenerate after an intended change (a new field, changed example data):
//   KPROF_UPDATE_GOLDEN=1 ctest --test-dir build/pprof -R 'Golden' --output-on-failure
// then check the new files with `go tool pprof -raw common/pprof/testdata/cpu.pb.gz` and commit
// them with the change. The gzip files also depend on zlib's deflate (Debian bookworm's 1.2.13).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "common/pprof/codec.hpp"
#include "common/pprof/example_profiles.hpp"

namespace kprof::pprof {
namespace {

const std::filesystem::path kTestdata =
    std::filesystem::path(KPROF_SOURCE_DIR) / "common/pprof/testdata";

bool updating() {
  const char* flag = std::getenv("KPROF_UPDATE_GOLDEN");
  return flag != nullptr && std::string(flag) == "1";
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void expectGolden(const std::string& name, const std::string& actual) {
  std::filesystem::path path = kTestdata / name;
  if (updating()) {
    std::filesystem::create_directories(kTestdata);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing; run with KPROF_UPDATE_GOLDEN=1 to create it";
  std::string expected = readFile(path);
  ASSERT_EQ(actual.size(), expected.size()) << name << " changed size";
  EXPECT_TRUE(actual == expected) << name << " differs from the golden file";

  // The committed bytes decode, and re-encode to themselves.
  auto decoded = decode(expected);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  auto reencoded = isGzip(expected) ? encodeGzip(*decoded) : encode(*decoded);
  ASSERT_TRUE(reencoded);
  EXPECT_TRUE(*reencoded == expected) << name << " does not re-encode to itself";
}

TEST(Golden, CpuProfile) {
  Profile profile = examples::cpuProfile();
  expectGolden("cpu.pb", *encode(profile));
  expectGolden("cpu.pb.gz", *encodeGzip(profile));
}

TEST(Golden, AllocProfile) {
  Profile profile = examples::allocProfile();
  expectGolden("alloc.pb", *encode(profile));
  expectGolden("alloc.pb.gz", *encodeGzip(profile));
}

}  // namespace
}  // namespace kprof::pprof
