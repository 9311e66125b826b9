// A bounded LRU cache of loaded module symbols. One module can be reached by several keys: its
// build id ("build-id:<hex>"), which lets identical binaries in different containers share one
// table, and the identity of each file seen with it ("file:<dev>:<inode>:<mtime>:<size>"), which
// avoids re-reading a file to learn its build id. Eviction drops the least recently used module
// and all its keys once the byte budget or the module count is exceeded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/symbolizer/module_symbols.hpp"

namespace kprof::agent {

class ModuleCache {
 public:
  ModuleCache(size_t maxBytes, size_t maxModules);

  // The module stored under `key`, now most recently used; nullptr on a miss.
  std::shared_ptr<const ModuleSymbols> find(const std::string& key);
  // Stores `module` under every key (replacing what they pointed to) and evicts to stay in budget.
  // The module just inserted is kept even when it alone exceeds the budget.
  void insert(const std::vector<std::string>& keys, std::shared_ptr<const ModuleSymbols> module);
  // Makes `alias` another key of the module stored under `existing`; false when there is none.
  bool addAlias(const std::string& existing, const std::string& alias);

  size_t moduleCount() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::vector<std::string> keys;
    std::shared_ptr<const ModuleSymbols> module;
    size_t bytes = 0;
  };
  using EntryList = std::list<Entry>;

  void removeKey(const std::string& key);
  void erase(EntryList::iterator entry);
  void evict();

  size_t maxBytes_;
  size_t maxModules_;
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  EntryList entries_;  // most recently used first
  std::unordered_map<std::string, EntryList::iterator> index_;
};

}  // namespace kprof::agent
