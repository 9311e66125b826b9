#include "agent/symbolizer/module_cache.hpp"

#include <algorithm>

namespace kprof::agent {

ModuleCache::ModuleCache(size_t maxBytes, size_t maxModules)
    : maxBytes_(maxBytes), maxModules_(std::max<size_t>(maxModules, 1)) {}

std::shared_ptr<const ModuleSymbols> ModuleCache::find(const std::string& key) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, found->second);
  return found->second->module;
}

void ModuleCache::insert(const std::vector<std::string>& keys,
                         std::shared_ptr<const ModuleSymbols> module) {
  for (const std::string& key : keys) {
    removeKey(key);
  }
  Entry entry;
  entry.bytes = module->memoryBytes();
  entry.module = std::move(module);
  entries_.push_front(std::move(entry));
  for (const std::string& key : keys) {
    entries_.front().keys.push_back(key);
    index_[key] = entries_.begin();
  }
  bytes_ += entries_.front().bytes;
  evict();
}

bool ModuleCache::addAlias(const std::string& existing, const std::string& alias) {
  auto found = index_.find(existing);
  if (found == index_.end()) {
    return false;
  }
  const EntryList::iterator entry = found->second;
  if (auto current = index_.find(alias); current != index_.end()) {
    if (current->second == entry) {
      return true;
    }
    removeKey(alias);
  }
  entry->keys.push_back(alias);
  index_[alias] = entry;
  return true;
}

void ModuleCache::removeKey(const std::string& key) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    return;
  }
  const EntryList::iterator entry = found->second;
  index_.erase(found);
  auto& keys = entry->keys;
  keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
  if (keys.empty()) {
    bytes_ -= entry->bytes;
    entries_.erase(entry);
  }
}

void ModuleCache::erase(EntryList::iterator entry) {
  for (const std::string& key : entry->keys) {
    index_.erase(key);
  }
  bytes_ -= entry->bytes;
  entries_.erase(entry);
}

void ModuleCache::evict() {
  while (entries_.size() > 1 && (bytes_ > maxBytes_ || entries_.size() > maxModules_)) {
    erase(std::prev(entries_.end()));
    ++evictions_;
  }
}

}  // namespace kprof::agent
