// smtpkit/ascii.hpp — ASCII case folding and character tests for SMTP
// text: verbs, keywords and mechanism names are case-insensitive (RFC 5321
// §2.4; RFC 5234 §2.3: ABNF quoted strings), DIGIT (RFC 5234 §B.1), and
// the octets of an Ldh-str (RFC 5321 §4.1.2: ALPHA / DIGIT / "-").
//
// Unlike <cctype> these ignore the locale, take any char (an 8-bit octet
// is in no class and folds to itself, with no undefined behaviour for a
// negative char) and are constexpr. Only A-Z fold: a comparison of UTF-8
// text is exact outside ASCII.
#pragma once

#include <cstddef>
#include <string_view>

namespace smtpkit {

/// 'A'-'Z' to 'a'-'z'; every other octet as it is.
constexpr char to_lower_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

/// Equal but for the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  return true;
}

/// `s` begins with `prefix`, but for the case of ASCII letters.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// DIGIT = %x30-39
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// An octet of an Ldh-str: ALPHA / DIGIT / "-" (RFC 5321 §4.1.2).
constexpr bool is_ldh(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
}

}  // namespace smtpkit
