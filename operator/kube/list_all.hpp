// Listing a whole collection in pages, so a large cluster is read in bounded responses.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/core/result.hpp"
#include "operator/kube/api.hpp"

namespace kprof::kube {

// Follows continue tokens until the last page, `page_size` items at a time (0 or less: one
// unpaged request), and returns every item with the last page's resourceVersion (the point a
// watch should start from). options.limit and options.continue_token are replaced; the
// selectors and resource_version apply to the first page (later pages follow its snapshot). If a
// continue token expires mid-way (410 Expired), lists once more without paging, as client-go's
// pager does. A server that hands back the same continue token twice fails with Internal
// rather than looping.
Result<ObjectList> listAll(Api& api,
                           const ResourceType& type,
                           std::string_view ns,
                           ListOptions options = {},
                           int64_t page_size = 500);

}  // namespace kprof::kube
