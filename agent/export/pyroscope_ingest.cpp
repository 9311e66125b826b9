#include "agent/export/pyroscope_ingest.hpp"

#include <chrono>
#include <string_view>

#include "common/http/message.hpp"

namespace kprof::agent {
namespace {

std::string sanitizeLabelText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '{' || c == '}' || c == ',' || c == '=' || c == ' ' || c == '"' || c == '\n') {
      c = '_';
    }
  }
  return out;
}

int64_t unixSeconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

std::string seriesName(const std::string& service_name,
                       const std::string& profile_type,
                       const std::map<std::string, std::string>& labels) {
  std::string name = sanitizeLabelText(service_name) + "." + profile_type + "{";
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (value.empty() || key == "service_name") {
      continue;
    }
    if (!first) {
      name += ',';
    }
    first = false;
    name += sanitizeLabelText(key) + "=" + sanitizeLabelText(value);
  }
  name += '}';
  return name;
}

OutgoingRequest buildIngestRequest(const PyroscopeTarget& target,
                                   const Upload& upload,
                                   std::string boundary) {
  while (upload.pprof_gz.find(boundary) != std::string::npos) {
    boundary += "-x";
  }
  OutgoingRequest request;
  request.path = "/ingest";
  request.query = {{"name", upload.series_name},
                   {"from", std::to_string(unixSeconds(upload.from))},
                   {"until", std::to_string(unixSeconds(upload.until))},
                   {"format", "pprof"},
                   {"sampleRate", std::to_string(upload.sample_rate_hz)},
                   {"spyName", "kprof"}};
  request.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  if (!target.tenant_id.empty()) {
    request.headers.emplace_back("X-Scope-OrgID", target.tenant_id);
  }
  if (target.auth == PyroscopeTarget::Auth::Basic) {
    request.headers.emplace_back("Authorization",
                                 http::basicAuthorization(target.username, target.password));
  } else if (target.auth == PyroscopeTarget::Auth::Bearer) {
    request.headers.emplace_back("Authorization", "Bearer " + target.bearer_token);
  }
  request.body.reserve(upload.pprof_gz.size() + 256);
  request.body += "--" + boundary + "\r\n";
  request.body +=
      "Content-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n";
  request.body += "Content-Type: application/octet-stream\r\n\r\n";
  request.body += upload.pprof_gz;
  request.body += "\r\n--" + boundary + "--\r\n";
  return request;
}

}  // namespace kprof::agent
