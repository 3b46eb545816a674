// smtpkit/mock/script/generalize.hpp — a recording made a reusable script
// (`smtpkit script generalize`, `smtpkit record --generalize`;
// docs/dialogue-format.md, "Generalising a recording"): the client's
// records of what varies from run to run become C~ patterns, each after its
// recorded line, which stays as a comment:
//
//   EHLO/HELO          the client's own name (RFC 5321 §4.1.1.1)   C~ EHLO {*}
//   MAIL ... SIZE=n    the message's size (RFC 1870 §3)            SIZE={re:[0-9]+}
//   in the mail data, in the message's header and in its parts' headers:
//     the fields clients generate (message_match.hpp, generated_fields)
//                                                                  C~ Date: {*}
//     a multipart boundary (RFC 2046 §5.1.1), where declared       boundary="{*}"
//     and in its delimiter lines                                   C~ --{*}
//     a date-time (RFC 5322 §3.3) in any other field               Subject: test {*}
//
// Everything else — the server's records, directives, comments, C= records,
// patterns already there — is left as it is, line for line, so the result
// reads like the recording. Mail data is what follows a 354 reply (only
// DATA gets one, RFC 5321 §4.1.1.4) up to the client's "." line.
//
// Limits: a field folded over several lines is patterned line by line (a
// strict comparison then wants as many lines); BDAT chunks are left alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "smtpkit/mock/script/script.hpp"

namespace smtpkit::mock {

struct generalized {
  std::string text;
  std::size_t changed = 0;  ///< records made patterns
};

/// `text`: a recording (or any script); errors as load_script reports them.
[[nodiscard]] std::variant<generalized, script_error> generalize(std::string_view text, std::string_view source);

}  // namespace smtpkit::mock
