#include "operator/kube/list_all.hpp"

#include <utility>

namespace kprof::kube {

Result<ObjectList> listAll(Api& api,
                           const ResourceType& type,
                           std::string_view ns,
                           ListOptions options,
                           int64_t page_size) {
  options.limit = page_size > 0 ? page_size : 0;
  options.continue_token.clear();
  ListOptions next = options;
  ObjectList all;
  while (true) {
    auto page = api.list(type, ns, next);
    if (!page) {
      if (page.error().code == ErrorCode::Expired && !next.continue_token.empty()) {
        ListOptions unpaged = options;
        unpaged.limit = 0;
        return api.list(type, ns, unpaged);
      }
      return page.error();
    }
    for (Object& item : page->items) {
      all.items.push_back(std::move(item));
    }
    all.resource_version = std::move(page->resource_version);
    if (page->continue_token.empty()) {
      return all;
    }
    if (page->continue_token == next.continue_token) {
      return fail(ErrorCode::Internal,
                  "listing " + type.resource + ": the server repeated continue token " +
                      page->continue_token);
    }
    next.continue_token = std::move(page->continue_token);
    // The continue token pins the snapshot; the server refuses a resourceVersion beside it.
    next.resource_version.clear();
  }
}

}  // namespace kprof::kube
