// Test support for the symbolizer's integration tests: a scratch directory shaped like /proc, and
// file helpers.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace kprof::agent::testing {

inline std::vector<std::byte> readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

inline void writeBytes(const std::filesystem::path& path, const void* data, size_t size) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

inline void writeText(const std::filesystem::path& path, const std::string& text) {
  writeBytes(path, text.data(), text.size());
}

// A temporary directory removed with everything in it when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("kprof-symbolizer-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A fake /proc: <root>/<pid>/maps, <root>/<pid>/root/..., <root>/kallsyms.
class FakeProc {
 public:
  std::string procRoot() const { return dir_.path().string(); }
  std::filesystem::path processDir(int pid) const { return dir_.path() / std::to_string(pid); }
  // A path inside the process's root directory, e.g. inRoot(42, "/usr/bin/app").
  std::filesystem::path inRoot(int pid, const std::string& path) const {
    return processDir(pid) / "root" / std::filesystem::path(path).relative_path();
  }
  void setMaps(int pid, const std::string& text) const {
    writeText(processDir(pid) / "maps", text);
  }
  void copyIntoRoot(int pid, const std::filesystem::path& source, const std::string& path) const {
    const auto target = inRoot(pid, path);
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
  }

 private:
  ScratchDir dir_;
};

}  // namespace kprof::agent::testing
