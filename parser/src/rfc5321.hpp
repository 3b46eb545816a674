// rfc5321.hpp — character classes of the SMTP grammar (RFC 5321 §4.1.2,
// §4.1.3, §4.2; RFC 5234 §B.1; RFC 3461 §4; RFC 4954 §4).
//
// Each class is a constexpr 256-entry table named after the ABNF rule it
// implements, with the rule and its section above it. Tables rather than
// range tests keep every hot loop at one load per octet. Internal to the
// library; the case-insensitive comparisons are the public ascii.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "smtpkit/ascii.hpp"

namespace smtpkit::detail {

using char_table = std::array<bool, 256>;

template <class Pred>
constexpr char_table make_table(Pred p) {
  char_table t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = p(c);
  return t;
}

constexpr bool is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr bool is_digit(int c) { return c >= '0' && c <= '9'; }
constexpr bool is_hexdig(int c) { return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

// RFC 5234 §B.1: ALPHA / DIGIT — and RFC 5321 §4.1.2:
//   Let-dig = ALPHA / DIGIT
inline constexpr char_table let_dig = make_table([](int c) { return is_alpha(c) || is_digit(c); });

// RFC 5321 §4.1.2:  Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
inline constexpr char_table ldh = make_table([](int c) { return is_alpha(c) || is_digit(c) || c == '-'; });

// RFC 5322 §3.2.3 (used by RFC 5321 §4.1.2 Atom = 1*atext):
//   atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
//           "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
inline constexpr char_table atext = make_table([](int c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~': return true;
    default: return false;
  }
});

// RFC 5321 §4.1.2:  qtextSMTP = %d32-33 / %d35-91 / %d93-126
inline constexpr char_table qtext_smtp =
    make_table([](int c) { return c == 32 || c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126); });

// RFC 5321 §4.1.2:  quoted-pairSMTP = %d92 %d32-126   (the octet after "\")
inline constexpr char_table quoted_pair_char = make_table([](int c) { return c >= 32 && c <= 126; });

// RFC 5321 §4.1.2:  esmtp-value = 1*(%d33-60 / %d62-126)
inline constexpr char_table esmtp_value_char =
    make_table([](int c) { return (c >= 33 && c <= 60) || (c >= 62 && c <= 126); });

// RFC 5321 §4.1.3:  dcontent = %d33-90 / %d94-126
inline constexpr char_table dcontent = make_table([](int c) { return (c >= 33 && c <= 90) || (c >= 94 && c <= 126); });

// RFC 5321 §4.2:  textstring = 1*(%d09 / %d32-126)
inline constexpr char_table text_char = make_table([](int c) { return c == 9 || (c >= 32 && c <= 126); });

// RFC 5321 §4.1.1.1:  ehlo-greet = 1*(%d0-9 / %d11-12 / %d14-127)
inline constexpr char_table ehlo_greet_char =
    make_table([](int c) { return (c >= 0 && c <= 9) || c == 11 || c == 12 || (c >= 14 && c <= 127); });

// RFC 5321 §4.1.1.1:  ehlo-param = 1*(%d33-126)
inline constexpr char_table ehlo_param_char = make_table([](int c) { return c >= 33 && c <= 126; });

// RFC 3461 §4:  xchar = any ASCII CHAR between "!" (33) and "~" (126)
//               inclusive, except for "+" and "=".
inline constexpr char_table xchar = make_table([](int c) { return c >= 33 && c <= 126 && c != '+' && c != '='; });

// RFC 3461 §4:  hexchar = "+" 2(%x30-39 / %x41-46)   (upper-case hex only)
inline constexpr char_table xtext_hex = make_table([](int c) { return is_digit(c) || (c >= 'A' && c <= 'F'); });

// RFC 4954 §4 (RFC 4422):  mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE
inline constexpr char_table mech_char =
    make_table([](int c) { return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_'; });

// RFC 4954 §4:  base64-char = ALPHA / DIGIT / "+" / "/"
inline constexpr char_table base64_char =
    make_table([](int c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '/'; });

// Octets a line framer must look at: CR, LF, other C0 controls, DEL and
// every 8-bit octet (so the framer can flag them in one pass).
inline constexpr char_table line_special = make_table([](int c) { return c < 32 || c >= 127; });

constexpr bool in(const char_table& t, char c) noexcept { return t[static_cast<unsigned char>(c)]; }

}  // namespace smtpkit::detail
