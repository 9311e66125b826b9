#include "common/http/message.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/core/base64.hpp"

namespace kprof::http {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Headers::Headers(std::initializer_list<Entry> entries) : entries_(entries) {}

void Headers::set(std::string name, std::string value) {
  remove(name);
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(entries_, [&](const Entry& entry) { return equalsIgnoreCase(entry.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (equalsIgnoreCase(entry.first, name)) {
      return entry.second;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
  auto found = query.find(std::string(name));
  if (found == query.end()) {
    return std::nullopt;
  }
  return found->second;
}

Response Response::json(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "application/json";
  return response;
}

Response Response::text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "text/plain; charset=utf-8";
  return response;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

Response errorResponse(int status, std::string_view message) {
  nlohmann::json body = {
      {"status", status},
      {"error", reasonPhrase(status)},
      {"message", message},
  };
  // Replace invalid UTF-8 (a path echoed back, say) rather than throw.
  return Response::json(status,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string bearerAuthorization(std::string_view token) {
  return "Bearer " + std::string(token);
}

std::string basicAuthorization(std::string_view user, std::string_view password) {
  return "Basic " + base64Encode(std::string(user) + ":" + std::string(password));
}

}  // namespace kprof::http
