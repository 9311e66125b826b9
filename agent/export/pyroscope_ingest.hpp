// Pyroscope's ingest protocol as pure functions: the series name with its labels, and the
// `POST /ingest?name=…&from=…&until=…&format=pprof&sampleRate=…&spyName=kprof` request that
// carries a gzipped pprof as multipart/form-data (the field `profile`), tenant header and auth.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/export/upload_queue.hpp"

namespace kprof::agent {

struct PyroscopeTarget {
  std::string url;        // "http://pyroscope:4040" (a trailing slash is fine)
  std::string tenant_id;  // sent as X-Scope-OrgID when set
  enum class Auth { None, Basic, Bearer } auth = Auth::None;
  std::string username;
  std::string password;
  std::string bearer_token;
};

// Relative to the target's URL: the transport joins them and encodes the query.
struct OutgoingRequest {
  std::string method = "POST";
  std::string path;  // "/ingest", below any path prefix of the target URL
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// "shop.cpu{env=prod,pod=shop-1}": labels sorted by key; characters Pyroscope's name parser treats
// as syntax ({ } , = and spaces) are replaced by '_' in keys and values, so a label cannot forge
// another. Empty values are left out.
std::string seriesName(const std::string& service_name,
                       const std::string& profile_type,
                       const std::map<std::string, std::string>& labels);

// The whole HTTP request for one upload. `boundary` separates the multipart parts; when the
// profile bytes happen to contain it, a longer one is derived.
OutgoingRequest buildIngestRequest(const PyroscopeTarget& target,
                                   const Upload& upload,
                                   std::string boundary = "kprof-profile-boundary");

}  // namespace kprof::agent
