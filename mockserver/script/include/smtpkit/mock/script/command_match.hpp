// smtpkit/mock/script/command_match.hpp — how a script's exact C: record
// matches a command line a client sent (docs/dialogue-format.md, "Serving a
// dialogue"). RFC 5321 §2.4: verbs and argument keywords are not case
// sensitive, so the verb, the "FROM:"/"TO:" tag of MAIL and RCPT and the
// ESMTP parameter keywords match without regard to case; everything else
// (addresses, domains, parameter values, AUTH data) matches exactly. Where
// those parts are is the grammar's to say (parse_command's views).
//
// A message's declared size (MAIL's SIZE=, RFC 1870 §3; a BDAT chunk's
// size, RFC 3030 §2) belongs with the message: when a served recording does
// not compare the message octet for octet (the default, message_match.hpp),
// it does not compare those sizes either.
//
// Limits: a line that is not a command of a verb the grammar knows (an AUTH
// response, X-commands) matches only exactly.
#pragma once

#include <cstdint>
#include <string_view>

namespace smtpkit::mock {

enum class command_match : std::uint8_t {
  differ,        ///< not the same command
  exact,         ///< octet for octet
  by_case,       ///< the same but for the case of verb, tag or keywords
  size_differs,  ///< the same but for the SIZE value or BDAT chunk size (only when sizes are not compared)
};

/// `expected` and `received` without their CRLF.
[[nodiscard]] command_match match_command(std::string_view expected, std::string_view received, bool compare_size);

}  // namespace smtpkit::mock
