// smtpkit/utf8.hpp — well-formed UTF-8 (RFC 3629 §4), as RFC 6531 §3.3
// uses it: UTF8-non-ascii = UTF8-2 / UTF8-3 / UTF8-4. What the grammar
// accepts as UTF-8 under SMTPUTF8, and what the dialogue format writes as
// text rather than \xHH escapes.
//
// Limits: well-formedness only; no normalisation, no check of what the
// code points are.
#pragma once

#include <cstddef>
#include <string_view>

namespace smtpkit {

/// Length of the well-formed non-ASCII UTF-8 sequence at s[i], or 0 when the
/// octets there are not one (overlongs, surrogates and > U+10FFFF included).
constexpr std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  auto at = [&](std::size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u; };
  auto tail = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    unsigned c = at(k);
    return c >= lo && c <= hi;
  };
  const unsigned c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return tail(1) ? 2 : 0;
  if (c == 0xE0) return tail(1, 0xA0) && tail(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return tail(1) && tail(2) ? 3 : 0;
  if (c == 0xED) return tail(1, 0x80, 0x9F) && tail(2) ? 3 : 0;
  if (c == 0xF0) return tail(1, 0x90) && tail(2) && tail(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return tail(1) && tail(2) && tail(3) ? 4 : 0;
  if (c == 0xF4) return tail(1, 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
  return 0;
}

/// True when every octet of s is ASCII or part of a well-formed sequence.
constexpr bool valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace smtpkit
