// smtpkit/escape.hpp — the escapes of the dialogue format (docs/dialogue-format.md):
// \\ \r \n \t \0 \xHH; any other backslash sequence is an error. Octets
// that are not valid UTF-8, and control octets, are written as \xHH.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace smtpkit {

struct unescape_error {
  std::size_t column = 0;  ///< 0-based offset in the escaped text
  std::string message;     ///< what was expected
};

/// Decode escapes. Raw control octets other than HT and ill-formed UTF-8 are
/// errors (they must be written as \xHH). Returns false and fills `err`.
[[nodiscard]] bool unescape(std::string_view text, std::string& out, unescape_error& err);

/// Encode octets for a record. A trailing space or tab is escaped too, so
/// payloads survive editors that strip trailing white space.
[[nodiscard]] std::string escape(std::string_view bytes);

}  // namespace smtpkit
