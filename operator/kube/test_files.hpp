// A temporary directory for the kube tests' fixture files, removed afterwards.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kprof::kube::testing {

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& relative) const { return (path_ / relative).string(); }
  // Writes (creating parent directories) and returns the absolute path.
  std::string write(const std::string& relative, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace kprof::kube::testing
