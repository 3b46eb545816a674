// judge_client.cpp — what the client may send, judged from what it knew:
// the replies it had received, with commands still awaiting a reply assumed
// to succeed (RFC 5321 §4.1.4 ordering, §4.3.1 lock-step, RFC 2920 §3.1
// pipelining, extension use only once advertised). Every line gets the
// grammar, sequencing and length checks; then the function of its verb,
// found in client_verbs, judges what only that verb can break.
#include <algorithm>
#include <array>
#include <cctype>

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

/// One command line under judgement: what the client knew when it sent it,
/// the command as parsed, and the entry its reply will be matched with.
struct client_command {
  engine::impl& e;
  const smtp_state& view;
  const command_result& r;
  const command& c;
  pending& p;
  std::uint64_t at;
  bool continuation;  ///< a piece after a bare CR/LF in the same client line

  /// The line, escaped when a finding shows it.
  [[nodiscard]] auto excerpt() const {
    return [this] { return p.excerpt(); };
  }
  /// A check whose finding points at the line and shows it.
  template <class Message>
  void check(rk rule, bool broken, const Message& message) const {
    e.verdicts.check(rule, broken, side::client, at, message, excerpt());
  }
};

// Grammar: line level first (bare CR/LF, NUL, controls), then the command.
void judge_grammar(client_command& cmd, diagnostic framing) {
  const diagnostic& d = cmd.r.diag;
  if (framing) {
    cmd.e.verdicts.check(
        grammar_rule(side::client, framing.code), true, side::client, cmd.at + framing.offset,
        [&] { return std::string(framing.why()); }, cmd.excerpt());
    cmd.p.grammar = framing.code;
  }
  // A NUL or control octet the framer reported also stops the command
  // grammar at the same octet: one octet, one finding.
  const bool same_octet = framing && d && d.offset == framing.offset;
  if (d && !same_octet && d.code != errc::unknown_verb && d.code != errc::param_unknown) {
    cmd.e.verdicts.check(
        grammar_rule(side::client, d.code), true, side::client, cmd.at + d.offset,
        [&] { return std::string(d.why()) + " (" + std::string(d.rfc()) + ")"; }, cmd.excerpt());
    if (cmd.p.grammar == errc::ok) cmd.p.grammar = d.code;
  }
}

// Sequencing: QUIT is last, replies are awaited (RFC 5321 §4.3.1, RFC 2920
// §3.1), EHLO comes first after TLS (RFC 3207 §4.2).
void judge_sequence(client_command& cmd) {
  const session_state& session = cmd.e.session;
  cmd.check(rk::client_command_after_quit, cmd.view.quit, "command after QUIT");
  // After a desync (engine.hpp) replies no longer tell what the client knew.
  // A piece that follows a bare CR/LF is a command of its own only if the
  // server frames it so; the client sent one line (client.line.bare-*).
  const bool waiting = !session.queue.empty() && !session.desync && !cmd.continuation;
  const bool injected = waiting && session.st.tls && session.injected_from_server && !session.replies_after_tls;
  auto what = [&] {
    const pending& w = session.queue.back();
    return "sent before the reply to " +
           (w.kind == pending_kind::data_end ? std::string("the end of data") : std::string(to_string(w.v)));
  };
  if (injected)
    cmd.check(rk::client_starttls_injected_reply, true,
              "client acted on a reply that arrived before the TLS handshake");
  const bool pipelining = cmd.view.has(extension::pipelining);
  cmd.check(rk::client_lockstep, waiting && !injected && !pipelining,
            [&] { return what() + " (PIPELINING not advertised)"; });
  if (waiting && !injected && pipelining && std::any_of(session.queue.begin(), session.queue.end(), is_sync_point))
    cmd.check(rk::client_pipelining_sync_point, true, what);
  cmd.check(rk::client_starttls_no_ehlo, cmd.e.client.first_after_tls && cmd.c.kind != verb::ehlo,
            "first command after TLS is not EHLO");
  cmd.e.client.first_after_tls = false;
}

// Command line length (§4.5.3.1.4), raised by the extensions in use. The
// server's judge learns it too: a server may refuse a longer line (500
// "line too long", §4.2.2; the AUTH line has no more room, RFC 4954 §4:
// "still subject to the line length limitations"), or take it (§4.5.3.1
// asks for no limits where possible).
void judge_length(client_command& cmd, std::string_view line) {
  const bool too_long = line.size() + 2 > line_limit(cmd.c);
  cmd.p.over_limit = too_long;
  cmd.e.verdicts.check(
      rk::client_line_too_long, too_long, side::client, cmd.at,
      [&] {
        return "command line of " + std::to_string(line.size() + 2) + " octets (limit " +
               std::to_string(line_limit(cmd.c)) + ")";
      },
      [&] { return cmd.p.excerpt().substr(0, 64); });
}

void check_domain(client_command& cmd, const host& h) {
  cmd.check(rk::client_domain_unqualified, h.kind == host_kind::domain && !h.text.empty() && !fully_qualified(h.text),
            [&] { return "\"" + std::string(h.text) + "\" is not fully qualified"; });
}

// MAIL and RCPT parameters (§4.1.1.2 and the extension that defines each).
void check_params(client_command& cmd) {
  cmd.e.verdicts.applies(rk::client_param_unadvertised);
  // A list that breaks the grammar has no reliable keywords to judge; the
  // grammar finding says what is wrong (param.unknown is not an error of
  // the list itself, and parse_params reports syntax errors first).
  if (!cmd.r.ok() && cmd.r.diag.code != errc::param_unknown) return;
  const smtp_state& view = cmd.view;
  const body_type body = cmd.c.typed.body;
  for (const auto& prm : cmd.c.params) {
    param_id id = param_from_keyword(prm.keyword);
    if (id == param_id::count_) {
      cmd.check(rk::client_param_unknown, true, [&] { return "parameter " + std::string(prm.keyword); });
      continue;
    }
    extension need = needed_extension(id, body);
    bool ok = view.has(need);
    if (id == param_id::body && body == body_type::seven_bit)
      ok = view.has(extension::eightbitmime) || view.has(extension::binarymime);
    if (id == param_id::body && body == body_type::binary_mime)
      ok = view.has(extension::binarymime) && view.has(extension::chunking);
    cmd.check(rk::client_param_unadvertised, !ok, [&] {
      return std::string(prm.keyword) + " used but " + std::string(to_string(need)) + " was not advertised";
    });
  }
}

// --- one function per verb (client_verbs below) ---

void judge_hello(client_command& cmd) {
  if (cmd.r.ok()) check_domain(cmd, cmd.c.client);
}

void judge_mail(client_command& cmd) {
  const smtp_state& view = cmd.view;
  const command& c = cmd.c;
  cmd.check(rk::client_no_ehlo, !view.hello, "MAIL before EHLO/HELO");
  cmd.check(rk::client_nested_mail, view.hello && view.t != smtp_state::txn::none, "MAIL while a transaction is open");
  check_params(cmd);
  cmd.p.mail_smtputf8 = c.typed.has(param_id::smtputf8);
  cmd.p.body = c.typed.body;
  cmd.p.size_declared = c.typed.has(param_id::size);
  cmd.p.size = c.typed.size;
  cmd.check(rk::client_size_over_limit, cmd.p.size_declared && view.size_limit > 0 && c.typed.size > view.size_limit,
            [&] {
              return "SIZE=" + std::to_string(c.typed.size) + " over the advertised " + std::to_string(view.size_limit);
            });
  cmd.check(rk::client_smtputf8_not_requested, c.address.mbox.utf8 && !cmd.p.mail_smtputf8,
            "UTF-8 reverse-path without SMTPUTF8");
  if (!c.address.null && !c.address.text.empty()) check_domain(cmd, c.address.mbox.domain);
}

void judge_rcpt(client_command& cmd) {
  const command& c = cmd.c;
  cmd.check(rk::client_rcpt_without_mail, cmd.view.t == smtp_state::txn::none, "RCPT without an accepted MAIL");
  check_params(cmd);
  cmd.p.postmaster = c.address.postmaster || iequals(c.address.mbox.local_part, "postmaster");
  cmd.p.postmaster_bare = c.address.postmaster;
  if (!c.address.postmaster && c.address.mbox.domain.text.size() <= 255) {
    cmd.p.rcpt_domain = std::string(c.address.mbox.domain.text);
    for (char& ch : cmd.p.rcpt_domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  cmd.check(rk::client_smtputf8_not_requested, c.address.mbox.utf8 && !cmd.view.txn_smtputf8,
            "UTF-8 forward-path without SMTPUTF8 on MAIL");
  if (!c.address.postmaster && !c.address.text.empty()) check_domain(cmd, c.address.mbox.domain);
}

// RFC 5321 §4.1.4: a transaction is MAIL, one or more RCPT, then DATA, in
// that order. A client whose MAIL or RCPTs were all refused still kept the
// order; §3.3 leaves that case to the server (MAY 503 or 554).
bool skipped_envelope(const smtp_state& view) {
  return view.t != smtp_state::txn::rcpt && (!view.mail_tried || !view.rcpt_tried);
}

// RFC 5321 §4.1.4: NOOP, HELP, EXPN, VRFY and RSET "can be used at any
// time", but clients SHOULD open the session with EHLO first.
void judge_before_hello(client_command& cmd) {
  // After TLS, client.starttls.ehlo-first says it.
  cmd.check(rk::client_before_ehlo, !cmd.view.hello && !cmd.view.tls,
            [&] { return std::string(to_string(cmd.c.kind)) + " before EHLO/HELO"; });
}

void judge_data(client_command& cmd) {
  cmd.check(rk::client_data_without_rcpt, skipped_envelope(cmd.view), "DATA without MAIL and RCPT before it");
  cmd.check(rk::client_bdat_mixed, cmd.view.used_bdat, "DATA after BDAT in one transaction");
  cmd.check(rk::client_binarymime_with_data, cmd.view.body == body_type::binary_mime,
            "DATA in a BODY=BINARYMIME transaction");
  cmd.e.client.mode = client_mode::paused;
}

// "BDAT" SP and twenty or more digits: a size past 64 bits.
bool huge_chunk_size(std::string_view raw) {
  if (raw.size() < 5) return false;
  std::size_t digits = 0;
  for (std::size_t i = 5; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) ++digits;
  return digits >= 20 && (raw.size() == 5 + digits || raw[5 + digits] == ' ');
}

void judge_bdat(client_command& cmd) {
  const smtp_state& view = cmd.view;
  cmd.check(rk::client_bdat_unadvertised, !view.has(extension::chunking), "BDAT used but CHUNKING was not advertised");
  // After BDAT LAST no RCPT is open either; the specific rule says it.
  cmd.check(rk::client_bdat_after_last, view.bdat_last, "BDAT after BDAT LAST");
  cmd.check(rk::client_bdat_after_failure, !view.bdat_last && view.bdat_failed,
            "BDAT after a BDAT of the transaction was refused");
  if (!view.bdat_last && !view.bdat_failed && skipped_envelope(view))
    cmd.check(rk::client_data_without_rcpt, true, "BDAT without MAIL and RCPT before it");
  cmd.check(rk::client_bdat_mixed, view.used_data, "BDAT after DATA in one transaction");
  cmd.p.bdat_last = cmd.c.last;
  if (cmd.r.ok() && cmd.c.chunk_size > 0) {
    cmd.e.client.chunk.start(cmd.c.chunk_size);
    cmd.e.client.mode = client_mode::bdat;
  } else if (cmd.r.diag.code == errc::bdat_size && huge_chunk_size(cmd.p.raw)) {
    // chunk-size = 1*DIGIT has no upper bound (RFC 3030 §4): a server may
    // start reading a chunk of more octets than 64 bits count, or refuse
    // the line. The engine cannot tell which: no verdict rests on how the
    // replies pair from here on.
    cmd.e.session.desync = true;
  }
}

void judge_rset(client_command& cmd) {
  cmd.p.rset_plain = cmd.c.argument.empty();
  judge_before_hello(cmd);
}

void judge_starttls(client_command& cmd) {
  cmd.check(rk::client_starttls_in_tls, cmd.view.tls, "STARTTLS inside TLS");
  cmd.check(rk::client_extension_unadvertised, !cmd.view.tls && !cmd.view.has(extension::starttls),
            "STARTTLS used but not advertised");
  cmd.e.client.mode = client_mode::paused;
}

void judge_auth(client_command& cmd) {
  const smtp_state& view = cmd.view;
  const command& c = cmd.c;
  const bool offered = view.has(extension::auth);
  cmd.check(rk::client_extension_unadvertised, !offered, "AUTH used but not advertised");
  if (offered && !c.mechanism.empty() && !mechanism_listed(view.auth_mechs, c.mechanism))
    cmd.check(rk::client_auth_mechanism_unadvertised, true,
              [&] { return "mechanism " + std::string(c.mechanism) + " not in \"" + view.auth_mechs + "\""; });
  cmd.check(rk::client_auth_twice, view.authed, "AUTH after a successful AUTH");
  cmd.check(rk::client_auth_in_transaction, view.t != smtp_state::txn::none, "AUTH during a mail transaction");
  cmd.check(rk::client_auth_plaintext, !view.tls && (iequals(c.mechanism, "PLAIN") || iequals(c.mechanism, "LOGIN")),
            [&] { return std::string(c.mechanism) + " without TLS"; });
  cmd.p.auth_initial = c.has_initial_response;
  // RFC 4954 §4: with an initial response that completes the exchange
  // (PLAIN, EXTERNAL), AUTH may be followed by pipelined commands.
  const bool one_shot = c.has_initial_response && (iequals(c.mechanism, "PLAIN") || iequals(c.mechanism, "EXTERNAL"));
  cmd.p.sync_point = !one_shot;
  if (!one_shot) cmd.e.client.mode = client_mode::paused;
}

// A verb the grammar does not know: private (§4.1.5), an advertised
// extension's, or unknown (§2.2.2). An empty line names no verb at all.
void judge_unknown(client_command& cmd) {
  const std::string_view name = cmd.c.verb_text;
  if (name.empty()) return;
  if (private_keyword(name)) {
    cmd.check(rk::client_command_private, true, [&] { return "private command " + excerpt_of(name); });
    return;
  }
  extension e = extension_from_keyword(name);
  if (e != extension::count_ && cmd.view.has(e)) {
    cmd.p.extension_verb = true;
    return;
  }
  cmd.check(rk::client_command_unknown, true, [&] { return "unknown command " + excerpt_of(name); });
}

/// A verb's row: whether a pipelining client must await its reply
/// (RFC 2920 §3.1; AUTH decides for itself, RFC 4954 §4), and its judge
/// (none: no rule of its own beyond the checks every line gets).
struct client_verb_row {
  verb v;
  bool sync_point;
  void (*judge)(client_command&);
};

// In enum order, checked below; verb::count_ is read as verb::unknown.
constexpr std::array<client_verb_row, static_cast<std::size_t>(verb::count_) + 1> client_verbs{{
    {verb::unknown, true, judge_unknown},
    {verb::ehlo, true, judge_hello},
    {verb::helo, true, judge_hello},
    {verb::mail, false, judge_mail},
    {verb::rcpt, false, judge_rcpt},
    {verb::data, true, judge_data},
    {verb::rset, false, judge_rset},
    {verb::vrfy, true, judge_before_hello},
    {verb::expn, true, judge_before_hello},
    {verb::help, false, judge_before_hello},
    {verb::noop, true, judge_before_hello},
    {verb::quit, true, nullptr},
    {verb::starttls, true, judge_starttls},
    {verb::auth, true, judge_auth},
    {verb::bdat, false, judge_bdat},
    {verb::count_, true, judge_unknown},
}};

constexpr bool in_verb_order() {
  for (std::size_t i = 0; i < client_verbs.size(); ++i)
    if (static_cast<std::size_t>(client_verbs[i].v) != i) return false;
  return true;
}
static_assert(in_verb_order(), "client_verbs must follow enum verb");

}  // namespace

smtp_state engine::impl::client_view() const {
  smtp_state s = session.st;
  for (const auto& p : session.queue) apply(s, p, 0);
  return s;
}

void engine::impl::client_line(std::string_view line, line_ending ending, std::uint8_t, diagnostic framing,
                               std::uint64_t at) {
  // A reply held for a bare-CR/LF line answered the whole line: the client
  // sent its next command and no second reply came.
  if (server.held.active) answer_held(false);
  const smtp_state view = client_view();
  pending p;
  p.offset = at;
  p.raw.assign(line.substr(0, excerpt_max + 1));
  p.ending = ending;
  const bool bare = ending == line_ending::lf || ending == line_ending::cr;
  const bool continuation = client.open_group != 0;
  if (bare && !continuation) {
    client.open_group = ++client.groups;
    client.open_bare = ending;
  }
  if (client.open_group != 0) {
    p.group = client.open_group;
    p.bare = client.open_bare;
  }
  if (!bare) client.open_group = 0;

  parse_options po;
  po.smtputf8 = view.has(extension::smtputf8);
  const command_result r = parse_command(line, po);
  p.v = r.cmd.kind;

  client_command cmd{*this, view, r, r.cmd, p, at, continuation && !session.queue.empty()};
  judge_grammar(cmd, framing);
  judge_sequence(cmd);
  judge_length(cmd, line);
  const client_verb_row& row = client_verbs[static_cast<std::size_t>(p.v)];
  p.sync_point = row.sync_point;
  if (row.judge != nullptr) row.judge(cmd);
  session.queue.push_back(std::move(p));
}

void engine::impl::client_auth_line(std::string_view line, std::uint64_t at) {
  if (server.held.active) answer_held(false);
  client.open_group = 0;
  auto r = parse_auth_response(line);
  pending p;
  p.kind = pending_kind::auth_response;
  p.v = verb::auth;
  p.offset = at;
  p.raw = "<SASL response>";
  p.auth_cancel = r.value.cancel;
  p.sync_point = true;
  if (r.diag)
    verdicts.check(grammar_rule(side::client, r.diag.code), true, side::client, at + r.diag.offset,
                   [&] { return std::string(r.diag.why()); });
  session.queue.push_back(std::move(p));
  client.mode = client_mode::paused;
}

namespace {
struct data_handler {
  engine::impl& e;
  smtp_state view;
  void body(std::string_view) {}
  void anomaly(data_anomaly a, std::uint64_t off) {
    const std::uint64_t at = e.client.data_start + off;
    if (a == data_anomaly::eight_bit) {
      const bool declared = (view.body == body_type::eight_bit_mime && view.has(extension::eightbitmime)) ||
                            (view.body == body_type::binary_mime && view.has(extension::binarymime));
      e.verdicts.check(rk::client_eight_bit_data, !declared, side::client, at,
                       "8-bit octet in mail data without BODY=8BITMIME");
      return;
    }
    if (is_end_variant(a)) e.client.last_variant_end = at + 1;
    e.verdicts.check(data_rule(a), true, side::client, at, [&] { return std::string(to_string(a)) + " in mail data"; });
  }
};
}  // namespace

void engine::impl::client_data(std::string_view piece) {
  data_handler h{*this, session.st};
  auto r = client.decoder.feed(piece, h);
  client.off += r.consumed;
  client.buf.erase(0, r.consumed);
  if (r.done) {
    for (auto a : {data_anomaly::bare_cr, data_anomaly::bare_lf, data_anomaly::nul, data_anomaly::line_too_long})
      verdicts.applies(data_rule(a));
    verdicts.applies(rk::client_eight_bit_data);
    pending p;
    p.kind = pending_kind::data_end;
    p.v = verb::data;
    p.offset = client.off;
    p.raw = "<CRLF>.<CRLF>";
    p.data_had_variant = client.last_variant_end != UINT64_MAX;
    session.queue.push_back(std::move(p));
    client.mode = client_mode::lines;
  }
}

void engine::impl::client_paused_bytes(std::uint64_t at) {
  if (client.paused_reported || session.queue.empty() || session.desync) return;
  client.paused_reported = true;
  const pending& w = session.queue.back();
  // No excerpt: the octets at hand depend on how the stream was cut.
  const std::uint64_t from = at - client.buf.size();
  if (client.mode == client_mode::tls_wait || w.v == verb::starttls)
    verdicts.check(rk::client_starttls_pipelined, true, side::client, from,
                   "octets sent after STARTTLS before TLS started");
  else if (w.v == verb::data && w.kind == pending_kind::command)
    verdicts.check(rk::client_data_early, true, side::client, from, "octets sent after DATA before the 354 reply");
  else if (!client_view().has(extension::pipelining))
    verdicts.check(rk::client_lockstep, true, side::client, from, "octets sent before the reply to AUTH");
  else
    verdicts.check(rk::client_pipelining_sync_point, true, side::client, from, "octets sent before the reply to AUTH");
}

void engine::impl::client_close() {
  const smtp_state view = client_view();
  // Any reply to QUIT ends the client's wait, not only 221 (a server that
  // answers QUIT otherwise is judged by server.quit.reply).
  const bool quit_unanswered = std::any_of(session.queue.begin(), session.queue.end(), [](const pending& p) {
    return p.kind == pending_kind::command && p.v == verb::quit;
  });
  // Nothing at all after the TLS handshake: a recorder outside TLS sees no
  // content, and a handshake that failed leaves nothing to say QUIT over;
  // either way the dialogue holds no evidence about how the session ended.
  const bool not_the_clients = session.silent_since_tls || session.got_421 || session.server_closed;
  const std::uint64_t at = client.off + client.buf.size();
  verdicts.check(rk::client_no_quit, !not_the_clients && !view.quit, side::client, at,
                 "client closed the connection without QUIT");
  verdicts.check(rk::client_quit_wait, !not_the_clients && view.quit && quit_unanswered && !session.desync,
                 side::client, at, "client closed before the reply to QUIT");
  // A BDAT whose chunk never came whole is not owed a reply (RFC 3030 §2:
  // the reply follows the chunk); it is the last command queued. A reply
  // that comes anyway answers it (a server without CHUNKING refuses BDAT
  // at once, Exim 4.96 with 503), not nothing.
  if (client.mode == client_mode::bdat && !session.queue.empty() && session.queue.back().v == verb::bdat &&
      session.queue.back().kind == pending_kind::command)
    session.queue.back().taken_back = true;
  client.mode = client_mode::closed;
  session.client_closed = true;
}

}  // namespace smtpkit::conformance
