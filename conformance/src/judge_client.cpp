// judge_client.cpp — what the client may send, judged from what it knew:
// the replies it had received, with commands still awaiting a reply assumed
// to succeed (RFC 5321 §4.1.4 ordering, §4.3.1 lock-step, RFC 2920 §3.1
// pipelining, extension use only once advertised).
#include <algorithm>

#include "engine_impl.hpp"
#include "smtpkit/conformance/registry.hpp"
#include "smtpkit/ascii.hpp"

namespace smtpkit::conformance {
namespace {

using smtpkit::iequals;

// Extension whose advertisement a MAIL/RCPT parameter needs.
extension needed_extension(param_id id, body_type body) {
  switch (id) {
    case param_id::size: return extension::size;
    case param_id::body: return body == body_type::binary_mime ? extension::binarymime : extension::eightbitmime;
    case param_id::smtputf8: return extension::smtputf8;
    case param_id::ret:
    case param_id::envid:
    case param_id::notify:
    case param_id::orcpt: return extension::dsn;
    case param_id::auth: return extension::auth;
    case param_id::mt_priority: return extension::mt_priority;
    case param_id::requiretls: return extension::requiretls;
    case param_id::count_: break;
  }
  return extension::count_;
}

// What each extension adds to the 512-octet command line (the "length
// added" each RFC states; SIZE RFC 1870 §3, SMTPUTF8 RFC 6531 §3.1,
// AUTH= RFC 4954 §3, MT-PRIORITY RFC 6710 §3; DSN's RET/ENVID and
// NOTIFY/ORCPT use their maximum value lengths, RFC 3461 §4).
std::size_t line_limit(const command& c) {
  std::size_t limit = 512;
  const auto& t = c.typed;
  if (t.has(param_id::size)) limit += 26;
  if (t.has(param_id::body)) limit += 21;
  if (t.has(param_id::smtputf8)) limit += 10;
  if (t.has(param_id::auth)) limit += 500;
  if (t.has(param_id::ret) || t.has(param_id::envid)) limit += 120;
  if (t.has(param_id::notify) || t.has(param_id::orcpt)) limit += 540;
  if (t.has(param_id::mt_priority)) limit += 15;
  if (t.has(param_id::requiretls)) limit += 11;
  return limit;
}

bool mechanism_listed(std::string_view list, std::string_view mech) {
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t sp = list.find(' ', pos);
    std::string_view m = list.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    if (iequals(m, mech)) return true;
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return false;
}

}  // namespace

bool is_sync_point(const pending& p) { return p.sync_point; }

void apply(smtp_state& s, const pending& p, std::uint16_t code, const ehlo_info* ehlo) {
  const bool assume = code == 0;
  const bool positive = assume || (code >= 200 && code < 400);
  switch (p.kind) {
    case pending_kind::data_end:
      s.reset_txn();  // accepted or not, the transaction is over (§4.1.1.4)
      return;
    case pending_kind::auth_response:
      if (assume || code == 235) s.authed = true;
      return;
    case pending_kind::bdat_chunk:
    case pending_kind::command:
      break;
  }
  switch (p.v) {
    case verb::ehlo:
      if (assume || code == 250) {
        s.hello = true;
        s.esmtp = true;
        s.reset_txn();
        if (ehlo) {
          s.ext = ehlo->extensions;
          s.size_limit = ehlo->size_declared ? ehlo->size_limit : 0;
          s.auth_mechs = std::string(ehlo->auth_mechanisms);
        }
      }
      break;
    case verb::helo:
      if (assume || code == 250) {
        s.hello = true;
        s.esmtp = false;
        s.ext = 0;
        s.size_limit = 0;
        s.auth_mechs.clear();
        s.reset_txn();
      }
      break;
    case verb::mail:
      if (positive && s.t == smtp_state::txn::none) {
        s.reset_txn();
        s.t = smtp_state::txn::mail;
        s.txn_smtputf8 = p.mail_smtputf8;
        s.body = p.body;
      }
      break;
    case verb::rcpt:
      if (positive && s.t != smtp_state::txn::none) {
        s.t = smtp_state::txn::rcpt;
        ++s.rcpts;
      }
      break;
    case verb::data:
      if (assume || code == 354) s.used_data = true;
      break;
    case verb::bdat:
      if (positive) {
        s.used_bdat = true;
        if (p.bdat_last) {
          // The transaction is over, but until MAIL, RSET or EHLO starts
          // afresh a BDAT is one "sent after the BDAT LAST" (RFC 3030 §2).
          s.reset_txn();
          s.bdat_last = true;
        }
      }
      break;
    case verb::rset:
      if (positive) s.reset_txn();
      break;
    case verb::quit:
      // A QUIT line refused as malformed (500/501) was not taken as QUIT:
      // the session goes on and a well-formed QUIT may follow.
      if (assume || p.grammar == errc::ok || (code != 500 && code != 501)) s.quit = true;
      break;
    case verb::auth:
      if (code == 235 || (assume && p.auth_initial)) s.authed = true;
      break;
    default:
      break;
  }
}

smtp_state engine::impl::client_view() const {
  smtp_state s = st;
  for (const auto& p : queue) apply(s, p, 0);
  return s;
}

void engine::impl::client_line(std::string_view line, line_ending ending, std::uint8_t, diagnostic framing,
                               std::uint64_t at) {
  const smtp_state view = client_view();
  pending p;
  p.offset = at;
  p.raw.assign(line.substr(0, excerpt_max + 1));
  p.ending = ending;

  parse_options po;
  po.smtputf8 = view.has(extension::smtputf8);
  const command_result r = parse_command(line, po);
  const command& c = r.cmd;
  p.v = c.kind;

  // Grammar: line level first (bare CR/LF, NUL, controls), then the command.
  if (framing) {
    report(grammar_rule(side::client, framing.code), side::client, at + framing.offset, std::string(framing.why()),
           p.excerpt());
    p.grammar = framing.code;
  }
  // A NUL or control octet the framer reported also stops the command
  // grammar at the same octet: one octet, one finding.
  const bool same_octet = framing && r.diag && r.diag.offset == framing.offset;
  if (r.diag && !same_octet && r.diag.code != errc::unknown_verb && r.diag.code != errc::param_unknown) {
    report(grammar_rule(side::client, r.diag.code), side::client, at + r.diag.offset,
           std::string(r.diag.why()) + " (" + std::string(r.diag.rfc()) + ")", p.excerpt());
    if (p.grammar == errc::ok) p.grammar = r.diag.code;
  }

  // Sequencing.
  touch(rk::client_command_after_quit);
  if (view.quit) report(rk::client_command_after_quit, side::client, at, "command after QUIT", p.excerpt());
  touch(rk::client_lockstep);
  // After a desync (engine.hpp) replies no longer tell what the client knew.
  if (!queue.empty() && !desync) {
    const bool sync = std::any_of(queue.begin(), queue.end(), is_sync_point);
    const pending& waiting = queue.back();
    std::string what = "sent before the reply to " +
                       (waiting.kind == pending_kind::data_end ? std::string("the end of data")
                                                               : std::string(to_string(waiting.v)));
    if (st.tls && injected_from_server && !replies_after_tls) {
      report(rk::client_starttls_injected_reply, side::client, at,
             "client acted on a reply that arrived before the TLS handshake", p.excerpt());
    } else if (!view.has(extension::pipelining)) {
      report(rk::client_lockstep, side::client, at, what + " (PIPELINING not advertised)", p.excerpt());
    } else if (sync) {
      touch(rk::client_pipelining_sync_point);
      report(rk::client_pipelining_sync_point, side::client, at, what, p.excerpt());
    }
  }
  touch(rk::client_starttls_no_ehlo);
  if (first_after_tls) {
    first_after_tls = false;
    if (c.kind != verb::ehlo)
      report(rk::client_starttls_no_ehlo, side::client, at, "first command after TLS is not EHLO", p.excerpt());
  }

  // Command line length (§4.5.3.1.4), raised by the extensions in use.
  touch(rk::client_line_too_long);
  if (line.size() + 2 > line_limit(c))
    report(rk::client_line_too_long, side::client, at,
           "command line of " + std::to_string(line.size() + 2) + " octets (limit " + std::to_string(line_limit(c)) + ")",
           p.excerpt().substr(0, 64));

  auto check_domain = [&](const host& h) {
    touch(rk::client_domain_unqualified);
    if (h.kind == host_kind::domain && !h.text.empty() && !fully_qualified(h.text))
      report(rk::client_domain_unqualified, side::client, at, "\"" + std::string(h.text) + "\" is not fully qualified",
             p.excerpt());
  };
  auto check_params = [&]() {
    touch(rk::client_param_unadvertised);
    // A list that breaks the grammar has no reliable keywords to judge; the
    // grammar finding says what is wrong (param.unknown is not an error of
    // the list itself, and parse_params reports syntax errors first).
    if (!r.ok() && r.diag.code != errc::param_unknown) return;
    for (const auto& prm : c.params) {
      param_id id = param_from_keyword(prm.keyword);
      if (id == param_id::count_) {
        touch(rk::client_param_unknown);
        report(rk::client_param_unknown, side::client, at, "parameter " + std::string(prm.keyword), p.excerpt());
        continue;
      }
      extension need = needed_extension(id, c.typed.body);
      bool ok = view.has(need);
      if (id == param_id::body && c.typed.body == body_type::seven_bit)
        ok = view.has(extension::eightbitmime) || view.has(extension::binarymime);
      if (id == param_id::body && c.typed.body == body_type::binary_mime)
        ok = view.has(extension::binarymime) && view.has(extension::chunking);
      if (!ok)
        report(rk::client_param_unadvertised, side::client, at,
               std::string(prm.keyword) + " used but " + std::string(to_string(need)) + " was not advertised", p.excerpt());
    }
  };

  switch (c.kind) {
    case verb::ehlo:
    case verb::helo:
      p.sync_point = true;
      if (r.ok()) check_domain(c.client);
      break;
    case verb::mail:
      touch(rk::client_no_ehlo);
      touch(rk::client_nested_mail);
      if (!view.hello) report(rk::client_no_ehlo, side::client, at, "MAIL before EHLO/HELO", p.excerpt());
      else if (view.t != smtp_state::txn::none)
        report(rk::client_nested_mail, side::client, at, "MAIL while a transaction is open", p.excerpt());
      check_params();
      p.mail_smtputf8 = c.typed.has(param_id::smtputf8);
      p.body = c.typed.body;
      p.size_declared = c.typed.has(param_id::size);
      p.size = c.typed.size;
      touch(rk::client_size_over_limit);
      if (p.size_declared && view.size_limit > 0 && c.typed.size > view.size_limit)
        report(rk::client_size_over_limit, side::client, at,
               "SIZE=" + std::to_string(c.typed.size) + " over the advertised " + std::to_string(view.size_limit), p.excerpt());
      touch(rk::client_smtputf8_not_requested);
      if (c.address.mbox.utf8 && !p.mail_smtputf8)
        report(rk::client_smtputf8_not_requested, side::client, at, "UTF-8 reverse-path without SMTPUTF8", p.excerpt());
      if (!c.address.null && !c.address.text.empty()) check_domain(c.address.mbox.domain);
      break;
    case verb::rcpt:
      touch(rk::client_rcpt_without_mail);
      if (view.t == smtp_state::txn::none)
        report(rk::client_rcpt_without_mail, side::client, at, "RCPT without an accepted MAIL", p.excerpt());
      check_params();
      p.postmaster = c.address.postmaster || iequals(c.address.mbox.local_part, "postmaster");
      touch(rk::client_smtputf8_not_requested);
      if (c.address.mbox.utf8 && !view.txn_smtputf8)
        report(rk::client_smtputf8_not_requested, side::client, at, "UTF-8 forward-path without SMTPUTF8 on MAIL",
               p.excerpt());
      if (!c.address.postmaster && !c.address.text.empty()) check_domain(c.address.mbox.domain);
      break;
    case verb::data:
      p.sync_point = true;
      touch(rk::client_data_without_rcpt);
      touch(rk::client_bdat_mixed);
      if (view.t != smtp_state::txn::rcpt)
        report(rk::client_data_without_rcpt, side::client, at, "DATA without an accepted RCPT", p.excerpt());
      if (view.used_bdat) report(rk::client_bdat_mixed, side::client, at, "DATA after BDAT in one transaction", p.excerpt());
      touch(rk::client_binarymime_with_data);
      if (view.body == body_type::binary_mime)
        report(rk::client_binarymime_with_data, side::client, at, "DATA in a BODY=BINARYMIME transaction", p.excerpt());
      cmode = client_mode::paused;
      break;
    case verb::bdat:
      touch(rk::client_extension_unadvertised);
      touch(rk::client_bdat_after_last);
      touch(rk::client_bdat_mixed);
      if (!view.has(extension::chunking))
        report(rk::client_extension_unadvertised, side::client, at, "BDAT used but CHUNKING was not advertised", p.excerpt());
      // After BDAT LAST no RCPT is open either; the specific rule says it.
      if (view.bdat_last) report(rk::client_bdat_after_last, side::client, at, "BDAT after BDAT LAST", p.excerpt());
      else if (view.t != smtp_state::txn::rcpt)
        report(rk::client_data_without_rcpt, side::client, at, "BDAT without an accepted RCPT", p.excerpt());
      if (view.used_data) report(rk::client_bdat_mixed, side::client, at, "BDAT after DATA in one transaction", p.excerpt());
      p.bdat_last = c.last;
      if (r.ok() && c.chunk_size > 0) {
        chunk.start(c.chunk_size);
        cmode = client_mode::bdat;
      }
      break;
    case verb::rset:
      p.rset_plain = c.argument.empty();
      break;
    case verb::vrfy:
    case verb::expn:
    case verb::noop:
    case verb::quit:
      p.sync_point = true;
      break;
    case verb::help:
      break;
    case verb::starttls:
      p.sync_point = true;
      touch(rk::client_starttls_in_tls);
      touch(rk::client_extension_unadvertised);
      if (view.tls) report(rk::client_starttls_in_tls, side::client, at, "STARTTLS inside TLS", p.excerpt());
      else if (!view.has(extension::starttls))
        report(rk::client_extension_unadvertised, side::client, at, "STARTTLS used but not advertised", p.excerpt());
      cmode = client_mode::paused;
      break;
    case verb::auth: {
      touch(rk::client_extension_unadvertised);
      touch(rk::client_auth_twice);
      touch(rk::client_auth_in_transaction);
      touch(rk::client_auth_plaintext);
      if (!view.has(extension::auth))
        report(rk::client_extension_unadvertised, side::client, at, "AUTH used but not advertised", p.excerpt());
      else if (!c.mechanism.empty() && !mechanism_listed(view.auth_mechs, c.mechanism)) {
        touch(rk::client_auth_mechanism_unadvertised);
        report(rk::client_auth_mechanism_unadvertised, side::client, at,
               "mechanism " + std::string(c.mechanism) + " not in \"" + view.auth_mechs + "\"", p.excerpt());
      }
      if (view.authed) report(rk::client_auth_twice, side::client, at, "AUTH after a successful AUTH", p.excerpt());
      if (view.t != smtp_state::txn::none)
        report(rk::client_auth_in_transaction, side::client, at, "AUTH during a mail transaction", p.excerpt());
      if (!view.tls && (iequals(c.mechanism, "PLAIN") || iequals(c.mechanism, "LOGIN")))
        report(rk::client_auth_plaintext, side::client, at, std::string(c.mechanism) + " without TLS", p.excerpt());
      p.auth_initial = c.has_initial_response;
      // RFC 4954 §4: with an initial response that completes the exchange
      // (PLAIN, EXTERNAL), AUTH may be followed by pipelined commands.
      const bool one_shot = c.has_initial_response && (iequals(c.mechanism, "PLAIN") || iequals(c.mechanism, "EXTERNAL"));
      p.sync_point = !one_shot;
      if (!one_shot) cmode = client_mode::paused;
      break;
    }
    case verb::unknown:
    case verb::count_: {
      p.sync_point = true;
      if (c.verb_text.empty()) break;
      if (private_keyword(c.verb_text)) {
        touch(rk::client_command_private);
        report(rk::client_command_private, side::client, at, "private command " + excerpt_of(c.verb_text), p.excerpt());
        break;
      }
      extension e = extension_from_keyword(c.verb_text);
      if (e != extension::count_ && view.has(e)) {
        p.extension_verb = true;
        break;
      }
      touch(rk::client_command_unknown);
      report(rk::client_command_unknown, side::client, at, "unknown command " + excerpt_of(c.verb_text), p.excerpt());
      break;
    }
  }
  queue.push_back(std::move(p));
}

void engine::impl::client_auth_line(std::string_view line, std::uint64_t at) {
  auto r = parse_auth_response(line);
  pending p;
  p.kind = pending_kind::auth_response;
  p.v = verb::auth;
  p.offset = at;
  p.raw = "<SASL response>";
  p.auth_cancel = r.value.cancel;
  p.sync_point = true;
  if (r.diag) report(grammar_rule(side::client, r.diag.code), side::client, at + r.diag.offset, std::string(r.diag.why()));
  queue.push_back(std::move(p));
  cmode = client_mode::paused;
}

namespace {
struct data_handler {
  engine::impl& e;
  smtp_state view;
  void body(std::string_view) {}
  void anomaly(data_anomaly a, std::uint64_t off) {
    const std::uint64_t at = e.data_start + off;
    if (a == data_anomaly::eight_bit) {
      e.touch(rk::client_eight_bit_data);
      const bool declared = (view.body == body_type::eight_bit_mime && view.has(extension::eightbitmime)) ||
                            (view.body == body_type::binary_mime && view.has(extension::binarymime));
      if (!declared)
        e.report(rk::client_eight_bit_data, side::client, at, "8-bit octet in mail data without BODY=8BITMIME");
      return;
    }
    if (is_end_variant(a)) e.last_variant_end = at + 1;
    e.report(data_rule(a), side::client, at, std::string(to_string(a)) + " in mail data");
  }
};
}  // namespace

void engine::impl::client_data(std::string_view piece) {
  data_handler h{*this, st};
  auto r = decoder.feed(piece, h);
  coff += r.consumed;
  cbuf.erase(0, r.consumed);
  if (r.done) {
    for (auto a : {data_anomaly::bare_cr, data_anomaly::bare_lf, data_anomaly::nul, data_anomaly::line_too_long})
      touch(data_rule(a));
    touch(rk::client_eight_bit_data);
    pending p;
    p.kind = pending_kind::data_end;
    p.v = verb::data;
    p.offset = coff;
    p.raw = "<CRLF>.<CRLF>";
    p.data_had_variant = last_variant_end != UINT64_MAX;
    queue.push_back(std::move(p));
    cmode = client_mode::lines;
  }
}

void engine::impl::client_paused_bytes(std::uint64_t at) {
  if (paused_reported || queue.empty() || desync) return;
  paused_reported = true;
  const pending& w = queue.back();
  // No excerpt: the octets at hand depend on how the stream was cut.
  const std::string ex;
  if (cmode == client_mode::tls_wait || w.v == verb::starttls) {
    touch(rk::client_starttls_pipelined);
    report(rk::client_starttls_pipelined, side::client, at - cbuf.size(), "octets sent after STARTTLS before TLS started", ex);
  } else if (w.v == verb::data && w.kind == pending_kind::command) {
    touch(rk::client_data_early);
    report(rk::client_data_early, side::client, at - cbuf.size(), "octets sent after DATA before the 354 reply", ex);
  } else if (!client_view().has(extension::pipelining)) {
    report(rk::client_lockstep, side::client, at - cbuf.size(), "octets sent before the reply to AUTH", ex);
  } else {
    report(rk::client_pipelining_sync_point, side::client, at - cbuf.size(), "octets sent before the reply to AUTH", ex);
  }
}

void engine::impl::client_close() {
  touch(rk::client_no_quit);
  touch(rk::client_quit_wait);
  const smtp_state view = client_view();
  // Any reply to QUIT ends the client's wait, not only 221 (a server that
  // answers QUIT otherwise is judged by server.quit.reply).
  const bool quit_unanswered = std::any_of(queue.begin(), queue.end(), [](const pending& p) {
    return p.kind == pending_kind::command && p.v == verb::quit;
  });
  // Nothing at all after the TLS handshake: a recorder outside TLS sees no
  // content, and a handshake that failed leaves nothing to say QUIT over;
  // either way the dialogue holds no evidence about how the session ended.
  if (silent_since_tls || got_421 || server_closed) {
    // the close is not the client's to explain
  } else if (!view.quit) {
    report(rk::client_no_quit, side::client, coff + cbuf.size(), "client closed the connection without QUIT");
  } else if (quit_unanswered && !desync) {
    report(rk::client_quit_wait, side::client, coff + cbuf.size(), "client closed before the reply to QUIT");
  }
  cmode = client_mode::closed;
  client_closed = true;
}

}  // namespace smtpkit::conformance
