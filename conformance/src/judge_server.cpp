// judge_server.cpp — what the server may answer: reply codes per command
// (RFC 5321 §4.3.2), sequencing it must refuse (§4.1.4), its greeting and
// EHLO response, STARTTLS (RFC 3207), AUTH (RFC 4954), enhanced status
// codes (RFC 2034, 3463), the limits it must honour (§4.5.1, §4.5.3.1.8).
// Every reply to a command gets the code and taken-as-command checks; then
// the function of the verb it answers, found in server_verbs, judges what
// only that verb's reply can break. A reply also moves the session state
// (state.cpp) and decides how the client's next octets are read.
#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>

#include "engine_impl.hpp"
#include "smtpkit/conformance/registry.hpp"
#include "smtpkit/ascii.hpp"

namespace smtpkit::conformance {
namespace {

bool one_of(std::uint16_t code, std::initializer_list<std::uint16_t> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// §4.3.2, with the codes each extension adds (RFC 3207 §4, RFC 4954 §6,
// RFC 3030 §2, RFC 7504). 421, 500, 501 may answer any command (§4.3.2);
// 530 (RFC 4954 §6) and 554 (RFC 3207 §4.1, policy) too.
bool listed(const pending& p, std::uint16_t code) {
  if (one_of(code, {421, 500, 501, 530, 554})) return true;
  if (p.kind == pending_kind::data_end) return one_of(code, {250, 552, 554, 451, 452, 450, 550});
  if (p.kind == pending_kind::auth_response) return one_of(code, {334, 235, 432, 454, 534, 535, 538});
  switch (p.v) {
    case verb::ehlo:
    case verb::helo: return one_of(code, {250, 504, 550, 502});
    case verb::mail: return one_of(code, {250, 552, 451, 452, 550, 553, 503, 455, 555, 534});
    case verb::rcpt: return one_of(code, {250, 251, 550, 551, 552, 553, 450, 451, 452, 503, 455, 555, 556});
    case verb::data: return one_of(code, {354, 503, 554, 451});
    case verb::rset: return code == 250;
    case verb::vrfy: return one_of(code, {250, 251, 252, 550, 551, 553, 502, 504});
    case verb::expn: return one_of(code, {250, 252, 550, 502, 504});
    case verb::help: return one_of(code, {211, 214, 502, 504});
    case verb::noop: return code == 250;
    case verb::quit: return code == 221;
    case verb::starttls: return one_of(code, {220, 454, 502, 503});
    // 502 for a command recognised but not implemented (§4.2.4).
    case verb::auth: return one_of(code, {334, 235, 432, 454, 534, 535, 538, 503, 504, 502});
    case verb::bdat: return one_of(code, {250, 552, 554, 451, 452, 450, 550, 503, 502});
    case verb::unknown:
    case verb::count_: return p.extension_verb || code == 502;
  }
  return true;
}

bool is_too_many_recipients(std::uint16_t code, const std::vector<std::string>& texts) {
  if (code != 452 && code != 552) return false;
  for (const auto& t : texts) {
    std::string low;
    for (char c : t) low.push_back(to_lower_ascii(c));
    if (low.find("too many recipients") != std::string::npos || low.rfind("4.5.3", 0) == 0 ||
        low.rfind("5.5.3", 0) == 0)
      return true;
  }
  return false;
}

// The status code of the first reply line that carries a well-formed one.
std::optional<std::string_view> first_status(const std::vector<std::string>& texts) {
  for (const auto& t : texts) {
    auto e = parse_enhanced_status(t);
    if (e.value.present && e.ok()) return e.value.code;
  }
  return std::nullopt;
}

// The first reply line whose status code is missing, malformed, or of
// another class than the reply code (RFC 2034 §4, RFC 3463 §2): the rest
// of the reply adds nothing.
struct status_fault {
  enum class kind : std::uint8_t { none, missing, syntax, wrong_class } what = kind::none;
  const std::string* line = nullptr;
  std::string_view status;
};

status_fault first_status_fault(const std::vector<std::string>& texts, int cls) {
  for (const auto& t : texts) {
    auto e = parse_enhanced_status(t);
    using kind = status_fault::kind;
    const kind k = !e.value.present     ? kind::missing
                   : e.diag             ? kind::syntax
                   : e.value.cls != cls ? kind::wrong_class
                                        : kind::none;
    if (k != kind::none) return {k, &t, e.value.code};
  }
  return {};
}

/// One reply under judgement, with the command it answers.
struct reply_to {
  engine::impl& e;
  const pending& p;
  std::uint16_t code;
  std::uint64_t at;
  int cls;
  bool positive;    ///< 2yz or 3yz: the command was taken
  bool malformed;   ///< the command broke the grammar (white space before CRLF aside)
  lazy_excerpt ex;  ///< the reply's first line

  /// A check whose finding points at the reply and shows its first line.
  template <class Message>
  void check(rk rule, bool broken, const Message& message) const {
    e.verdicts.check(rule, broken, side::server, at, message, ex);
  }
  [[nodiscard]] const smtp_state& st() const { return e.session.st; }
};

// The code is one §4.3.2 lists for the command, and a 3yz only where the
// command has an intermediate reply.
void judge_code(const reply_to& reply) {
  const pending& p = reply.p;
  auto what = [&] {
    return std::to_string(reply.code) + " in reply to " +
           (p.kind == pending_kind::data_end        ? std::string("end of data")
            : p.kind == pending_kind::auth_response ? std::string("AUTH response")
                                                    : std::string(to_string(p.v)));
  };
  const bool intermediate_ok = (p.kind == pending_kind::command && p.v == verb::data && reply.code == 354) ||
                               ((p.v == verb::auth || p.kind == pending_kind::auth_response) && reply.code == 334) ||
                               (p.kind == pending_kind::command && p.extension_verb);
  reply.check(rk::server_reply_intermediate, reply.cls == 3 && !intermediate_ok, what);
  // After a 554 greeting every command but QUIT gets 503 (§3.1).
  const bool refused_session = reply.e.server.refused && reply.code == 503;
  reply.check(rk::server_reply_unexpected_code,
              reply.cls != 3 && !listed(p, reply.code) && !refused_session &&
                  !(p.kind == pending_kind::command && p.v == verb::unknown),
              what);
}

// A line the grammar refused (or the framer cut), answered as if it were
// a command.
void judge_taken_as_command(const reply_to& reply) {
  const pending& p = reply.p;
  const std::uint16_t code = reply.code;
  // A piece of a client line that the server framed at a bare LF or CR
  // (its replies answer the pieces one by one), answered positively, was
  // taken as a command. A refusal is not: a server that spots the bare LF
  // and says so (Postfix's smtpd_forbid_bare_newline answers 521) does what
  // §2.3.8 asks.
  const bool split = p.kind == pending_kind::command && p.split;
  const bool bare_end = p.ending == line_ending::lf || p.ending == line_ending::cr;
  std::uint32_t& reported = reply.e.server.bare_accepted_group;
  const bool accepted = split && reply.positive && reported != p.group;
  if (accepted) reported = p.group;
  reply.e.verdicts.check(
      rk::server_line_bare_lf_accepted, accepted, side::server, reply.at,
      [&] {
        const char* what = p.bare == line_ending::lf ? "LF" : "CR";
        return std::to_string(code) + (bare_end ? std::string(" to a line ended by a bare ") + what
                                                : std::string(" to the rest of a line after a bare ") + what);
      },
      [&] { return p.excerpt(); });

  // (A bare line end accepted is the rule above, not these.) RFC 5321 asks
  // a server to reject only invalid character codes (§4.1.2, MUST 501) and
  // arguments to DATA, RSET, QUIT (§4.1.1, SHOULD); accepting any other
  // line outside the grammar is leniency, reported as advice.
  // 8-bit sent before the client saw SMTPUTF8 (pipelined behind EHLO) but
  // read by a server that had advertised it by then: under RFC 6531 §3.3
  // (atext, qtextSMTP, esmtp-value and sub-domains take UTF-8) the server
  // may read it as grammatical, so its acceptance is no verdict.
  const bool utf8_in_force = p.grammar == errc::eight_bit && reply.st().has(extension::smtputf8);
  const bool taken = p.kind == pending_kind::command && p.grammar != errc::ok &&
                     p.grammar != errc::trailing_whitespace && p.grammar != errc::line_too_long && !split &&
                     !utf8_in_force && reply.positive;
  const bool invalid_character = p.grammar == errc::domain_syntax || p.grammar == errc::eight_bit ||
                                 p.grammar == errc::invalid_utf8 || p.grammar == errc::nul_byte ||
                                 p.grammar == errc::control_char;
  const bool no_argument_verb = p.v == verb::data || p.v == verb::rset || p.v == verb::quit;
  const bool argument = p.grammar == errc::unexpected_argument && no_argument_verb;
  const rk rule = invalid_character ? rk::server_accepted_invalid_character
                  : argument        ? rk::server_accepted_argument
                                    : rk::server_accepted_syntax_error;
  reply.e.verdicts.check(
      rule, taken, side::server, reply.at,
      [&] { return std::to_string(code) + " to a command that breaks " + std::string(rule_id(p.grammar)); },
      [&] { return p.excerpt(); });
  reply.check(rk::server_reply_unexpected_code,
              p.kind == pending_kind::command && p.grammar == errc::line_too_long && reply.cls != 5 && code != 421,
              [&] { return std::to_string(code) + " to an over-long command line"; });
}

// The keyword of the EHLO response that advertises a command (§4.1.1.1),
// extension::count_ for commands every server implements (§4.5.1) and
// for those smtpkit cannot tie to a keyword.
extension keyword_of(const pending& p) {
  switch (p.v) {
    case verb::expn: return extension::expn;
    case verb::help: return extension::help;
    case verb::starttls: return extension::starttls;
    case verb::auth: return extension::auth;
    case verb::bdat: return extension::chunking;
    case verb::unknown:
    case verb::count_: return extension_from_keyword(p.raw.substr(0, p.raw.find(' ')));
    default: return extension::count_;
  }
}

// What RFC 5321 says every server supports, and what the EHLO response
// says this one does (§2.2.1, §4.5.1, §4.1.1.1, §4.2.4), and the replies
// it owes before EHLO and after refusing the session (§4.1.4, §3.1).
void judge_support(const reply_to& reply) {
  const pending& p = reply.p;
  const smtp_state& st = reply.st();
  const std::uint16_t code = reply.code;
  const bool well_formed = !reply.malformed;
  const bool unsupported = well_formed && (code == 500 || code == 502);
  auto said = [&](const char* what) { return [&, what] { return std::to_string(code) + " to " + what; }; };
  if (p.v == verb::ehlo) reply.check(rk::server_ehlo_unsupported, unsupported, said("EHLO"));
  if (p.v == verb::helo || p.v == verb::mail || p.v == verb::rcpt || p.v == verb::data)
    reply.check(rk::server_command_unsupported, unsupported,
                [&] { return std::to_string(code) + " to " + std::string(to_string(p.v)); });
  const extension kw = keyword_of(p);
  if (st.esmtp && kw != extension::count_ && !p.extension_verb) {
    const bool listed = st.has(kw);
    reply.check(rk::server_ehlo_listed_not_implemented, listed && unsupported, [&] {
      return std::to_string(code) + " to a command whose keyword " + std::string(to_string(kw)) +
             " the EHLO response listed";
    });
    // STARTTLS inside TLS is server.starttls.second.
    const bool unlisted = !listed && reply.positive && !(p.v == verb::starttls && st.tls);
    reply.check(rk::server_ehlo_command_unlisted, unlisted, [&] {
      return std::to_string(code) + " to a command whose keyword " + std::string(to_string(kw)) +
             " the EHLO response did not list";
    });
  } else if (st.esmtp && kw != extension::count_ && p.extension_verb) {
    reply.check(rk::server_ehlo_listed_not_implemented, unsupported, [&] {
      return std::to_string(code) + " to a command whose keyword " + std::string(to_string(kw)) +
             " the EHLO response listed";
    });
  }
  const bool any_time =
      p.v == verb::noop || p.v == verb::help || p.v == verb::expn || p.v == verb::vrfy || p.v == verb::rset;
  reply.check(rk::server_sequence_before_ehlo,
              any_time && !st.hello && !st.tls && !reply.e.server.refused && code == 503,
              [&] { return "503 to " + std::string(to_string(p.v)) + " before EHLO"; });
  reply.check(rk::server_greeting_refused_reply,
              reply.e.server.refused && p.v != verb::quit && code != 503 && code != 421,
              [&] { return std::to_string(code) + " to " + std::string(to_string(p.v)) + " after a 554 greeting"; });
}

// RFC 4954 §4: a 334 challenge is base64.
void check_challenge(const reply_to& reply) {
  const auto& texts = reply.e.server.reply_texts;
  std::string_view t = texts.empty() ? std::string_view{} : std::string_view(texts.front());
  reply.check(rk::server_auth_challenge_syntax, !t.empty() && !is_base64(t), "challenge is not base64");
}

// The reply to a line that answered a 334 challenge (RFC 4954 §4).
void judge_auth_response(const reply_to& reply) {
  reply.check(rk::server_auth_cancel_not_501, reply.p.auth_cancel && reply.code != 501,
              [&] { return std::to_string(reply.code) + " to \"*\""; });
  reply.e.judge_esc(reply.code, reply.at);
  if (reply.code == 334) check_challenge(reply);
}

// --- one function per verb (server_verbs below) ---
//
// "QUIT gets 221", "RSET gets 250", "NOOP gets 250" are about the command
// as defined; a line that breaks the grammar is not that command (a server
// accepting it is server.syntax.accepted).

// RFC 5321 §3.2: "Servers MUST NOT return the extended EHLO-style response
// to a HELO command": a line after the first that names an extension.
void judge_helo_reply(const reply_to& reply) {
  const auto& texts = reply.e.server.reply_texts;
  bool extended = false;
  if (reply.code == 250)
    for (std::size_t i = 1; i < texts.size() && !extended; ++i) {
      const std::string_view t = texts[i];
      const std::string_view word = t.substr(0, t.find(' '));
      extended = !word.empty() && (registered_keyword(word) || extension_from_keyword(word) != extension::count_);
    }
  reply.check(rk::server_helo_extended_response, extended, "HELO answered with a list of extensions");
}

void judge_quit_reply(const reply_to& reply) {
  reply.check(rk::server_quit_not_221, reply.code != 221 && reply.code != 421 && !reply.malformed,
              [&] { return std::to_string(reply.code) + " to QUIT"; });
}

void judge_rset_reply(const reply_to& reply) {
  reply.check(rk::server_rset_not_250, reply.p.rset_plain && reply.code != 250 && reply.code != 421 && !reply.malformed,
              [&] { return std::to_string(reply.code) + " to RSET"; });
}

void judge_noop_reply(const reply_to& reply) {
  reply.check(rk::server_noop_not_250, reply.code != 250 && reply.code != 421 && !reply.malformed,
              [&] { return std::to_string(reply.code) + " to NOOP"; });
}

void judge_mail_reply(const reply_to& reply) {
  const smtp_state& st = reply.st();
  const pending& p = reply.p;
  reply.check(rk::server_accepted_nested_mail, reply.positive && st.t != smtp_state::txn::none,
              [&] { return std::to_string(reply.code) + " to MAIL inside a transaction"; });
  reply.check(rk::server_accepted_size_over_limit,
              reply.positive && p.size_declared && st.size_limit > 0 && p.size > st.size_limit, [&] {
                return std::to_string(reply.code) + " to SIZE=" + std::to_string(p.size) + " over the advertised " +
                       std::to_string(st.size_limit);
              });
}

void judge_rcpt_reply(const reply_to& reply) {
  const smtp_state& st = reply.st();
  const std::uint16_t code = reply.code;
  reply.check(rk::server_accepted_rcpt_without_mail, reply.positive && st.t == smtp_state::txn::none,
              [&] { return std::to_string(code) + " to RCPT without MAIL"; });
  // RFC 5321 §4.5.1: <Postmaster> must be accepted, and postmaster "at any
  // of the domains for which the SMTP server provides mail service". Which
  // those are, the dialogue shows only by a recipient the server accepted
  // there; postmaster at any other domain may be refused (not a relay).
  auto& served = reply.e.session.served_domains;
  const bool served_domain =
      std::find(served.begin(), served.end(), reply.p.rcpt_domain) != served.end() && !reply.p.rcpt_domain.empty();
  reply.check(rk::server_postmaster_rejected,
              reply.p.postmaster && (reply.p.postmaster_bare || served_domain) && st.t != smtp_state::txn::none &&
                  !reply.e.server.refused && one_of(code, {550, 551, 553}),
              [&] { return std::to_string(code) + " to a postmaster recipient"; });
  if ((code == 250 || code == 251) && !reply.p.postmaster && !reply.p.rcpt_domain.empty() && !served_domain &&
      served.size() < 16)
    served.push_back(reply.p.rcpt_domain);
  const bool too_many = is_too_many_recipients(code, reply.e.server.reply_texts);
  reply.check(rk::server_limits_recipients, too_many && st.rcpts < 100,
              [&] { return "\"too many recipients\" after " + std::to_string(st.rcpts) + " accepted"; });
  if (too_many) reply.check(rk::server_limits_recipients_code, code == 552, "552 for too many recipients");
}

void judge_data_reply(const reply_to& reply) {
  const smtp_state& st = reply.st();
  reply.check(rk::server_accepted_binarymime_data, reply.code == 354 && st.body == body_type::binary_mime,
              "354 to DATA after MAIL with BODY=BINARYMIME");
  reply.check(rk::server_accepted_data_without_rcpt, reply.code == 354 && st.t != smtp_state::txn::rcpt,
              "354 to DATA without an accepted RCPT");
  reply.check(rk::server_accepted_bdat_mixed, reply.code == 354 && st.used_bdat, "354 to DATA after BDAT");
}

void judge_bdat_reply(const reply_to& reply) {
  const smtp_state& st = reply.st();
  const bool mixed = st.used_data || st.bdat_last;
  reply.check(rk::server_accepted_bdat_mixed, reply.positive && mixed,
              [&] { return std::to_string(reply.code) + " to BDAT after DATA or BDAT LAST"; });
  if (reply.positive && !mixed && st.t != smtp_state::txn::rcpt)
    reply.check(rk::server_accepted_data_without_rcpt, true,
                [&] { return std::to_string(reply.code) + " to BDAT without an accepted RCPT"; });
}

void judge_starttls_reply(const reply_to& reply) {
  reply.check(rk::server_starttls_second_accepted, reply.code == 220 && reply.st().tls, "220 to STARTTLS inside TLS");
}

void judge_auth_reply(const reply_to& reply) {
  const smtp_state& st = reply.st();
  reply.check(rk::server_auth_twice_accepted, reply.positive && st.authed,
              [&] { return std::to_string(reply.code) + " to a second AUTH"; });
  reply.check(rk::server_auth_in_transaction_accepted, reply.positive && st.t != smtp_state::txn::none,
              [&] { return std::to_string(reply.code) + " to AUTH in a transaction"; });
  if (reply.code == 334) check_challenge(reply);
}

// RFC 5321 §4.2.4: 500 for a command not recognised, 502 for one
// recognised but not implemented. A positive reply means the server knows
// the command (a private X-command by agreement, §4.1.5, or an extension
// it did not list: server.ehlo.command-unlisted).
void judge_unknown_reply(const reply_to& reply) {
  reply.check(rk::server_reply_unknown_command,
              !reply.p.extension_verb && reply.p.grammar != errc::line_too_long && !reply.positive &&
                  !one_of(reply.code, {500, 502, 421}),
              [&] { return std::to_string(reply.code) + " to an unknown command"; });
}

/// A verb's row: whether its replies carry enhanced status codes once
/// ENHANCEDSTATUSCODES is advertised (RFC 2034 §4: all but the greeting
/// and the replies to EHLO/HELO), and its judge (none: no rule of its own
/// beyond the checks every reply gets).
struct server_verb_row {
  verb v;
  bool enhanced_codes;
  void (*judge)(const reply_to&);
};

// In enum order, checked below; verb::count_ is read as verb::unknown.
constexpr std::array<server_verb_row, static_cast<std::size_t>(verb::count_) + 1> server_verbs{{
    {verb::unknown, true, judge_unknown_reply},
    {verb::ehlo, false, nullptr},
    {verb::helo, false, judge_helo_reply},
    {verb::mail, true, judge_mail_reply},
    {verb::rcpt, true, judge_rcpt_reply},
    {verb::data, true, judge_data_reply},
    {verb::rset, true, judge_rset_reply},
    {verb::vrfy, true, nullptr},
    {verb::expn, true, nullptr},
    {verb::help, true, nullptr},
    {verb::noop, true, judge_noop_reply},
    {verb::quit, true, judge_quit_reply},
    {verb::starttls, true, judge_starttls_reply},
    {verb::auth, true, judge_auth_reply},
    {verb::bdat, true, judge_bdat_reply},
    {verb::count_, true, judge_unknown_reply},
}};

constexpr bool in_verb_order() {
  for (std::size_t i = 0; i < server_verbs.size(); ++i)
    if (static_cast<std::size_t>(server_verbs[i].v) != i) return false;
  return true;
}
static_assert(in_verb_order(), "server_verbs must follow enum verb");

}  // namespace

void engine::impl::server_reply(std::uint64_t at) {
  const std::uint16_t code = server.reply_code;
  auto reply = [&] { return excerpt_of(server.reply_text); };
  verdicts.check(rk::server_quit_no_close, server.quit_replied, side::server, at, "reply after 221 to QUIT", reply);
  verdicts.check(rk::server_closed_after_421, !server.quit_replied && session.got_421, side::server, at,
                 "reply after 421", reply);
  if (server.quit_replied || session.got_421) return;
  if (!session.greeted) {
    tell_exchange(exchange::kind::greeting, verb::unknown, code);
    greeting(code, server.reply_text, at);
    resume_client();
    return;
  }
  if (session.st.tls) session.replies_after_tls = true;
  server.negative += code / 100 == 5 ? 1 : 0;
  server.last_closing = code == 221;
  ++server.replies;
  server.last_negative = code / 100 == 5;
  // A reply while the client's last octet is a CR not yet known to be
  // CRLF: the server took that CR as the end of a line (RFC 5321 §2.3.8),
  // so the line is judged as one ended by a bare CR, and this reply answers it.
  const bool reading_lines = client.mode == client_mode::lines || client.mode == client_mode::auth_response;
  if (session.queue.empty() && reading_lines && !client.buf.empty() && client.buf.back() == '\r') take_client_cr();
  if (session.queue.empty()) {
    // After a desync the engine cannot tell which octets the server took
    // as commands; it keeps matching replies by counting, without verdicts.
    tell_exchange(exchange::kind::unsolicited, verb::unknown, code);
    if (!session.desync) unsolicited(code, at);
    return;
  }
  if (const pending& front = session.queue.front(); front.group != 0 && !front.split) {
    // The first reply to a line that holds a bare CR or LF. While the line
    // is incomplete, the server can only be answering the piece before the
    // bare terminator: it framed the line there. Once complete, one reply
    // fits a server that read one line, and one per piece a server that
    // split it; hold this one until the dialogue tells which.
    const std::uint32_t g = front.group;
    // Past the command line limit (RFC 5321 §4.5.3.1.4) a server may cut
    // the line at its own limit as well as at the bare terminators (Exim
    // 4.96 answered a 17 KB line holding three bare LFs twice): counting
    // cannot tell, and from here on no verdict rests on the pairing.
    std::size_t length = 0;
    bool over = false;
    for (const pending& q : session.queue)
      if (q.group == g) length += q.raw.size() + 1, over = over || q.over_limit;
    if (over || length > 512) session.desync = true;
    if (server.held.active && client.mode == client_mode::paused && !client.buf.empty()) {
      // A second reply, but the client sent more behind the line (held
      // back while a reply decides how to read it): this may answer that,
      // and counting cannot tell. The line is taken as read whole, and no
      // verdict rests on the pairing from here on.
      answer_held(false, false);
      session.desync = true;
      resume_client();
      if (session.queue.empty()) {
        tell_exchange(exchange::kind::unsolicited, verb::unknown, code);
        return;
      }
    } else if (server.held.active) {
      answer_held(true);  // a second reply, and nothing else to answer
    } else if (!group_complete(g)) {
      // Answered before its CRLF came: the server framed it at the bare
      // terminator, as long as the client has sent no line end since (a
      // line the engine keeps open for another reason, e.g. a mode change,
      // may have had its CRLF). Past the limit the reply may refuse the
      // length instead (the desync above).
      const bool open = client.open_group == g && client.buf.find('\n') == std::string::npos;
      if (!session.desync && open) ++server.framing.split;
      split_group(g);
    } else if (session.queue.back().group != g) {
      // Commands behind the line before its first reply: counting cannot
      // tell the framings apart. The server is taken to frame by CRLF, but
      // that is a guess: from here on, as after a desync, no verdict rests
      // on which reply answers which command.
      join_group(g);
      session.desync = true;
    } else {
      held_reply& h = server.held;
      h.active = true;
      h.code = code;
      h.offset = at;
      h.text = server.reply_text;
      h.texts = server.reply_texts;
      h.bad = server.reply_bad;
      return;
    }
  }
  pending p = std::move(session.queue.front());
  session.queue.pop_front();
  answered(p, code, at);
  resume_client();
}

bool engine::impl::group_complete(std::uint32_t group) const {
  for (const pending& p : session.queue)
    if (p.group == group && p.ending != line_ending::lf && p.ending != line_ending::cr) return true;
  return false;
}

void engine::impl::split_group(std::uint32_t group) {
  for (pending& p : session.queue)
    if (p.group == group) p.split = true;
  // Answered at its bare terminator, the line ends there for both sides:
  // what the client sends next is a line of its own.
  if (client.open_group == group) client.open_group = 0;
}

void engine::impl::join_group(std::uint32_t group) {
  pending one;
  std::size_t pieces = 0;
  for (const pending& p : session.queue) {
    if (p.group != group) break;
    if (pieces++ == 0) {
      one = p;
      continue;
    }
    // The line as the server read it: the pieces with their bare
    // terminators (excerpt_of escapes them).
    if (one.raw.size() <= excerpt_max) one.raw += std::string(one.ending == line_ending::lf ? "\n" : "\r", 1) + p.raw;
    one.ending = p.ending;
    one.sync_point = one.sync_point || p.sync_point;
    one.rset_plain = false;
  }
  if (one.raw.size() > excerpt_max + 1) one.raw.resize(excerpt_max + 1);
  one.ending = line_ending::crlf;
  one.group = 0;
  for (std::size_t i = 0; i < pieces; ++i) session.queue.pop_front();
  session.queue.push_front(std::move(one));
}

void engine::impl::answer_held(bool split, bool shown) {
  held_reply h = std::move(server.held);
  server.held = held_reply{};
  if (session.queue.empty()) return;
  if (shown && !session.desync) ++(split ? server.framing.split : server.framing.whole);
  const std::uint32_t g = session.queue.front().group;
  if (split) split_group(g);
  else join_group(g);
  // The held reply is judged as it came, with its own text.
  std::swap(server.reply_text, h.text);
  std::swap(server.reply_texts, h.texts);
  std::swap(server.reply_bad, h.bad);
  pending p = std::move(session.queue.front());
  session.queue.pop_front();
  answered(p, h.code, h.offset);
  std::swap(server.reply_text, h.text);
  std::swap(server.reply_texts, h.texts);
  std::swap(server.reply_bad, h.bad);
}

void engine::impl::answered(const pending& p, std::uint16_t code, std::uint64_t at) {
  if (on_exchange) {
    static constexpr exchange::kind kinds[] = {exchange::kind::command, exchange::kind::data_end,
                                               exchange::kind::bdat_chunk, exchange::kind::auth_response};
    tell_exchange(kinds[static_cast<std::size_t>(p.kind)], p.kind == pending_kind::command ? p.v : verb::unknown, code);
  }
  server.answered_variant_data = p.kind == pending_kind::data_end && p.data_had_variant;
  server.answered_over_limit = p.kind == pending_kind::command && p.over_limit;
  // BDAT refused by a server that did not advertise CHUNKING, or whose
  // size it could not read: it has no chunk to skip, and reads the chunk's
  // octets as command lines (Exim 4.96: 503, then a 500 for each line).
  // The engine read them as the chunk: which reply answers what is open.
  if (p.kind == pending_kind::command && p.v == verb::bdat && code / 100 == 5 &&
      (!session.st.has(extension::chunking) || p.grammar != errc::ok))
    session.desync = true;
  // Code 0: the reply's code could not be read (reply.empty, reply.code).
  // It still answers the command, by counting, and gets no verdict of its
  // own; its outcome is read as a client must read a code it does not know,
  // by the first digit (RFC 5321 §4.2), and is unknown without one.
  const bool readable = code != 0;
  std::uint16_t outcome = code;
  if (!readable && !server.reply_text.empty() && server.reply_text[0] >= '2' && server.reply_text[0] <= '5')
    outcome = static_cast<std::uint16_t>((server.reply_text[0] - '0') * 100);
  if (!session.desync && readable) judge(p, code, at);

  ehlo_info info;
  const ehlo_info* ehlo = nullptr;
  if (p.kind == pending_kind::command && p.v == verb::ehlo && code == 250) {
    // A malformed line (reported as it came) does not hide what the other
    // lines advertise: a client reads them (smtp-sink ends its response
    // with "250 "), and verdicts on what was advertised rest on them.
    if (!session.desync && !server.reply_bad) judge_ehlo(server.reply_text, at);
    auto r = parse_ehlo_reply(server.reply_text);
    info = r.value;
    ehlo = &info;
  }
  if (outcome != 0) apply(session.st, p, outcome, ehlo);

  if (code == 421) session.got_421 = true;
  if (p.kind == pending_kind::command && p.v == verb::quit && code == 221) server.quit_replied = true;
  steer_client(p, code);
}

void engine::impl::steer_client(const pending& p, std::uint16_t code) {
  const bool waited = client.mode == client_mode::paused;
  if (p.kind == pending_kind::command && p.v == verb::data && waited) {
    if (code == 354) {
      client.mode = client_mode::data;
      client.decoder.reset();
      client.data_start = client.off;
      client.last_variant_end = UINT64_MAX;
    } else {
      client.mode = client_mode::lines;
    }
  } else if (p.kind == pending_kind::command && p.v == verb::starttls && waited) {
    if (code == 220) {
      server.tls_pending = true;
      client.mode = client_mode::tls_wait;
    } else {
      client.mode = client_mode::lines;
    }
  } else if (p.v == verb::auth && (waited || client.mode == client_mode::lines)) {
    if (code == 334) client.mode = client_mode::auth_response;
    else if (waited) client.mode = client_mode::lines;
  } else if (waited && session.queue.empty()) {
    client.mode = client_mode::lines;
  }
}

void engine::impl::greeting(std::uint16_t code, std::string_view text, std::uint64_t at) {
  session.greeted = true;
  // 0: unreadable, reported by the grammar
  verdicts.check(
      rk::server_greeting_code, code != 0 && !one_of(code, {220, 554, 421}), side::server, at,
      [&] { return "greeting " + std::to_string(code); }, [&] { return excerpt_of(text); });
  server.refused = code == 554;
  if (code == 421) session.got_421 = true;
  if (code == 220 && !server.reply_bad) {
    auto g = parse_greeting(text);
    auto first_line = [&] { return excerpt_of(text.substr(0, text.find('\r'))); };
    if (g.diag) {
      verdicts.check(grammar_rule(side::server, errc::greeting_domain), true, side::server, at + g.diag.offset,
                     "greeting does not start with the server's domain", first_line);
    } else {
      verdicts.check(
          rk::server_domain_unqualified,
          g.value.server.kind == host_kind::domain && !fully_qualified(g.value.server.text), side::server, at,
          [&] { return "greeting names \"" + std::string(g.value.server.text) + "\", not a fully qualified domain"; },
          first_line);
    }
  }
}

void engine::impl::unsolicited(std::uint16_t code, std::uint64_t at) {
  const bool explained = explain_unsolicited(code, at);
  verdicts.check(
      rk::server_reply_unsolicited, !explained, side::server, at,
      [&] { return "reply " + std::to_string(code) + " without a command"; },
      [&] { return excerpt_of(server.reply_text); });
}

bool engine::impl::explain_unsolicited(std::uint16_t code, std::uint64_t at) {
  auto reply = [&] { return excerpt_of(server.reply_text); };
  if (client.mode == client_mode::data) {
    // A reply while the client is still sending data: the server ended the
    // data somewhere else than <CRLF>.<CRLF>.
    session.desync = true;
    if (client.last_variant_end != UINT64_MAX)
      verdicts.check(
          rk::server_data_eod_variant_accepted, true, side::server, at,
          [&] { return "server replied " + std::to_string(code) + " after a non-CRLF end-of-data sequence"; }, reply);
    else
      verdicts.check(
          rk::server_data_early_reply, true, side::server, at,
          [&] { return "reply " + std::to_string(code) + " before the end of data"; }, reply);
    return true;
  }
  if (server.answered_variant_data) {
    // A client that sends a whole message at once (as an attacker does)
    // has nothing pending after the real <CRLF>.<CRLF>: a further reply
    // right after the one to data holding a "." variant means the server
    // ended the data at the variant and read the rest as commands.
    session.desync = true;
    verdicts.check(
        rk::server_data_eod_variant_accepted, true, side::server, at,
        [&] {
          return "reply " + std::to_string(code) +
                 " with no command pending, after data holding a non-CRLF end-of-data sequence";
        },
        reply);
    return true;
  }
  if (server.answered_over_limit) {
    // Right after the reply to a line past the limit of §4.5.3.1.4: the
    // server cut the line at its own buffer and answered the rest as a
    // line of its own (Exim 4.96 answers a 17 KB line with two 500s). The
    // client broke the limit; which reply answers what is open from here.
    session.desync = true;
    return true;
  }
  if (server.injected_commands > 0 && session.st.tls) {
    --server.injected_commands;
    verdicts.check(rk::server_starttls_injection_answered, true, side::server, at,
                   "server answered a command sent before the TLS handshake", reply);
    return true;
  }
  if (code == 421) {
    session.got_421 = true;
    return true;
  }
  return false;
}

void engine::impl::judge(const pending& p, std::uint16_t code, std::uint64_t at) {
  const int cls = code / 100;
  // White space before CRLF does not make a command malformed: §4.1.1 asks
  // servers to accept it. Asks, at SHOULD: a server that answers such a
  // line with a syntax error (500/501) is judged as for a malformed one,
  // never as refusing a well-formed command (a MUST of its own).
  // Likewise a line over the length limit refused with 500 (§4.2.2 "line
  // too long"): the refusal is the server's right, not a missing command.
  const bool refused_trailing = p.grammar == errc::trailing_whitespace && (code == 500 || code == 501);
  const bool refused_long = p.over_limit && code == 500;
  const bool malformed =
      p.kind == pending_kind::command &&
      ((p.grammar != errc::ok && (p.grammar != errc::trailing_whitespace || refused_trailing)) || refused_long);
  const std::string_view first_line = std::string_view(server.reply_text).substr(0, server.reply_text.find('\r'));
  const reply_to reply{*this, p, code, at, cls, cls == 2 || cls == 3, malformed, lazy_excerpt(first_line)};
  // RFC 5321 §4.2: "senders SHOULD NOT send bare codes" (an empty 334
  // challenge is RFC 4954's "334" SP, not a bare code).
  reply.check(rk::server_reply_bare_code,
              code != 334 && !server.reply_bad &&
                  std::all_of(server.reply_texts.begin(), server.reply_texts.end(),
                              [](const std::string& t) { return t.empty(); }),
              [&] { return std::to_string(code) + " without text"; });
  judge_code(reply);
  judge_taken_as_command(reply);
  if (p.kind == pending_kind::command) judge_support(reply);
  if (p.kind == pending_kind::auth_response) {
    judge_auth_response(reply);
    return;
  }
  if (p.kind == pending_kind::data_end) {
    judge_esc(code, at);
    return;
  }
  const server_verb_row& row = server_verbs[static_cast<std::size_t>(p.v)];
  if (row.judge != nullptr) row.judge(reply);
  if (row.enhanced_codes) judge_esc(code, at);
}

void engine::impl::judge_esc(std::uint16_t code, std::uint64_t at) {
  const int cls = code / 100;
  if (cls == 3 || cls < 2 || cls > 5) return;
  if (!session.st.has(extension::enhancedstatuscodes)) {
    // Said once per session: every later reply would repeat it.
    const auto status = server.esc_unadvertised_reported ? std::nullopt : first_status(server.reply_texts);
    if (status) server.esc_unadvertised_reported = true;
    verdicts.check(
        rk::server_esc_unadvertised, status.has_value(), side::server, at,
        [&] { return "reply carries " + std::string(*status); },
        [&] { return excerpt_of(server.reply_text.substr(0, server.reply_text.find('\r'))); });
    return;
  }
  const status_fault f = first_status_fault(server.reply_texts, cls);
  auto check = [&](rk rule, status_fault::kind k, const auto& message) {
    verdicts.check(rule, f.what == k, side::server, at, message, [&] { return excerpt_of(*f.line); });
  };
  check(rk::server_esc_missing, status_fault::kind::missing,
        [&] { return std::to_string(code) + " line without a status code"; });
  check(rk::server_esc_class, status_fault::kind::wrong_class,
        [&] { return std::string(f.status) + " with reply code " + std::to_string(code); });
  check(rk::server_esc_syntax, status_fault::kind::syntax, "malformed status code");
}

void engine::impl::judge_ehlo(std::string_view text, std::uint64_t at) {
  auto r = parse_ehlo_reply(text);
  if (r.diag &&
      (r.diag.code == errc::ehlo_domain || r.diag.code == errc::ehlo_keyword || r.diag.code == errc::ehlo_param))
    verdicts.check(
        grammar_rule(side::server, r.diag.code), true, side::server, at + r.diag.offset,
        [&] { return std::string(r.diag.why()); },
        [&] {
          return excerpt_of(text.substr(r.diag.offset < text.size() ? text.rfind('\n', r.diag.offset) + 1 : 0, 80));
        });
  verdicts.check(
      rk::server_domain_unqualified, !r.value.domain.empty() && !fully_qualified(r.value.domain), side::server, at,
      [&] { return "EHLO response names \"" + std::string(r.value.domain) + "\", not a fully qualified domain"; });
  verdicts.applies(rk::server_ehlo_keyword_unregistered);
  // The stream offset of a keyword's line, so a finding names that line:
  // `text` holds the reply's lines as sent (CRLF-joined; judge_ehlo runs
  // only on replies without line-ending errors), each keyword after "250-".
  auto line_at = [&](const ehlo_keyword& k) {
    return at + static_cast<std::uint64_t>(k.keyword.data() - text.data()) - 4;
  };
  auto line_of = [&](const ehlo_keyword& k) {
    const std::size_t start = static_cast<std::size_t>(k.keyword.data() - text.data()) - 4;
    return excerpt_of(text.substr(start, text.find('\r', start) - start));
  };
  ehlo_keywords kws(text);
  ehlo_keyword kw;
  while (kws.next(kw)) {
    if (kw.keyword.empty() || private_keyword(kw.keyword) || registered_keyword(kw.keyword)) continue;
    bool syntax_ok = true;
    for (char c : kw.keyword)
      if (!is_ldh(c)) syntax_ok = false;
    if (!syntax_ok) continue;  // reported as a grammar error
    verdicts.check(
        rk::server_ehlo_keyword_unregistered, true, side::server, line_at(kw),
        [&] {
          return "keyword " + excerpt_of(kw.keyword) + " is neither X-prefixed nor in the IANA registry (" +
                 std::string(iana_registry_date) + ")";
        },
        [&] { return line_of(kw); });
  }
  const bool readvertised = session.st.tls && r.value.has(extension::starttls);
  std::uint64_t where = at;
  std::string line;
  if (readvertised) {
    ehlo_keywords again(text);
    while (again.next(kw))
      if (extension_from_keyword(kw.keyword) == extension::starttls) {
        where = line_at(kw);
        line = line_of(kw);
      }
  }
  verdicts.check(rk::server_starttls_readvertised, readvertised, side::server, where,
                 "STARTTLS advertised after TLS started", line);
  verdicts.check(rk::server_ehlo_smtputf8_without_8bitmime,
                 r.value.has(extension::smtputf8) && !r.value.has(extension::eightbitmime), side::server, at,
                 "SMTPUTF8 advertised without 8BITMIME");
}

void engine::impl::server_close() {
  // Octets after the last line end are the server's last reply line, sent
  // without CRLF (a trailing CR is a bare CR); judge and count it.
  if (!server.buf.empty() && !server.tls_pending) {
    line_result r = server.framer.finish(server.buf);
    if (r.status == line_status::line || r.status == line_status::overflow_end) server_line(r, server.off);
    server.off += server.buf.size();
    server.buf.clear();
  }
  // A reply held for a bare-CR/LF line answered the line: no second came.
  if (server.held.active) answer_held(false);
  // A multi-line reply still waiting for its last line never ends now; it
  // still answers its command, by counting (RFC 5321 §4.2.1).
  if (server.assembler.in_progress()) {
    verdicts.check(grammar_rule(side::server, errc::reply_incomplete), true, side::server, server.off,
                   "connection closed inside a multi-line reply",
                   [&] { return excerpt_of(server.reply_texts.empty() ? "" : server.reply_texts.back()); });
    server.reply_code = server.assembler.code();
    server.assembler.reset();
    server_reply(server.reply_offset);
  }
  session.server_closed = true;
  // A complete bare-CR/LF line left unanswered is one line unanswered.
  if (!session.queue.empty() && session.queue.front().group != 0 && !session.queue.front().split &&
      group_complete(session.queue.front().group))
    join_group(session.queue.front().group);
  // silent_since_tls: see client_close().
  // RFC 5321 §7.8: a server defending itself may "close the connection
  // after generating an appropriate number of 5yz (normally 550) replies"
  // (Exim's smtp_max_synprot_errors: "500 Too many syntax or protocol
  // errors", then the close; "554 Too many nonmail commands" after ten
  // VRFYs). The last reply a 5yz, after three of them or ten replies.
  // Or it said it is closing: a 221 that answered no QUIT (Postfix to a
  // client that pipelines where it may not: "221 2.7.0 Error: I can break
  // rules, too. Goodbye.").
  const bool defended = (server.last_negative && (server.negative >= 3 || server.replies >= 10)) || server.last_closing;
  const bool ended = server.quit_replied || session.got_421 || session.desync || session.silent_since_tls || defended;
  const std::uint64_t where = server.off + server.buf.size();
  // A BDAT whose chunk never came whole is not owed a reply (RFC 3030 §2:
  // the reply follows the chunk); a client that closes takes it back itself.
  const std::size_t owed =
      session.queue.size() -
      (!session.queue.empty() && (client.mode == client_mode::bdat || session.queue.back().taken_back) ? 1 : 0);
  // A line past §4.5.3.1.4's limit left unanswered: the client broke the
  // limit first, and a server may drop a connection flooding it (§7.8;
  // Postfix's smtp-sink closes on a line over 2 KB).
  const bool flooded =
      owed > 0 && session.queue.front().kind == pending_kind::command && session.queue.front().over_limit;
  verdicts.check(
      rk::server_reply_missing, !ended && !flooded && owed > 0, side::server, where,
      [&] {
        const pending& first = session.queue.front();
        return "server closed with " + std::to_string(owed) + " command(s) unanswered, first " +
               (first.kind == pending_kind::data_end ? std::string("end of data") : std::string(to_string(first.v)));
      },
      [&] { return session.queue.front().excerpt(); });
  verdicts.check(rk::server_session_closed,
                 !ended && session.queue.empty() && session.greeted && !session.client_closed, side::server, where,
                 "server closed the connection without 221 or 421");
}

}  // namespace smtpkit::conformance
