#include "agent/symbolizer/perf_map.hpp"

#include <cerrno>
#include <charconv>

#include <unistd.h>

namespace kprof::agent {
namespace {

std::optional<uint64_t> parseHex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
  }
  uint64_t value = 0;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, value, 16);
  if (text.empty() || ec != std::errc() || ptr != last) {
    return std::nullopt;
  }
  return value;
}

std::optional<PerfMapEntry> parseLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  const size_t firstSpace = line.find(' ');
  if (firstSpace == std::string_view::npos) {
    return std::nullopt;
  }
  const size_t secondSpace = line.find(' ', firstSpace + 1);
  if (secondSpace == std::string_view::npos) {
    return std::nullopt;
  }
  const auto start = parseHex(line.substr(0, firstSpace));
  const auto size = parseHex(line.substr(firstSpace + 1, secondSpace - firstSpace - 1));
  // The name is the rest of the line: JIT names often carry spaces ("LazyCompile:~f /app/x.js:3").
  std::string_view name = line.substr(secondSpace + 1);
  while (!name.empty() && name.front() == ' ') {
    name.remove_prefix(1);
  }
  if (!start || !size || name.empty()) {
    return std::nullopt;
  }
  return PerfMapEntry{*start, *size, name};
}

bool sameFile(const FileIdentity& a, const FileIdentity& b) {
  return a.device == b.device && a.inode == b.inode;
}

}  // namespace

PerfMapText parsePerfMap(std::string_view text) {
  PerfMapText parsed;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty()) {
      continue;
    }
    if (auto entry = parseLine(line)) {
      parsed.entries.push_back(*entry);
    } else {
      ++parsed.malformedLines;
    }
  }
  return parsed;
}

PerfMap::PerfMap(std::string rootDir, std::string path, size_t maxEntries, size_t maxFileBytes)
    : rootDir_(std::move(rootDir)),
      path_(std::move(path)),
      maxEntries_(maxEntries),
      maxFileBytes_(maxFileBytes) {}

Status PerfMap::refresh() {
  auto fd = openInRoot(rootDir_, path_);
  if (!fd) {
    return fd.error();
  }
  auto identity = identityOf(fd->get());
  if (!identity) {
    return identity.error();
  }
  if (!identity->regular) {
    return fail(ErrorCode::InvalidArgument, path_ + ": not a regular file");
  }
  if (!sameFile(*identity, identity_) || identity->size < consumedBytes_) {
    table_ = SymbolTable();
    consumedBytes_ = 0;
  }
  identity_ = *identity;
  const uint64_t readableEnd = std::min<uint64_t>(identity->size, maxFileBytes_);
  if (readableEnd <= consumedBytes_) {
    return ok();
  }
  std::string appended(readableEnd - consumedBytes_, '\0');
  size_t filled = 0;
  while (filled < appended.size()) {
    const ssize_t count = ::pread(fd->get(),
                                  appended.data() + filled,
                                  appended.size() - filled,
                                  static_cast<off_t>(consumedBytes_ + filled));
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      return errnoError(errno, path_);
    }
    if (count == 0) {
      break;
    }
    filled += static_cast<size_t>(count);
  }
  appended.resize(filled);
  // A writer may be mid-line: keep the partial tail for the next refresh.
  const size_t lastNewline = appended.rfind('\n');
  if (lastNewline == std::string::npos) {
    return ok();
  }
  appended.resize(lastNewline + 1);
  const PerfMapText parsed = parsePerfMap(appended);
  malformedLines_ += parsed.malformedLines;

  // Carry the current table over below the new lines, which win where they share a start address.
  SymbolTableBuilder builder;
  table_.forEach([&](uint64_t start, uint64_t size, std::string_view name) {
    builder.add(start, size, name, UINT64_MAX, 0);
  });
  uint32_t rank = 1;
  for (const PerfMapEntry& entry : parsed.entries) {
    if (builder.size() >= maxEntries_) {
      ++droppedEntries_;
      continue;
    }
    builder.add(entry.start, entry.size, entry.name, UINT64_MAX, rank++);
  }
  table_ = std::move(builder).build();
  consumedBytes_ += appended.size();
  ++reloads_;
  return ok();
}

}  // namespace kprof::agent
