// Finds a mapping, location or function by id. pprof lets producers pick any nonzero unique ids,
// so decoded profiles need a lookup; most producers (kprof, Go) number them 1..n in order, which
// takes the fast path with no table at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/core/result.hpp"

namespace kprof::pprof {

class IdIndex {
 public:
  // Indexes `items` (messages with an id() field). Fails on a zero or duplicate id; `what` names
  // the kind in the error ("location").
  template <typename Message>
  static Result<IdIndex> of(const google::protobuf::RepeatedPtrField<Message>& items,
                            std::string_view what) {
    IdIndex index;
    index.size_ = items.size();
    bool dense = true;
    for (int i = 0; i < items.size(); ++i) {
      if (items.Get(i).id() != static_cast<uint64_t>(i) + 1) {
        dense = false;
        break;
      }
    }
    if (dense) {
      return index;
    }
    index.dense_ = false;
    index.sparse_.reserve(static_cast<size_t>(items.size()));
    for (int i = 0; i < items.size(); ++i) {
      uint64_t id = items.Get(i).id();
      if (id == 0) {
        return fail(ErrorCode::Parse, std::string(what) + " " + std::to_string(i) + " has id 0");
      }
      if (!index.sparse_.emplace(id, i).second) {
        return fail(ErrorCode::Parse,
                    std::string(what) + " id " + std::to_string(id) + " is used twice");
      }
    }
    return index;
  }

  // Position of `id` in the indexed field, if present.
  std::optional<int> find(uint64_t id) const {
    if (dense_) {
      if (id == 0 || id > static_cast<uint64_t>(size_)) {
        return std::nullopt;
      }
      return static_cast<int>(id - 1);
    }
    auto found = sparse_.find(id);
    if (found == sparse_.end()) {
      return std::nullopt;
    }
    return found->second;
  }

 private:
  bool dense_ = true;
  int size_ = 0;
  std::unordered_map<uint64_t, int> sparse_;
};

}  // namespace kprof::pprof
