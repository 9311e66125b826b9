#include "agent/sampler/target_selector.hpp"

#include <charconv>
#include <system_error>

namespace kprof::agent {

bool TargetSelector::matches(uint32_t tgid, std::optional<uint64_t> task_pidns_inode) const {
  switch (mode) {
    case Mode::All:
      return true;
    case Mode::Pids:
      return pids.contains(tgid);
    case Mode::PidNamespace:
      return task_pidns_inode.has_value() && *task_pidns_inode == pidns_inode;
  }
  return false;
}

std::string TargetSelector::describe() const {
  switch (mode) {
    case Mode::All:
      return "all processes";
    case Mode::Pids: {
      std::string text = pids.size() == 1 ? "pid " : "pids ";
      bool first = true;
      for (uint32_t pid : pids) {
        if (!first) {
          text += ',';
        }
        text += std::to_string(pid);
        first = false;
      }
      return text;
    }
    case Mode::PidNamespace:
      return "pid namespace " + std::to_string(pidns_inode);
  }
  return "unknown";
}

std::optional<uint64_t> parseNamespaceLink(std::string_view link_text) {
  constexpr std::string_view kPrefix = "pid:[";
  if (!link_text.starts_with(kPrefix) || !link_text.ends_with(']')) {
    return std::nullopt;
  }
  std::string_view digits = link_text.substr(kPrefix.size(), link_text.size() - kPrefix.size() - 1);
  uint64_t inode = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  return inode;
}

Result<uint64_t> readPidNamespaceInode(const std::filesystem::path& proc_root,
                                       std::string_view process) {
  std::filesystem::path link = proc_root / std::string(process) / "ns" / "pid";
  std::error_code error;
  std::filesystem::path target = std::filesystem::read_symlink(link, error);
  if (error) {
    ErrorCode code = error == std::errc::permission_denied           ? ErrorCode::PermissionDenied
                     : error == std::errc::no_such_file_or_directory ? ErrorCode::NotFound
                                                                     : ErrorCode::Io;
    return fail(code, "reading " + link.string() + ": " + error.message());
  }
  std::optional<uint64_t> inode = parseNamespaceLink(target.string());
  if (!inode) {
    return fail(ErrorCode::Parse,
                link.string() + ": unexpected link text '" + target.string() + "'");
  }
  return *inode;
}

std::optional<uint64_t> PidNamespaceCache::lookup(uint32_t tgid) {
  auto found = inodes_.find(tgid);
  if (found != inodes_.end()) {
    return found->second;
  }
  Result<uint64_t> inode = readPidNamespaceInode(proc_root_, std::to_string(tgid));
  std::optional<uint64_t> entry = inode ? std::optional<uint64_t>(*inode) : std::nullopt;
  inodes_.emplace(tgid, entry);
  return entry;
}

}  // namespace kprof::agent
