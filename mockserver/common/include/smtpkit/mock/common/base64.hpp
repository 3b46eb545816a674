// smtpkit/mock/common/base64.hpp — RFC 4648 §4 base64, as SASL exchanges carry it (RFC 4954 §4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smtpkit::mock {

std::string base64_encode(std::string_view in);
/// Strict decoding: padding required, nothing outside the alphabet.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace smtpkit::mock
