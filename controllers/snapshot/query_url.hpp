// Where a user looks at a snapshot's profiles, from the agent config of one of its pods: the
// first target decides. Pyroscope: its UI with the series filtered on snapshot_id; kprof-store:
// its profile list for the snapshot; files: the directory.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kprof::controllers {

// Empty when the config has no target this can link to. `embedded_store_url` stands in for a
// store target without a URL, as the agent config API resolves it.
std::string snapshotQueryUrl(const nlohmann::json& agent_config, std::string_view snapshot_id,
                             std::string_view embedded_store_url);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percentEncode(std::string_view text);

}  // namespace kprof::controllers
