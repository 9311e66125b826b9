// Picking a free TCP port for servers (and tests) that are told to use port 0.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/result.hpp"

namespace kprof::http {

// Asks the kernel for a port that is free on `host` (a numeric IPv4 or IPv6 address) by binding
// port 0 and closing the socket again. Another process may take the port before the caller binds
// it, so callers retry on "address in use".
Result<std::uint16_t> pickFreePort(const std::string& host = "127.0.0.1");

}  // namespace kprof::http
