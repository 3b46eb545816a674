// smtpkit/mock/common/endpoint.hpp — what every listening room of the mock
// server layer reports at start: the endpoints it bound (port 0 resolved to
// the real port), or a setup error a user can act on.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace smtpkit::mock {

/// A configuration a listener cannot start with (port in use, unreadable
/// certificate, unwritable folder): one line for the user.
struct setup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct bound_endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool implicit_tls = false;
};

/// How an endpoint may be written on the command line.
struct endpoint_rules {
  /// Host of "PORT" and ":PORT"; empty: the host must be given.
  std::string_view default_host;
  /// Port 0 ("any free port") is allowed: listeners, never a peer to dial.
  bool any_port = false;
};

/// "HOST:PORT" or "[IPv6]:PORT" (and "PORT", ":PORT" with a default host).
/// False, with why: "expected HOST:PORT", "port 70000 is out of range (1-65535)".
bool parse_endpoint(std::string_view text, const endpoint_rules& rules, std::string& host, std::uint16_t& port,
                    std::string& why);

}  // namespace smtpkit::mock
