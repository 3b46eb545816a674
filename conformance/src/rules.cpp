// rules.cpp — the rule catalogue: protocol rules with their RFC keyword and
// section, plus one grammar rule per grammar error and side, plus one DATA
// rule per stream anomaly. Order of `protocol` follows enum rk.
#include "smtpkit/conformance/rules.hpp"

#include <array>
#include <vector>

#include "grounds.hpp"
#include "smtpkit/ascii.hpp"

namespace smtpkit::conformance {
namespace {

struct row {
  rk key;
  std::string_view id;
  side binds;
  level lvl;
  std::string_view rfc;
  std::string_view text;
};

constexpr side C = side::client;
constexpr side S = side::server;
constexpr level MUST = level::must;
constexpr level SHOULD = level::should;
constexpr level ADVICE = level::advice;

constexpr std::array<row, static_cast<std::size_t>(rk::count_)> protocol{{
    {rk::client_early_talker, "client.greeting.early-talker", C, SHOULD, "RFC 5321 §4.3.1",
     "the client sends nothing before the server's greeting"},
    {rk::client_lockstep, "client.sequence.lockstep", C, MUST, "RFC 5321 §4.3.1",
     "without PIPELINING the client waits for each reply before the next command"},
    {rk::client_pipelining_sync_point, "client.pipelining.sync-point", C, MUST, "RFC 2920 §3.1",
     "EHLO, DATA, VRFY, EXPN, NOOP, QUIT, STARTTLS and AUTH end a pipelined group: wait for their reply"},
    {rk::client_data_early, "client.data.before-354", C, MUST, "RFC 5321 §4.3.1",
     "the client sends mail data only after the 354 reply to DATA"},
    {rk::client_no_ehlo, "client.sequence.no-ehlo", C, MUST, "RFC 5321 §4.1.4",
     "a session with mail transactions starts with EHLO (or HELO)"},
    {rk::client_before_ehlo, "client.sequence.before-ehlo", C, SHOULD, "RFC 5321 §4.1.4",
     "NOOP, HELP, EXPN, VRFY and RSET come after the session is opened with EHLO (or HELO)"},
    {rk::client_nested_mail, "client.sequence.nested-mail", C, MUST, "RFC 5321 §4.1.4",
     "MAIL is not sent while a mail transaction is open"},
    {rk::client_rcpt_without_mail, "client.sequence.rcpt-without-mail", C, MUST, "RFC 5321 §4.1.4",
     "RCPT follows an accepted MAIL"},
    {rk::client_data_without_rcpt, "client.sequence.data-without-rcpt", C, MUST, "RFC 5321 §4.1.4",
     "DATA or BDAT follows MAIL and at least one RCPT of the transaction (all refused is the server's to answer)"},
    {rk::client_command_after_quit, "client.sequence.after-quit", C, MUST, "RFC 5321 §4.1.4",
     "QUIT is the last command of a session"},
    {rk::client_no_quit, "client.session.no-quit", C, MUST, "RFC 5321 §4.1.1.10",
     "the client does not close the connection before it sends QUIT"},
    {rk::client_quit_wait, "client.session.quit-wait", C, SHOULD, "RFC 5321 §4.1.1.10",
     "after QUIT the client waits for the 221 reply before closing"},
    {rk::client_command_unknown, "client.command.unknown", C, SHOULD, "RFC 5321 §2.2.2",
     "commands are those of RFC 5321 or of an advertised extension"},
    {rk::client_command_private, "client.command.private", C, ADVICE, "RFC 5321 §4.1.5",
     "an X-command works only by bilateral agreement"},
    {rk::client_param_unadvertised, "client.param.unadvertised", C, MUST, "RFC 5321 §4.1.1.2",
     "MAIL and RCPT parameters are used only when the server advertised their extension"},
    {rk::client_param_unknown, "client.param.unknown", C, ADVICE, "RFC 5321 §4.1.1.11",
     "a parameter smtpkit does not know: whether its extension was advertised cannot be told"},
    {rk::client_extension_unadvertised, "client.extension.unadvertised", C, ADVICE, "RFC 3207 §3",
     "STARTTLS or AUTH tried though the server did not advertise it: no sentence forbids trying, the reply says no"},
    {rk::client_size_over_limit, "client.size.over-limit", C, ADVICE, "RFC 1870 §4",
     "the declared SIZE exceeds the advertised limit: the server will refuse it (552); no sentence binds the client"},
    {rk::client_smtputf8_not_requested, "client.smtputf8.not-requested", C, MUST, "RFC 6531 §3.4",
     "a UTF-8 address needs the SMTPUTF8 parameter on MAIL"},
    {rk::client_eight_bit_data, "client.data.eight-bit", C, MUST, "RFC 6152 §3",
     "8-bit message content only with BODY=8BITMIME (or BINARYMIME) after the server advertised it"},
    {rk::client_binarymime_with_data, "client.data.binarymime", C, MUST, "RFC 3030 §3",
     "BODY=BINARYMIME content is sent with BDAT, never DATA"},
    {rk::client_bdat_mixed, "client.bdat.mixed-with-data", C, MUST, "RFC 3030 §2",
     "DATA and BDAT are not used in the same transaction"},
    {rk::client_bdat_after_last, "client.bdat.after-last", C, MUST, "RFC 3030 §2",
     "no BDAT follows BDAT LAST in a transaction"},
    {rk::client_bdat_unadvertised, "client.bdat.unadvertised", C, MUST, "RFC 3030 §2",
     "BDAT is sent only to a server that advertised CHUNKING"},
    {rk::client_bdat_after_failure, "client.bdat.after-failure", C, MUST, "RFC 3030 §2",
     "after a 4xx or 5xx reply to BDAT no further BDAT is sent in the transaction"},
    {rk::client_starttls_pipelined, "client.starttls.pipelined", C, MUST, "RFC 3207 §4",
     "after STARTTLS the client sends nothing until TLS has started"},
    {rk::client_starttls_in_tls, "client.starttls.in-tls", C, MUST, "RFC 3207 §4.2",
     "the client does not start TLS when a TLS session is already active"},
    {rk::client_starttls_no_ehlo, "client.starttls.ehlo-first", C, SHOULD, "RFC 3207 §4.2",
     "the first command after TLS starts is EHLO"},
    {rk::client_starttls_injected_reply, "client.starttls.injected-reply", C, MUST, "RFC 3207 §4.2",
     "the client discards replies received before the TLS handshake (CVE-2011-0411 client side)"},
    {rk::client_auth_in_transaction, "client.auth.in-transaction", C, MUST, "RFC 4954 §4",
     "AUTH is not sent during a mail transaction"},
    {rk::client_auth_twice, "client.auth.twice", C, MUST, "RFC 4954 §4",
     "AUTH is not sent again after a successful AUTH"},
    {rk::client_auth_mechanism_unadvertised, "client.auth.mechanism-unadvertised", C, SHOULD, "RFC 4954 §4",
     "the SASL mechanism is one the server advertised"},
    {rk::client_auth_plaintext, "client.auth.plaintext", C, ADVICE, "RFC 4954 §4",
     "a password mechanism (PLAIN, LOGIN) used without TLS; site policy decides whether that is allowed"},
    {rk::client_domain_unqualified, "client.domain.unqualified", C, MUST, "RFC 5321 §2.3.5",
     "domains are fully qualified (local aliases and unqualified names are not used)"},
    {rk::client_line_too_long, "client.line.too-long", C, SHOULD, "RFC 5321 §4.5.3.1.4",
     "command lines stay within 512 octets plus what advertised extensions add"},
    {rk::server_greeting_code, "server.greeting.code", S, MUST, "RFC 5321 §4.3.2",
     "the greeting is 220 (or 554, or 421)"},
    {rk::server_domain_unqualified, "server.domain.unqualified", S, MUST, "RFC 5321 §2.3.5",
     "the greeting and EHLO response name the server by a fully qualified domain or an address literal"},
    {rk::server_reply_unsolicited, "server.reply.unsolicited", S, MUST, "RFC 5321 §4.2",
     "every command gets exactly one reply: no reply without a command"},
    {rk::server_reply_missing, "server.reply.missing", S, MUST, "RFC 5321 §4.2",
     "every command gets exactly one reply: the server does not close with commands unanswered"},
    {rk::server_reply_unexpected_code, "server.reply.unexpected-code", S, SHOULD, "RFC 5321 §4.3.2",
     "the reply code is one of those listed for the command"},
    {rk::server_reply_intermediate, "server.reply.intermediate", S, MUST, "RFC 5321 §4.3.2",
     "3xx replies (354, 334) answer only DATA and AUTH"},
    {rk::server_reply_unknown_command, "server.reply.unknown-command", S, SHOULD, "RFC 5321 §4.2.4",
     "a command the server does not recognise (it refuses it) gets 500, or 502 when recognised but not implemented"},
    {rk::server_reply_bare_code, "server.reply.bare-code", S, SHOULD, "RFC 5321 §4.2",
     "a reply carries text after its code (334 aside: an empty challenge is RFC 4954's)"},
    {rk::server_ehlo_unsupported, "server.ehlo.unsupported", S, MUST, "RFC 5321 §2.2.1",
     "a well-formed EHLO is not answered 500 or 502 (command unrecognized / not implemented)"},
    {rk::server_command_unsupported, "server.command.unsupported", S, MUST, "RFC 5321 §4.5.1",
     "a well-formed HELO, MAIL, RCPT or DATA is not answered 500 or 502: every server implements them"},
    {rk::server_helo_extended_response, "server.helo.extended-response", S, MUST, "RFC 5321 §3.2",
     "HELO is not answered with an EHLO-style list of extensions"},
    {rk::server_greeting_refused_reply, "server.greeting.refused-reply", S, SHOULD, "RFC 5321 §3.1",
     "after a 554 greeting, commands other than QUIT get 503"},
    {rk::server_sequence_before_ehlo, "server.sequence.before-ehlo", S, SHOULD, "RFC 5321 §4.1.4",
     "NOOP, HELP, EXPN, VRFY and RSET before EHLO are processed normally, not answered 503"},
    {rk::server_quit_not_221, "server.quit.reply", S, MUST, "RFC 5321 §4.1.1.10", "QUIT gets 221"},
    {rk::server_quit_no_close, "server.quit.close", S, MUST, "RFC 5321 §4.1.1.10",
     "after 221 the server closes the connection"},
    {rk::server_rset_not_250, "server.rset.reply", S, MUST, "RFC 5321 §4.1.1.5", "RSET without arguments gets 250"},
    {rk::server_noop_not_250, "server.noop.reply", S, SHOULD, "RFC 5321 §4.1.1.9", "NOOP gets 250"},
    {rk::server_closed_after_421, "server.421.close", S, MUST, "RFC 5321 §3.8",
     "after 421 the server closes the connection"},
    {rk::server_accepted_rcpt_without_mail, "server.sequence.rcpt-without-mail", S, MUST, "RFC 5321 §4.1.4",
     "RCPT without MAIL gets 503"},
    {rk::server_accepted_data_without_rcpt, "server.sequence.data-without-rcpt", S, ADVICE, "RFC 5321 §3.3",
     "DATA or BDAT accepted without an accepted RCPT: the server MAY refuse it (503, 554) or fail the transaction "
     "later"},
    {rk::server_accepted_nested_mail, "server.sequence.nested-mail", S, MUST, "RFC 5321 §4.1.4",
     "MAIL inside an open transaction gets 503"},
    {rk::server_accepted_bdat_mixed, "server.sequence.bdat-mixed", S, MUST, "RFC 3030 §2",
     "DATA after BDAT, or BDAT after BDAT LAST, in one transaction gets 503"},
    {rk::server_accepted_binarymime_data, "server.sequence.binarymime-data", S, MUST, "RFC 3030 §3",
     "DATA after MAIL with BODY=BINARYMIME gets 503"},
    {rk::server_accepted_syntax_error, "server.syntax.accepted", S, ADVICE, "RFC 5321 §4.1.2",
     "a command that breaks the grammar was accepted: leniency, which RFC 5321 neither asks for nor forbids"},
    {rk::server_accepted_invalid_character, "server.syntax.invalid-character", S, MUST, "RFC 5321 §4.1.2",
     "a command with invalid character codes (not in the grammar, e.g. '_' in a domain, 8-bit without SMTPUTF8) is "
     "rejected"},
    {rk::server_accepted_argument, "server.syntax.argument-accepted", S, SHOULD, "RFC 5321 §4.1.1",
     "DATA, RSET or QUIT with an argument is rejected as invalid syntax (501)"},
    {rk::server_accepted_size_over_limit, "server.size.over-limit-accepted", S, MUST, "RFC 1870 §6.1",
     "MAIL with SIZE over the advertised limit gets 552"},
    {rk::server_line_bare_lf_accepted, "server.line.bare-lf-accepted", S, MUST, "RFC 5321 §2.3.8",
     "the server does not take a bare LF or bare CR as the end of a command line"},
    {rk::server_data_eod_variant_accepted, "server.data.eod-variant-accepted", S, MUST, "RFC 5321 §2.3.8",
     "only <CRLF>.<CRLF> ends the mail data (SMTP smuggling)"},
    {rk::server_data_early_reply, "server.data.early-reply", S, MUST, "RFC 5321 §4.1.1.4",
     "the server replies to DATA content only after <CRLF>.<CRLF>"},
    {rk::server_line_too_long, "server.line.too-long", S, SHOULD, "RFC 5321 §4.5.3.1.5",
     "reply lines stay within 512 octets"},
    {rk::server_ehlo_keyword_unregistered, "server.ehlo.keyword-unregistered", S, MUST, "RFC 5321 §2.2.2",
     "EHLO keywords are X-prefixed or registered with IANA"},
    {rk::server_ehlo_smtputf8_without_8bitmime, "server.ehlo.smtputf8-without-8bitmime", S, MUST, "RFC 6531 §3.1",
     "a server that offers SMTPUTF8 also offers 8BITMIME"},
    {rk::server_ehlo_listed_not_implemented, "server.ehlo.listed-not-implemented", S, MUST, "RFC 5321 §4.2.4",
     "a command whose keyword the EHLO response lists is not answered 500 or 502"},
    {rk::server_ehlo_command_unlisted, "server.ehlo.command-unlisted", S, MUST, "RFC 5321 §4.1.1.1",
     "a command outside the required set (EXPN, HELP, an extension's) that the server accepts is listed in its EHLO "
     "response"},
    {rk::server_esc_missing, "server.esc.missing", S, MUST, "RFC 2034 §4",
     "after ENHANCEDSTATUSCODES every 2xx/4xx/5xx reply line (but greeting and EHLO/HELO) carries a status code"},
    {rk::server_esc_class, "server.esc.class", S, MUST, "RFC 2034 §4",
     "the enhanced status class agrees with the reply code"},
    {rk::server_esc_syntax, "server.esc.syntax", S, MUST, "RFC 3463 §2",
     "enhanced status codes are class.subject.detail without leading zeros"},
    {rk::server_esc_unadvertised, "server.esc.unadvertised", S, ADVICE, "RFC 2034 §3",
     "enhanced status codes sent before ENHANCEDSTATUSCODES was advertised"},
    {rk::server_starttls_data_after_220, "server.starttls.data-after-220", S, MUST, "RFC 3207 §4",
     "nothing follows the 220 reply to STARTTLS before the TLS handshake"},
    {rk::server_starttls_injection_answered, "server.starttls.injection", S, MUST, "RFC 3207 §4.2",
     "commands received before the TLS handshake are discarded, not answered (CVE-2011-0411)"},
    {rk::server_starttls_readvertised, "server.starttls.readvertised", S, MUST, "RFC 3207 §4.2",
     "STARTTLS is not advertised after TLS has started"},
    {rk::server_starttls_second_accepted, "server.starttls.second", S, SHOULD, "RFC 3207 §4.2",
     "a second STARTTLS inside TLS is refused"},
    {rk::server_auth_challenge_syntax, "server.auth.challenge", S, MUST, "RFC 4954 §4",
     "a 334 challenge is \"334\" SP followed by base64 only"},
    {rk::server_auth_cancel_not_501, "server.auth.cancel", S, MUST, "RFC 4954 §4",
     "a cancelled exchange (\"*\") gets 501"},
    {rk::server_auth_twice_accepted, "server.auth.twice", S, MUST, "RFC 4954 §4",
     "AUTH after a successful AUTH gets 503"},
    {rk::server_auth_in_transaction_accepted, "server.auth.in-transaction", S, MUST, "RFC 4954 §4",
     "AUTH during a mail transaction gets 503"},
    {rk::server_limits_recipients, "server.limits.recipients", S, MUST, "RFC 5321 §4.5.3.1.8",
     "at least 100 recipients are accepted before \"too many recipients\""},
    {rk::server_limits_recipients_code, "server.limits.recipients-code", S, ADVICE, "RFC 5321 §4.5.3.1.10",
     "\"too many recipients\" with 552: 452 is required for an implementation limit, 5yz allowed for a site policy"},
    {rk::server_postmaster_rejected, "server.postmaster.rejected", S, MUST, "RFC 5321 §4.5.1",
     "RCPT TO:<Postmaster> (and postmaster at served domains) is accepted"},
    {rk::server_session_closed, "server.session.closed", S, MUST, "RFC 5321 §3.8",
     "the server closes only after 221 to QUIT, after 421, or on a timeout"},
}};

constexpr bool in_order() {
  for (std::size_t i = 0; i < protocol.size(); ++i)
    if (static_cast<std::size_t>(protocol[i].key) != i) return false;
  return true;
}
static_assert(in_order(), "protocol rules must follow enum rk");

// Grammar errors that protocol rules above replace.
bool replaced(errc e) {
  return e == errc::ok || e == errc::count_ || e == errc::unknown_verb || e == errc::param_unknown ||
         e == errc::line_too_long;
}

// Grammar errors that never reach the engine from a server's octets, so no
// rule is published for them:
//  * enhanced_code, enhanced_class: the reply grammar does not check status
//    codes; the engine judges them as server.esc.syntax / server.esc.class,
//    and only once ENHANCEDSTATUSCODES was advertised (RFC 2034 §4);
//  * trailing_data: replies reach the engine line by line, so a complete
//    reply is never followed by octets in the same parse.
bool server_side(errc e) {
  if (e == errc::enhanced_code || e == errc::enhanced_class || e == errc::trailing_data) return false;
  auto id = rule_id(e);
  return istarts_with(id, "reply.") || istarts_with(id, "ehlo-reply.") || istarts_with(id, "greeting.") ||
         istarts_with(id, "line.");
}

// path_brackets is reported only under lenient::path_brackets, which the
// engine never sets: a strict parse reports a path without '<' as path.open.
bool client_side(errc e) {
  if (e == errc::path_brackets) return false;
  auto id = rule_id(e);
  return !(istarts_with(id, "reply.") || istarts_with(id, "ehlo-reply.") || istarts_with(id, "greeting."));
}

level grammar_level(errc e) {
  switch (e) {
    case errc::path_too_long:
    case errc::local_part_too_long:
    case errc::domain_too_long: return level::should;  // §4.5.3.1: objects larger than these sizes SHOULD be avoided
    default: return level::must;                       // a breach of the ABNF
  }
}

struct tables {
  std::vector<rule> all;
  std::array<int, static_cast<std::size_t>(errc::count_)> client_grammar{};
  std::array<int, static_cast<std::size_t>(errc::count_)> server_grammar{};
  std::array<int, static_cast<std::size_t>(data_anomaly::count_)> data{};

  // The grounds of each rule: by its id, or, for a grammar rule, by the
  // grammar id it shares with the other side.
  void join_grounds() {
    for (auto& r : all) {
      const grounds* g = find_grounds(r.id);
      if (g == nullptr && r.family == rule_family::grammar)
        g = find_grounds(std::string_view(r.id).substr(r.id.find('.') + 1));
      if (g == nullptr) continue;
      r.grounds_rfc = std::string(g->section);
      r.quote = std::string(g->quote);
      r.note = std::string(g->note);
      r.errata = std::string(g->errata);
    }
  }

  tables() {
    client_grammar.fill(-1);
    server_grammar.fill(-1);
    data.fill(-1);
    for (const auto& r : protocol)
      all.push_back({std::string(r.id),
                     r.binds,
                     r.lvl,
                     std::string(r.rfc),
                     std::string(r.text),
                     rule_family::protocol,
                     {},
                     {},
                     {},
                     {}});
    for (int s = 0; s < 2; ++s) {
      const side who = s == 0 ? side::client : side::server;
      for (int i = 0; i < static_cast<int>(errc::count_); ++i) {
        const auto e = static_cast<errc>(i);
        if (replaced(e) || !(who == side::client ? client_side(e) : server_side(e))) continue;
        std::string prefix = who == side::client ? "client." : "server.";
        (who == side::client ? client_grammar : server_grammar)[static_cast<std::size_t>(i)] =
            static_cast<int>(all.size());
        all.push_back({prefix + std::string(rule_id(e)),
                       who,
                       grammar_level(e),
                       std::string(rfc_section(e)),
                       std::string(reason(e)),
                       rule_family::grammar,
                       {},
                       {},
                       {},
                       {}});
      }
    }
    for (int i = 0; i < static_cast<int>(data_anomaly::count_); ++i) {
      // (grounds are joined below, after every family is in)
      const auto a = static_cast<data_anomaly>(i);
      if (a == data_anomaly::eight_bit) continue;  // judged by client.data.eight-bit, which knows BODY=
      data[static_cast<std::size_t>(i)] = static_cast<int>(all.size());
      // §4.1.1.4: the data "may contain any of the 128 ASCII character
      // codes"; controls (NUL) "SHOULD be avoided". Bare CR and LF are
      // §2.3.8's MUST NOT.
      const bool should = a == data_anomaly::line_too_long || a == data_anomaly::nul || a == data_anomaly::nul_dot;
      level l = should ? level::should : level::must;
      std::string rfc(rfc_section(a));
      std::string text;
      if (a == data_anomaly::bare_cr || a == data_anomaly::bare_lf) text = "no bare CR or LF in mail data";
      else if (a == data_anomaly::nul) {
        text = "no NUL octet in mail data";
        rfc = "RFC 5321 §4.1.1.4";
      } else if (a == data_anomaly::line_too_long) text = "text lines stay within 1000 octets, CRLF included";
      else
        text =
            "no \"" + std::string(to_string(a)) + "\" in mail data: receivers differ on where it ends (SMTP smuggling)";
      all.push_back(
          {"client." + std::string(rule_id(a)), side::client, l, rfc, text, rule_family::data, {}, {}, {}, {}});
    }
    join_grounds();
  }
};

const tables& get() {
  static const tables t;
  return t;
}

}  // namespace

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::must: return "MUST";
    case level::should: return "SHOULD";
    case level::may: return "MAY";
    case level::advice: return "ADVICE";
  }
  return "?";
}

bool level_from_string(std::string_view s, level& out) noexcept {
  if (iequals(s, "must")) out = level::must;
  else if (iequals(s, "should")) out = level::should;
  else if (iequals(s, "may")) out = level::may;
  else return false;
  return true;
}

std::span<const rule> catalogue() {
  // The ledger (ledger.hpp) keeps a std::bitset<512> of rules applied: the catalogue fits.
  return get().all;
}

int find_rule(std::string_view id) {
  const auto& all = get().all;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].id == id) return static_cast<int>(i);
  return -1;
}

int grammar_rule(side who, errc e) {
  auto i = static_cast<std::size_t>(e);
  if (i >= static_cast<std::size_t>(errc::count_)) return -1;
  return who == side::client ? get().client_grammar[i] : get().server_grammar[i];
}

int data_rule(data_anomaly a) {
  auto i = static_cast<std::size_t>(a);
  return i < get().data.size() ? get().data[i] : -1;
}

}  // namespace smtpkit::conformance
