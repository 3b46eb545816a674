// smtpkit/mock/common/endpoint.hpp — what every listening room of the mock
// server layer reports at start: the endpoints it bound (port 0 resolved to
// the real port), or a setup error a user can act on.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

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

}  // namespace smtpkit::mock
