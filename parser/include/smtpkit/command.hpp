// smtpkit/command.hpp — SMTP command lines (RFC 5321 §4.1.1, §4.1.2;
// STARTTLS RFC 3207 §4, AUTH RFC 4954 §4, BDAT RFC 3030 §2, the SMTPUTF8
// VRFY/EXPN parameter RFC 6531 §3.7.4).
//
// parse_command() takes one line without its terminator (see line.hpp) and
// fills a `command` whose string fields are views into that line. It never
// allocates. Verbs are case-insensitive; an unknown verb is recognised as
// such (kind == verb::unknown, rule "command.unknown").
//
// Known limits: AUTH continuation lines are parsed by parse_auth_response();
// private-use X-commands (§4.1.5) are reported as unknown verbs.
#pragma once

#include <cstdint>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/options.hpp"
#include "smtpkit/params.hpp"
#include "smtpkit/path.hpp"

namespace smtpkit {

enum class verb : std::uint8_t {
  unknown,
  ehlo,
  helo,
  mail,
  rcpt,
  data,
  rset,
  vrfy,
  expn,
  help,
  noop,
  quit,
  starttls,
  auth,
  bdat,
  count_
};
std::string_view to_string(verb v) noexcept;

struct command {
  verb kind = verb::unknown;
  std::string_view verb_text;  ///< as written
  std::string_view argument;   ///< everything after the verb and its SP

  // EHLO / HELO
  host client;
  // MAIL / RCPT
  path address;
  param_list params;
  mail_params typed;
  // VRFY / EXPN / HELP / NOOP: the String argument (may be empty for HELP/NOOP)
  std::string_view text;
  bool smtputf8_flag = false;  ///< VRFY/EXPN "SMTPUTF8" (RFC 6531 §3.7.4)
  // AUTH
  std::string_view mechanism;
  std::string_view initial_response;  ///< "=" means an empty response
  bool has_initial_response = false;
  // BDAT
  std::uint64_t chunk_size = 0;
  bool last = false;
};

struct command_result {
  diagnostic diag;
  command cmd;
  [[nodiscard]] bool ok() const noexcept { return diag.ok(); }
};

/// Parse one command line (no CRLF).
[[nodiscard]] command_result parse_command(std::string_view line, parse_options opts = {}) noexcept;

/// The same, into a command the caller keeps from line to line: `out` must
/// be default-constructed or hold the result of an earlier call of this
/// function (not modified since). Only the fields that earlier command
/// could have set are cleared, instead of all 432 octets of a fresh result,
/// which is what a server parsing command after command saves. `out` ends
/// up exactly as parse_command(line, opts).cmd would be.
[[nodiscard]] diagnostic parse_command(std::string_view line, command& out, parse_options opts = {}) noexcept;

/// RFC 4954 §4: a client's answer to a 334 challenge: base64 or "*".
struct auth_response {
  bool cancel = false;  ///< "*"
  std::string_view base64;
};
[[nodiscard]] parse_result<auth_response> parse_auth_response(std::string_view line) noexcept;

/// RFC 4954 §4: base64 = base64-terms [base64-final] (padding checked).
[[nodiscard]] bool is_base64(std::string_view s) noexcept;

}  // namespace smtpkit
