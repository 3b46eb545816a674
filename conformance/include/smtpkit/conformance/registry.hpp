// smtpkit/conformance/registry.hpp — external lists the rules consult:
// the IANA "SMTP Service Extensions" registry (RFC 5321 §2.2.2) and the
// special-use domain names of RFC 6761 §6 (which count as fully qualified
// for RFC 5321 §2.3.5).
//
// The registry list is embedded, so verdicts do not depend on the network.
// It was assembled from the registry as published on the date below and the
// IANA sections of the RFCs that define each keyword.
#pragma once

#include <span>
#include <string_view>

namespace smtpkit::conformance {

inline constexpr std::string_view iana_registry_date = "2025-09-19";

/// Registered EHLO keywords (upper case).
std::span<const std::string_view> registered_keywords() noexcept;
/// True when the keyword is registered (case-insensitive).
bool registered_keyword(std::string_view keyword) noexcept;
/// RFC 5321 §2.2.2: X-prefixed keywords are local extensions.
bool private_keyword(std::string_view keyword) noexcept;

/// RFC 5321 §2.3.5: a domain with at least two labels, or a single-label
/// special-use name of RFC 6761 (localhost, test, invalid, example).
bool fully_qualified(std::string_view domain) noexcept;

}  // namespace smtpkit::conformance
