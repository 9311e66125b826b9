// Plain HTTP message values shared by the server and the client: no cpprestsdk types, so
// handlers and their tests deal in strings and maps only.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kprof::http {

// Header fields in arrival order; names compare case-insensitively (RFC 9110).
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Entry> entries);

  // Replaces every field with this name.
  void set(std::string name, std::string value);
  // Appends a field, keeping earlier ones with the same name.
  void add(std::string name, std::string value);
  void remove(std::string_view name);

  // The first field with this name.
  std::optional<std::string> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct Request {
  std::string method = "GET";
  std::string path = "/";                    // percent-decoded, without the query
  std::map<std::string, std::string> query;  // decoded; a repeated key keeps its last value
  Headers headers;
  std::string body;
  std::string peer;  // the client's IP address (server side only)

  std::optional<std::string> queryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::string content_type;  // wins over a Content-Type in headers

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
};

// "Not Found" for 404; "" for codes without a standard phrase.
std::string_view reasonPhrase(int status);

// A JSON error body every kprof endpoint uses: {"status":404,"error":"Not Found","message":"..."}.
Response errorResponse(int status, std::string_view message);

// Authorization header values.
std::string bearerAuthorization(std::string_view token);
std::string basicAuthorization(std::string_view user, std::string_view password);

}  // namespace kprof::http
