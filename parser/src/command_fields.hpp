// command_fields.hpp — which fields of `command` each verb's argument
// fills (RFC 5321 §4.1.1: EHLO/HELO a host, MAIL/RCPT a path and
// parameters, VRFY/EXPN/HELP/NOOP a String; AUTH RFC 4954 §4, BDAT RFC
// 3030 §2), written down once. parse_into dispatches on the argument kind,
// clear_after clears its fields, and test_support's same_result compares
// them, so a new field or verb is one edit here, not three that can drift.
//
// Limits: kind, verb_text and argument, which every parse sets, are not
// in the table.
#pragma once

#include <cstdint>

#include "smtpkit/command.hpp"

namespace smtpkit::detail {

/// What follows a verb, and so which fields a parse of it may fill.
enum class argument_kind : std::uint8_t {
  none,    ///< DATA, RSET, QUIT, STARTTLS, and unknown verbs
  hello,   ///< EHLO, HELO: client
  path,    ///< MAIL, RCPT: address, params, typed
  string,  ///< VRFY, EXPN, HELP, NOOP: text, smtputf8_flag
  auth,    ///< AUTH: mechanism, initial_response, has_initial_response
  bdat,    ///< BDAT: chunk_size, last
  count_
};

constexpr argument_kind argument_of(verb v) noexcept {
  switch (v) {
    case verb::ehlo:
    case verb::helo: return argument_kind::hello;
    case verb::mail:
    case verb::rcpt: return argument_kind::path;
    case verb::vrfy:
    case verb::expn:
    case verb::help:
    case verb::noop: return argument_kind::string;
    case verb::auth: return argument_kind::auth;
    case verb::bdat: return argument_kind::bdat;
    case verb::unknown:
    case verb::data:
    case verb::rset:
    case verb::quit:
    case verb::starttls:
    case verb::count_: break;
  }
  return argument_kind::none;
}

/// Calls f once per field an argument of kind `k` fills, with that field of
/// each command given: f(c.client) for one command, f(a.client, b.client)
/// for two.
template <class F, class... Command>
constexpr void for_each_field(argument_kind k, F&& f, Command&... c) {
  switch (k) {
    case argument_kind::hello: f(c.client...); return;
    case argument_kind::path:
      f(c.address...);
      f(c.params...);
      f(c.typed...);
      return;
    case argument_kind::string:
      f(c.text...);
      f(c.smtputf8_flag...);
      return;
    case argument_kind::auth:
      f(c.mechanism...);
      f(c.initial_response...);
      f(c.has_initial_response...);
      return;
    case argument_kind::bdat:
      f(c.chunk_size...);
      f(c.last...);
      return;
    case argument_kind::none:
    case argument_kind::count_: return;
  }
}

// A field added to `command` must be added above: this size (on LP64
// targets) is the reminder.
static_assert(sizeof(void*) != 8 || sizeof(command) == 432,
              "command changed: list its fields in for_each_field, then update this size");

}  // namespace smtpkit::detail
