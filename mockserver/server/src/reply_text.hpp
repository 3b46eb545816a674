// reply_text.hpp — what the server may put in a reply line, whatever a
// client sent: RFC 5321 §4.2 textstring (HT and printable US-ASCII). A bare
// CR or LF in an echoed value would let a client that splits on either
// read a forged reply line; NUL and escape sequences reach terminals and
// logs. Every reply text built from client octets goes through here: the
// reference server's (reply()), and a script's captured values.
// Limits: 8-bit octets (UTF-8 included) become '?' too, SMTPUTF8 or not.
#pragma once

#include <string>
#include <string_view>

namespace smtpkit::mock {

/// Each octet outside HT and 32-126 becomes '?'.
inline std::string printable_text(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 32 || c > 126)) ch = '?';
  }
  return out;
}

/// As printable_text(), with the section signs of the RFC references in the
/// server's own texts written out as "section ".
inline std::string reply_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA7) {
      out += "section ";
      ++i;
    } else {
      out += (c == '\t' || (c >= 32 && c <= 126)) ? static_cast<char>(c) : '?';
    }
  }
  return out;
}

}  // namespace smtpkit::mock
