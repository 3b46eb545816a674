// smtpkit/mock/common/envelope.hpp — reading the envelope JSON the server
// stores and announces (docs/serve.md, "Storage"): an ESMTP parameter of
// MAIL or RCPT by keyword, as the client wrote it in any case (RFC 5321
// §2.4: keywords are case-insensitive).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "smtpkit/ascii.hpp"

namespace smtpkit::mock {

/// The value of `key` in a parameters object ({"SIZE": "12", "SMTPUTF8":
/// true}); "" when absent, `flag` for a keyword without value.
inline std::string envelope_param(const nlohmann::ordered_json& params, std::string_view key,
                                  std::string_view flag = "1") {
  if (!params.is_object()) return {};
  for (const auto& [k, v] : params.items())
    if (iequals(k, key)) return v.is_string() ? v.get<std::string>() : std::string(flag);
  return {};
}

/// The parameters object holds `key`, with or without a value.
inline bool has_envelope_param(const nlohmann::ordered_json& params, std::string_view key) {
  if (!params.is_object()) return false;
  for (const auto& [k, v] : params.items())
    if (iequals(k, key)) return true;
  return false;
}

}  // namespace smtpkit::mock
