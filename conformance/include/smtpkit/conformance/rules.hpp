// smtpkit/conformance/rules.hpp — the rule catalogue.
//
// Every verdict smtpkit gives names a rule: a stable id, the side it binds,
// its level (the RFC's own keyword: MUST / SHOULD / MAY; "advice" for what a
// dialogue alone cannot judge, never counted by --fail-on), the RFC section,
// and one line of text. Three families:
//   * protocol rules written here (sequencing, extensions, replies, limits);
//   * grammar rules, one per grammar error (error.hpp) and side, id
//     "<side>.<grammar id>" — a breach of the ABNF is MUST-level, a size
//     limit of RFC 5321 §4.5.3.1 ("SHOULD be avoided") is SHOULD-level;
//   * DATA stream rules, one per data_anomaly, id "client.<anomaly id>".
// Ids are a contract (reports, CI dashboards): add rules, never rename.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "smtpkit/data.hpp"
#include "smtpkit/error.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::conformance {

enum class level : std::uint8_t { must, should, may, advice };
std::string_view to_string(level l) noexcept;  // "MUST", "SHOULD", "MAY", "ADVICE"
/// "must" / "should" / "may" (case-insensitive); false when unknown.
bool level_from_string(std::string_view s, level& out) noexcept;
/// True when a finding of level `found` counts under a --fail-on threshold.
constexpr bool counts(level found, level threshold) noexcept {
  return found != level::advice && static_cast<int>(found) <= static_cast<int>(threshold);
}

enum class rule_family : std::uint8_t { protocol, grammar, data };

struct rule {
  std::string id;
  side binds = side::client;
  level lvl = level::must;
  std::string rfc;
  std::string text;
  rule_family family = rule_family::protocol;
  // The grounds (conformance/src/grounds.cpp): the RFC sentence the rule
  // rests on, so a reader can judge a verdict without leaving the report.
  std::string grounds_rfc;  ///< the section the quote stands in
  std::string quote;        ///< the RFC's words as published (empty: only summarised in `note`)
  std::string note;         ///< how smtpkit reads it (level, prose that widens the ABNF)
  std::string errata;       ///< the errata of that RFC considered
};

/// Protocol rules, in catalogue order. Their index is their position.
enum class rk : std::uint16_t {
  // client: greeting and sequencing (RFC 5321 §4.1.4, §4.3.1)
  client_early_talker,
  client_lockstep,
  client_pipelining_sync_point,
  client_data_early,
  client_no_ehlo,
  client_before_ehlo,
  client_nested_mail,
  client_rcpt_without_mail,
  client_data_without_rcpt,
  client_command_after_quit,
  client_no_quit,
  client_quit_wait,
  client_command_unknown,
  client_command_private,
  // client: extensions
  client_param_unadvertised,
  client_param_unknown,
  client_extension_unadvertised,
  client_size_over_limit,
  client_smtputf8_not_requested,
  client_eight_bit_data,
  client_binarymime_with_data,
  client_bdat_mixed,
  client_bdat_after_last,
  client_bdat_unadvertised,
  client_bdat_after_failure,
  client_starttls_pipelined,
  client_starttls_in_tls,
  client_starttls_no_ehlo,
  client_starttls_injected_reply,
  client_auth_in_transaction,
  client_auth_twice,
  client_auth_mechanism_unadvertised,
  client_auth_plaintext,
  client_domain_unqualified,
  client_line_too_long,
  // server: greeting, replies, sequencing
  server_greeting_code,
  server_domain_unqualified,
  server_reply_unsolicited,
  server_reply_missing,
  server_reply_unexpected_code,
  server_reply_intermediate,
  server_reply_unknown_command,
  server_reply_bare_code,
  server_ehlo_unsupported,
  server_command_unsupported,
  server_helo_extended_response,
  server_greeting_refused_reply,
  server_sequence_before_ehlo,
  server_quit_not_221,
  server_quit_no_close,
  server_rset_not_250,
  server_noop_not_250,
  server_closed_after_421,
  server_accepted_rcpt_without_mail,
  server_accepted_data_without_rcpt,
  server_accepted_nested_mail,
  server_accepted_bdat_mixed,
  server_accepted_binarymime_data,
  server_accepted_syntax_error,
  server_accepted_invalid_character,
  server_accepted_argument,
  server_accepted_size_over_limit,
  server_line_bare_lf_accepted,
  server_data_eod_variant_accepted,
  server_data_early_reply,
  server_line_too_long,
  // server: EHLO response and extensions
  server_ehlo_keyword_unregistered,
  server_ehlo_smtputf8_without_8bitmime,
  server_ehlo_listed_not_implemented,
  server_ehlo_command_unlisted,
  server_esc_missing,
  server_esc_class,
  server_esc_syntax,
  server_esc_unadvertised,
  server_starttls_data_after_220,
  server_starttls_injection_answered,
  server_starttls_readvertised,
  server_starttls_second_accepted,
  server_auth_challenge_syntax,
  server_auth_cancel_not_501,
  server_auth_twice_accepted,
  server_auth_in_transaction_accepted,
  server_limits_recipients,
  server_limits_recipients_code,
  server_postmaster_rejected,
  server_session_closed,
  count_
};

/// The whole catalogue: protocol rules, then grammar rules, then DATA rules.
std::span<const rule> catalogue();
/// Index of a rule by id, or -1.
int find_rule(std::string_view id);
/// Index of a protocol rule.
constexpr int index(rk k) noexcept { return static_cast<int>(k); }
/// Index of the grammar rule for an error seen in `who`'s octets, or -1.
int grammar_rule(side who, errc e);
/// Index of the DATA rule for an anomaly in the client's mail data.
int data_rule(data_anomaly a);

}  // namespace smtpkit::conformance
