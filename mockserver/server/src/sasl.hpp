// sasl.hpp — the server side of the SASL mechanisms the mock server offers
// (RFC 4954 §4): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
// CRAM-MD5 (RFC 2195) and XOAUTH2 (Google's bearer-token profile).
// With no user list every well-formed exchange succeeds ("accept any");
// with one, the credentials must match.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/mock/server/config.hpp"

namespace smtpkit::mock {

struct sasl_step {
  enum class kind { challenge, success, failure, malformed } what = kind::failure;
  std::string challenge;  ///< raw octets; the caller base64-encodes them
  std::string user;       ///< authenticated identity on success
};

class sasl_exchange {
 public:
  virtual ~sasl_exchange() = default;
  /// `initial`: the decoded initial response, if the client sent one.
  virtual sasl_step start(const std::optional<std::string>& initial) = 0;
  virtual sasl_step next(const std::string& response) = 0;
};

/// nullptr when the mechanism is not one of those offered.
std::unique_ptr<sasl_exchange> make_sasl(std::string_view mechanism, const std::vector<user_entry>& users,
                                         const std::string& hostname);

}  // namespace smtpkit::mock
