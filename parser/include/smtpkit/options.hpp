// smtpkit/options.hpp — what is in force when a line is parsed.
//
// The grammar is strict by default. Each lenient flag relaxes exactly one
// named rule, the way real servers commonly do; nothing is relaxed silently.
// Extensions change the grammar only when the caller says they are in force
// (e.g. SMTPUTF8 allows UTF-8 in paths, RFC 6531 §3.3).
#pragma once

#include <cstdint>

namespace smtpkit {

enum class lenient : std::uint32_t {
  none = 0,
  /// "MAIL FROM: <a@b>" — SP after the colon (RFC 5321 §4.1.1.2 has none).
  space_after_colon = 1u << 0,
  /// Lines ended by a bare LF are accepted as lines (RFC 5321 §2.3.8).
  bare_lf = 1u << 1,
  /// White space before CRLF is tolerated (RFC 5321 §4.1.1 SHOULD).
  trailing_whitespace = 1u << 2,
  /// "MAIL FROM:a@b" — path without angle brackets.
  path_brackets = 1u << 3,
  /// "HELO [192.0.2.1]" — address literal as the HELO argument.
  helo_address_literal = 1u << 4,
  /// Lower-case SASL mechanism names ("AUTH plain").
  auth_mechanism_case = 1u << 5,
  all = (1u << 6) - 1,
};

constexpr lenient operator|(lenient a, lenient b) noexcept {
  return static_cast<lenient>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr lenient operator&(lenient a, lenient b) noexcept {
  return static_cast<lenient>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}
constexpr bool has(lenient set, lenient flag) noexcept {
  return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(flag)) != 0;
}

struct parse_options {
  /// RFC 6531 in force: UTF-8 allowed in local parts, domains (U-labels) and
  /// esmtp-values.
  bool smtputf8 = false;
  /// Rules relaxed on purpose.
  lenient relax = lenient::none;

  [[nodiscard]] bool allows(lenient flag) const noexcept { return has(relax, flag); }
};

}  // namespace smtpkit
