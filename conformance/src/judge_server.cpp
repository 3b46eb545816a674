// judge_server.cpp — what the server may answer: reply codes per command
// (RFC 5321 §4.3.2), sequencing it must refuse (§4.1.4), its greeting and
// EHLO response, STARTTLS (RFC 3207), AUTH (RFC 4954), enhanced status
// codes (RFC 2034, 3463), the limits it must honour (§4.5.1, §4.5.3.1.8).
#include <algorithm>
#include <initializer_list>

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
    case verb::auth: return one_of(code, {334, 235, 432, 454, 534, 535, 538, 503, 504});
    case verb::bdat: return one_of(code, {250, 552, 554, 451, 452, 450, 550, 503});
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
    if (low.find("too many recipients") != std::string::npos || low.rfind("4.5.3", 0) == 0 || low.rfind("5.5.3", 0) == 0)
      return true;
  }
  return false;
}

}  // namespace

void engine::impl::server_reply(std::uint64_t at) {
  const std::uint16_t code = server_reply_code;
  touch(rk::server_quit_no_close);
  touch(rk::server_closed_after_421);
  if (quit_replied) {
    report(rk::server_quit_no_close, side::server, at, "reply after 221 to QUIT", excerpt_of(reply_text));
    return;
  }
  if (got_421) {
    report(rk::server_closed_after_421, side::server, at, "reply after 421", excerpt_of(reply_text));
    return;
  }
  if (!greeted) {
    greeting(code, reply_text, at);
    resume_client();
    return;
  }
  if (st.tls) replies_after_tls = true;
  // A reply while the client's last octet is a CR not yet known to be
  // CRLF: the server took that CR as the end of a line (RFC 5321 §2.3.8),
  // so the line is judged as one ended by a bare CR, and this reply answers it.
  if (queue.empty() && (cmode == client_mode::lines || cmode == client_mode::auth_response) && !cbuf.empty() &&
      cbuf.back() == '\r')
    take_client_cr();
  if (queue.empty()) {
    // After a desync the engine cannot tell which octets the server took
    // as commands; it keeps matching replies by counting, without verdicts.
    if (!desync) unsolicited(code, at);
    return;
  }
  pending p = std::move(queue.front());
  queue.pop_front();
  answered_variant_data = p.kind == pending_kind::data_end && p.data_had_variant;
  // Code 0: the reply's code could not be read (reply.empty, reply.code).
  // It still answers the command, by counting, and gets no verdict of its
  // own; its outcome is read as a client must read a code it does not know,
  // by the first digit (RFC 5321 §4.2), and is unknown without one.
  const bool readable = code != 0;
  std::uint16_t outcome = code;
  if (!readable && !reply_text.empty() && reply_text[0] >= '2' && reply_text[0] <= '5')
    outcome = static_cast<std::uint16_t>((reply_text[0] - '0') * 100);
  if (!desync && readable) judge(p, code, at);

  ehlo_info info;
  const ehlo_info* ehlo = nullptr;
  if (p.kind == pending_kind::command && p.v == verb::ehlo && code == 250 && !reply_bad) {
    if (!desync) judge_ehlo(reply_text, at);
    auto r = parse_ehlo_reply(reply_text);
    info = r.value;
    ehlo = &info;
  }
  if (outcome != 0) apply(st, p, outcome, ehlo);

  if (code == 421) got_421 = true;
  if (p.kind == pending_kind::command && p.v == verb::quit && code == 221) quit_replied = true;
  const bool waited = cmode == client_mode::paused;
  if (p.kind == pending_kind::command && p.v == verb::data && waited) {
    if (code == 354) {
      cmode = client_mode::data;
      decoder.reset();
      data_start = coff;
      last_variant_end = UINT64_MAX;
    } else {
      cmode = client_mode::lines;
    }
  } else if (p.kind == pending_kind::command && p.v == verb::starttls && waited) {
    if (code == 220) {
      tls_pending = true;
      cmode = client_mode::tls_wait;
    } else {
      cmode = client_mode::lines;
    }
  } else if (p.v == verb::auth && (waited || cmode == client_mode::lines)) {
    if (code == 334) cmode = client_mode::auth_response;
    else if (waited) cmode = client_mode::lines;
  } else if (waited && queue.empty()) {
    cmode = client_mode::lines;
  }
  resume_client();
}

void engine::impl::greeting(std::uint16_t code, std::string_view text, std::uint64_t at) {
  greeted = true;
  touch(rk::server_greeting_code);
  if (code != 0 && !one_of(code, {220, 554, 421}))  // 0: unreadable, reported by the grammar
    report(rk::server_greeting_code, side::server, at, "greeting " + std::to_string(code), excerpt_of(text));
  refused = code == 554;
  if (code == 421) got_421 = true;
  if (code == 220 && !reply_bad) {
    auto g = parse_greeting(text);
    if (g.diag) {
      report(grammar_rule(side::server, errc::greeting_domain), side::server, at + g.diag.offset,
             "greeting does not start with the server's domain", excerpt_of(text.substr(0, text.find('\r'))));
    } else {
      touch(rk::server_domain_unqualified);
      if (g.value.server.kind == host_kind::domain && !fully_qualified(g.value.server.text))
        report(rk::server_domain_unqualified, side::server, at,
               "greeting names \"" + std::string(g.value.server.text) + "\", not a fully qualified domain",
               excerpt_of(text.substr(0, text.find('\r'))));
    }
  }
}

void engine::impl::unsolicited(std::uint16_t code, std::uint64_t at) {
  touch(rk::server_reply_unsolicited);
  if (cmode == client_mode::data) {
    // A reply while the client is still sending data: the server ended the
    // data somewhere else than <CRLF>.<CRLF>.
    desync = true;
    if (last_variant_end != UINT64_MAX) {
      touch(rk::server_data_eod_variant_accepted);
      report(rk::server_data_eod_variant_accepted, side::server, at,
             "server replied " + std::to_string(code) + " after a non-CRLF end-of-data sequence", excerpt_of(reply_text));
    } else {
      touch(rk::server_data_early_reply);
      report(rk::server_data_early_reply, side::server, at, "reply " + std::to_string(code) + " before the end of data",
             excerpt_of(reply_text));
    }
    return;
  }
  if (answered_variant_data) {
    // A client that sends a whole message at once (as an attacker does)
    // has nothing pending after the real <CRLF>.<CRLF>: a further reply
    // right after the one to data holding a "." variant means the server
    // ended the data at the variant and read the rest as commands.
    desync = true;
    touch(rk::server_data_eod_variant_accepted);
    report(rk::server_data_eod_variant_accepted, side::server, at,
           "reply " + std::to_string(code) + " with no command pending, after data holding a non-CRLF end-of-data sequence",
           excerpt_of(reply_text));
    return;
  }
  if (injected_commands > 0 && st.tls) {
    --injected_commands;
    touch(rk::server_starttls_injection_answered);
    report(rk::server_starttls_injection_answered, side::server, at,
           "server answered a command sent before the TLS handshake", excerpt_of(reply_text));
    return;
  }
  if (code == 421) {
    got_421 = true;
    return;
  }
  report(rk::server_reply_unsolicited, side::server, at, "reply " + std::to_string(code) + " without a command",
         excerpt_of(reply_text));
}

void engine::impl::judge(const pending& p, std::uint16_t code, std::uint64_t at) {
  const lazy_excerpt ex(std::string_view(reply_text).substr(0, reply_text.find('\r')));
  const std::string what = p.kind == pending_kind::data_end        ? std::string("end of data")
                           : p.kind == pending_kind::auth_response ? std::string("AUTH response")
                                                                   : std::string(to_string(p.v));
  const int cls = code / 100;
  touch(rk::server_reply_intermediate);
  touch(rk::server_reply_unexpected_code);
  if (cls == 3) {
    const bool ok = (p.kind == pending_kind::command && p.v == verb::data && code == 354) ||
                    ((p.v == verb::auth || p.kind == pending_kind::auth_response) && code == 334) ||
                    (p.kind == pending_kind::command && p.extension_verb);
    if (!ok) report(rk::server_reply_intermediate, side::server, at, std::to_string(code) + " in reply to " + what, ex);
  } else if (!listed(p, code) && !(p.kind == pending_kind::command && p.v == verb::unknown)) {
    report(rk::server_reply_unexpected_code, side::server, at, std::to_string(code) + " in reply to " + what, ex);
  }

  // A line the client ended with a bare LF or CR, answered positively, was
  // taken as a command. A refusal is not: a server that spots the bare LF
  // and says so (Postfix's smtpd_forbid_bare_newline answers 521) does what
  // §2.3.8 asks. The line must be the last one sent, or counting cannot say
  // which line the reply answers.
  touch(rk::server_line_bare_lf_accepted);
  const bool bare_end = p.kind == pending_kind::command && (p.ending == line_ending::lf || p.ending == line_ending::cr);
  if (bare_end && queue.empty() && (cls == 2 || cls == 3))
    report(rk::server_line_bare_lf_accepted, side::server, at,
           std::to_string(code) + " to a line ended by a bare " + (p.ending == line_ending::lf ? "LF" : "CR"), p.excerpt());

  // (A bare line end accepted is the rule above, not this one.)
  touch(rk::server_accepted_syntax_error);
  if (p.kind == pending_kind::command && p.grammar != errc::ok && p.grammar != errc::trailing_whitespace &&
      p.grammar != errc::line_too_long && !bare_end && (cls == 2 || cls == 3))
    report(rk::server_accepted_syntax_error, side::server, at,
           std::to_string(code) + " to a command that breaks " + std::string(rule_id(p.grammar)), p.excerpt());
  if (p.kind == pending_kind::command && p.grammar == errc::line_too_long && cls != 5 && code != 421)
    report(rk::server_reply_unexpected_code, side::server, at, std::to_string(code) + " to an over-long command line", ex);

  const bool positive = cls == 2 || cls == 3;
  // "QUIT gets 221", "RSET gets 250", "NOOP gets 250" are about the command
  // as defined; a line that breaks the grammar is not that command (a
  // server accepting it is server.syntax.accepted). White space before CRLF
  // is not counted: §4.1.1 asks servers to accept it.
  const bool malformed =
      p.kind == pending_kind::command && p.grammar != errc::ok && p.grammar != errc::trailing_whitespace;
  if (p.kind == pending_kind::auth_response) {
    touch(rk::server_auth_cancel_not_501);
    if (p.auth_cancel && code != 501)
      report(rk::server_auth_cancel_not_501, side::server, at, std::to_string(code) + " to \"*\"", ex);
    if (code == 334) judge_esc(nullptr, code, at);
    else judge_esc(&p, code, at);
    if (code == 334) {
      touch(rk::server_auth_challenge_syntax);
      std::string_view t = reply_texts.empty() ? std::string_view{} : std::string_view(reply_texts.front());
      if (!t.empty() && !is_base64(t)) report(rk::server_auth_challenge_syntax, side::server, at, "challenge is not base64", ex);
    }
    return;
  }
  if (p.kind == pending_kind::data_end) {
    judge_esc(&p, code, at);
    return;
  }

  switch (p.v) {
    case verb::quit:
      touch(rk::server_quit_not_221);
      if (code != 221 && code != 421 && !malformed) report(rk::server_quit_not_221, side::server, at, std::to_string(code) + " to QUIT", ex);
      break;
    case verb::rset:
      touch(rk::server_rset_not_250);
      if (p.rset_plain && code != 250 && code != 421 && !malformed)
        report(rk::server_rset_not_250, side::server, at, std::to_string(code) + " to RSET", ex);
      break;
    case verb::noop:
      touch(rk::server_noop_not_250);
      if (code != 250 && code != 421 && !malformed) report(rk::server_noop_not_250, side::server, at, std::to_string(code) + " to NOOP", ex);
      break;
    case verb::mail:
      touch(rk::server_accepted_nested_mail);
      touch(rk::server_accepted_size_over_limit);
      if (positive && st.t != smtp_state::txn::none)
        report(rk::server_accepted_nested_mail, side::server, at, std::to_string(code) + " to MAIL inside a transaction", ex);
      if (positive && p.size_declared && st.size_limit > 0 && p.size > st.size_limit)
        report(rk::server_accepted_size_over_limit, side::server, at,
               std::to_string(code) + " to SIZE=" + std::to_string(p.size) + " over the advertised " +
                   std::to_string(st.size_limit), ex);
      break;
    case verb::rcpt:
      touch(rk::server_accepted_rcpt_without_mail);
      if (positive && st.t == smtp_state::txn::none)
        report(rk::server_accepted_rcpt_without_mail, side::server, at, std::to_string(code) + " to RCPT without MAIL", ex);
      touch(rk::server_postmaster_rejected);
      if (p.postmaster && st.t != smtp_state::txn::none && !refused && one_of(code, {550, 551, 553}))
        report(rk::server_postmaster_rejected, side::server, at, std::to_string(code) + " to a postmaster recipient", ex);
      touch(rk::server_limits_recipients);
      if (is_too_many_recipients(code, reply_texts)) {
        if (st.rcpts < 100)
          report(rk::server_limits_recipients, side::server, at,
                 "\"too many recipients\" after " + std::to_string(st.rcpts) + " accepted", ex);
        touch(rk::server_limits_recipients_code);
        if (code == 552)
          report(rk::server_limits_recipients_code, side::server, at, "552 for too many recipients", ex);
      }
      break;
    case verb::data:
      touch(rk::server_accepted_data_without_rcpt);
      touch(rk::server_accepted_bdat_mixed);
      if (code == 354 && st.t != smtp_state::txn::rcpt)
        report(rk::server_accepted_data_without_rcpt, side::server, at, "354 to DATA without an accepted RCPT", ex);
      if (code == 354 && st.used_bdat)
        report(rk::server_accepted_bdat_mixed, side::server, at, "354 to DATA after BDAT", ex);
      break;
    case verb::bdat:
      touch(rk::server_accepted_bdat_mixed);
      if (positive && (st.used_data || st.bdat_last))
        report(rk::server_accepted_bdat_mixed, side::server, at, std::to_string(code) + " to BDAT after DATA or BDAT LAST", ex);
      else if (positive && st.t != smtp_state::txn::rcpt)
        report(rk::server_accepted_data_without_rcpt, side::server, at, std::to_string(code) + " to BDAT without an accepted RCPT", ex);
      break;
    case verb::starttls:
      touch(rk::server_starttls_second_accepted);
      if (code == 220 && st.tls)
        report(rk::server_starttls_second_accepted, side::server, at, "220 to STARTTLS inside TLS", ex);
      break;
    case verb::auth:
      touch(rk::server_auth_twice_accepted);
      touch(rk::server_auth_in_transaction_accepted);
      if (positive && st.authed)
        report(rk::server_auth_twice_accepted, side::server, at, std::to_string(code) + " to a second AUTH", ex);
      if (positive && st.t != smtp_state::txn::none)
        report(rk::server_auth_in_transaction_accepted, side::server, at, std::to_string(code) + " to AUTH in a transaction", ex);
      if (code == 334) {
        touch(rk::server_auth_challenge_syntax);
        std::string_view t = reply_texts.empty() ? std::string_view{} : std::string_view(reply_texts.front());
        if (!t.empty() && !is_base64(t))
          report(rk::server_auth_challenge_syntax, side::server, at, "challenge is not base64", ex);
      }
      break;
    case verb::unknown:
    case verb::count_:
      touch(rk::server_reply_unknown_command);
      if (!p.extension_verb && p.grammar != errc::line_too_long && !one_of(code, {500, 502, 421}))
        report(rk::server_reply_unknown_command, side::server, at, std::to_string(code) + " to an unknown command", ex);
      break;
    default:
      break;
  }
  if (p.v != verb::ehlo && p.v != verb::helo) judge_esc(&p, code, at);
}

void engine::impl::judge_esc(const pending* p, std::uint16_t code, std::uint64_t at) {
  const int cls = code / 100;
  if (p == nullptr || cls == 3 || cls < 2 || cls > 5) return;
  if (!st.has(extension::enhancedstatuscodes)) {
    touch(rk::server_esc_unadvertised);
    if (esc_unadvertised_reported) return;
    for (const auto& t : reply_texts) {
      auto e = parse_enhanced_status(t);
      if (e.value.present && e.ok()) {
        esc_unadvertised_reported = true;
        report(rk::server_esc_unadvertised, side::server, at, "reply carries " + std::string(e.value.code),
               excerpt_of(reply_text.substr(0, reply_text.find('\r'))));
        return;
      }
    }
    return;
  }
  touch(rk::server_esc_missing);
  touch(rk::server_esc_class);
  touch(rk::server_esc_syntax);
  for (const auto& t : reply_texts) {
    auto e = parse_enhanced_status(t);
    if (!e.value.present) {
      report(rk::server_esc_missing, side::server, at, std::to_string(code) + " line without a status code", excerpt_of(t));
      return;
    }
    if (e.diag) {
      report(rk::server_esc_syntax, side::server, at, "malformed status code", excerpt_of(t));
      return;
    }
    if (e.value.cls != cls) {
      report(rk::server_esc_class, side::server, at,
             std::string(e.value.code) + " with reply code " + std::to_string(code), excerpt_of(t));
      return;
    }
  }
}

void engine::impl::judge_ehlo(std::string_view text, std::uint64_t at) {
  auto r = parse_ehlo_reply(text);
  if (r.diag && (r.diag.code == errc::ehlo_domain || r.diag.code == errc::ehlo_keyword || r.diag.code == errc::ehlo_param))
    report(grammar_rule(side::server, r.diag.code), side::server, at + r.diag.offset, std::string(r.diag.why()),
           excerpt_of(text.substr(r.diag.offset < text.size() ? text.rfind('\n', r.diag.offset) + 1 : 0, 80)));
  touch(rk::server_domain_unqualified);
  if (!r.value.domain.empty() && !fully_qualified(r.value.domain))
    report(rk::server_domain_unqualified, side::server, at,
           "EHLO response names \"" + std::string(r.value.domain) + "\", not a fully qualified domain");
  touch(rk::server_ehlo_keyword_unregistered);
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
    report(rk::server_ehlo_keyword_unregistered, side::server, line_at(kw),
           "keyword " + excerpt_of(kw.keyword) + " is neither X-prefixed nor in the IANA registry (" +
               std::string(iana_registry_date) + ")",
           line_of(kw));
  }
  touch(rk::server_starttls_readvertised);
  if (st.tls && r.value.has(extension::starttls)) {
    std::uint64_t where = at;
    std::string line;
    ehlo_keywords again(text);
    while (again.next(kw))
      if (extension_from_keyword(kw.keyword) == extension::starttls) {
        where = line_at(kw);
        line = line_of(kw);
      }
    report(rk::server_starttls_readvertised, side::server, where, "STARTTLS advertised after TLS started", line);
  }
  touch(rk::server_ehlo_smtputf8_without_8bitmime);
  if (r.value.has(extension::smtputf8) && !r.value.has(extension::eightbitmime))
    report(rk::server_ehlo_smtputf8_without_8bitmime, side::server, at, "SMTPUTF8 advertised without 8BITMIME");
}

void engine::impl::server_close() {
  // Octets after the last line end are the server's last reply line, sent
  // without CRLF (a trailing CR is a bare CR); judge and count it.
  if (!sbuf.empty() && !tls_pending) {
    line_result r = sframer.finish(sbuf);
    if (r.status == line_status::line || r.status == line_status::overflow_end) server_line(r, soff);
    soff += sbuf.size();
    sbuf.clear();
  }
  // A multi-line reply still waiting for its last line never ends now; it
  // still answers its command, by counting (RFC 5321 §4.2.1).
  if (assembler.in_progress()) {
    report(grammar_rule(side::server, errc::reply_incomplete), side::server, soff,
           "connection closed inside a multi-line reply", excerpt_of(reply_texts.empty() ? "" : reply_texts.back()));
    server_reply_code = assembler.code();
    assembler.reset();
    server_reply(reply_offset);
  }
  server_closed = true;
  touch(rk::server_reply_missing);
  touch(rk::server_session_closed);
  // silent_since_tls: see client_close().
  if (quit_replied || got_421 || desync || silent_since_tls) return;
  if (!queue.empty()) {
    report(rk::server_reply_missing, side::server, soff + sbuf.size(),
           "server closed with " + std::to_string(queue.size()) + " command(s) unanswered, first " +
               (queue.front().kind == pending_kind::data_end ? std::string("end of data") : std::string(to_string(queue.front().v))),
           queue.front().excerpt());
    return;
  }
  if (greeted && !client_closed)
    report(rk::server_session_closed, side::server, soff + sbuf.size(), "server closed the connection without 221 or 421");
}

}  // namespace smtpkit::conformance
