// engine.cpp — event plumbing of the conformance engine: octets in, lines
// and replies out to the judges, the results out of the ledger.
#include <algorithm>

#include "engine_impl.hpp"
#include "smtpkit/escape.hpp"

namespace smtpkit::conformance {

std::string excerpt_of(std::string_view line) {
  if (line.size() <= excerpt_max) return escape(line);
  return escape(line.substr(0, excerpt_max)) + "...";
}

engine::impl::impl(engine_options o) : opts(o), verdicts(o) {}

void engine::impl::pump_client() {
  while (!client.buf.empty()) {
    switch (client.mode) {
      case client_mode::closed:
        client.off += client.buf.size();
        client.buf.clear();
        return;
      case client_mode::paused:
      case client_mode::tls_wait:
        client_paused_bytes(client.off + client.buf.size());
        if (client.buf.size() > opts.max_buffered) {
          // Bounded: what a peer piles up while it should be waiting is dropped.
          client.off += client.buf.size();
          client.buf.clear();
        }
        return;
      case client_mode::data: {
        std::size_t before = client.buf.size();
        client_data(client.buf);
        if (client.buf.size() == before) return;
        break;
      }
      case client_mode::bdat: {
        std::string_view part = client.chunk.take(client.buf);
        client.off += part.size();
        client.buf.erase(0, part.size());
        if (client.chunk.done()) client.mode = client_mode::lines;
        break;
      }
      case client_mode::auth_response:
      case client_mode::lines:
        if (!pump_client_line()) return;
        break;
    }
  }
}

bool engine::impl::pump_client_line() {
  line_result r = client.framer.next(client.buf);
  if (r.status == line_status::need_more) {
    // Inside an over-long line the framer drops octets even when it
    // has no line to give; they must leave the buffer.
    client.off += r.consumed;
    client.buf.erase(0, r.consumed);
    return false;
  }
  const std::uint64_t at = client.off;
  if (r.status == line_status::line) {
    if (client.mode == client_mode::auth_response) client_auth_line(r.line, at);
    else client_line(r.line, r.ending, r.flags, r.diag, at);
  } else if (r.status == line_status::overflow) {
    verdicts.check(
        rk::client_line_too_long, true, side::client, at,
        [&] { return "command line longer than " + std::to_string(client.framer.limit()) + " octets"; },
        r.line.substr(0, 64));
  } else {  // overflow_end: the over-long line still expects a reply (500)
    pending p;
    p.offset = at;
    p.grammar = errc::line_too_long;
    p.sync_point = true;
    session.queue.push_back(std::move(p));
  }
  client.off += r.consumed;
  client.buf.erase(0, r.consumed);
  return true;
}

void engine::impl::take_client_cr() {
  line_result r = client.framer.finish(client.buf);
  if (r.status != line_status::line) return;
  const std::uint64_t at = client.off;
  if (client.mode == client_mode::auth_response) client_auth_line(r.line, at);
  else client_line(r.line, r.ending, r.flags, r.diag, at);
  client.off += r.consumed;
  client.buf.erase(0, r.consumed);
}

void engine::impl::resume_client() {
  client.paused_reported = false;
  pump_client();
  const bool held = (client.mode == client_mode::paused || client.mode == client_mode::tls_wait) && !client.buf.empty();
  if (client.close_pending && !held) {
    client.close_pending = false;
    client_close();
  }
}

void engine::impl::pump_server() {
  while (!server.buf.empty()) {
    if (session.server_closed) {
      server.off += server.buf.size();
      server.buf.clear();
      return;
    }
    if (server.tls_pending) {
      // RFC 3207 §4: after "220" to STARTTLS only the TLS handshake follows.
      // No excerpt: what has arrived so far depends on how the stream was cut.
      if (!session.injected_from_server)
        verdicts.check(rk::server_starttls_data_after_220, true, side::server, server.off,
                       "server sent octets after 220 to STARTTLS, before TLS");
      session.injected_from_server = true;
      server.off += server.buf.size();
      server.buf.clear();
      return;
    }
    line_result r = server.framer.next(server.buf);
    if (r.status == line_status::need_more) {
      server.off += r.consumed;
      server.buf.erase(0, r.consumed);
      return;
    }
    server_line(r, server.off);
    server.off += r.consumed;
    server.buf.erase(0, r.consumed);
  }
}

void engine::impl::server_line(const line_result& r, std::uint64_t at) {
  // Every line is measured, the rest of one the framer cut included.
  verdicts.check(
      rk::server_line_too_long, r.status == line_status::overflow, side::server, at,
      [&] { return "reply line longer than " + std::to_string(server.framer.limit()) + " octets"; },
      [&] { return excerpt_of(r.line.substr(0, 64)); });
  if (r.status == line_status::overflow || r.status == line_status::overflow_end) return;
  auto ex = [&] { return excerpt_of(r.line); };
  verdicts.check(
      rk::server_line_too_long, r.line.size() + 2 > 512, side::server, at,
      [&] { return "reply line of " + std::to_string(r.line.size() + 2) + " octets (limit 512, §4.5.3.1.5)"; }, ex);
  if (r.diag && (r.diag.code == errc::nul_byte || r.diag.code == errc::control_char))
    verdicts.check(
        grammar_rule(side::server, r.diag.code), true, side::server, at + r.diag.offset,
        [&] { return std::string(r.diag.why()); }, ex);
  if (!server.assembler.in_progress()) {
    server.reply_offset = at;
    server.reply_texts.clear();
    server.reply_text.clear();
    server.reply_bad = false;
  }
  parse_options po;
  // RFC 4954 §4: continue-req = "334" SP [base64] — an empty challenge is "334 ".
  if (r.line.size() >= 3 && r.line.substr(0, 3) == "334") po.relax = lenient::trailing_whitespace;
  po.smtputf8 = session.st.has(extension::smtputf8);
  auto step = server.assembler.feed(r.line, r.ending, po);
  // A NUL or control octet reported above also breaks textstring at the
  // same octet: one octet, one finding.
  const bool same_octet = r.diag && step.diag && (r.diag.code == errc::nul_byte || r.diag.code == errc::control_char) &&
                          step.diag.offset == r.diag.offset;
  if (step.diag) server.reply_bad = true;
  if (step.diag && !same_octet) {
    errc e = step.diag.code;
    if (e == errc::reply_line_ending)
      e = r.ending == line_ending::lf ? errc::bare_lf : r.ending == line_ending::cr ? errc::bare_cr : e;
    // A bare CR or LF is an octet of the line; a missing line end (the
    // last line before a close) has none, so the finding names the line.
    const std::uint64_t where = e == errc::reply_line_ending ? at : at + step.diag.offset;
    verdicts.check(
        grammar_rule(side::server, e), true, side::server, where,
        [&] { return std::string(rule_id(e)) + ": " + std::string(reason(e)); }, ex);
  }
  if (!server.reply_text.empty()) server.reply_text += "\r\n";
  server.reply_text.append(r.line);
  server.reply_texts.emplace_back(step.line.text);
  if (step.complete) {
    std::uint16_t code = step.line.code;
    if (server.reply_texts.size() > 1 && server.assembler.code() != 0) code = server.assembler.code();
    server.reply_code = code;
    server_reply(server.reply_offset);
  }
}

engine::engine(engine_options opts) : p_(std::make_unique<impl>(opts)) {}
engine::~engine() = default;
engine::engine(engine&&) noexcept = default;
engine& engine::operator=(engine&&) noexcept = default;

void engine::client_bytes(std::string_view octets) {
  if (octets.empty()) return;
  p_->session.silent_since_tls = false;
  const bool early = !p_->session.greeted && !p_->client.early_reported && p_->client.mode != client_mode::closed;
  // No excerpt: the octets at hand depend on how the stream was cut (a
  // report must not); the transcript line names them.
  p_->verdicts.check(rk::client_early_talker, early, side::client, p_->client.off + p_->client.buf.size(),
                     "client sent octets before the server's greeting");
  if (early) p_->client.early_reported = true;
  p_->client.buf.append(octets);
  p_->pump_client();
}

void engine::server_bytes(std::string_view octets) {
  if (octets.empty()) return;
  p_->session.silent_since_tls = false;
  p_->server.buf.append(octets);
  p_->pump_server();
}

void engine::tls_start() {
  impl& s = *p_;
  if (s.server.held.active) s.answer_held(false);
  if (s.client.mode == client_mode::tls_wait) {
    // Octets the client sent before the handshake are discarded by a correct
    // server; count them as commands to catch a server that answers them.
    line_framer f(1u << 16);
    std::string_view rest = s.client.buf;
    while (!rest.empty()) {
      auto r = f.finish(rest);
      if (r.status == line_status::need_more || r.consumed == 0) break;
      if (r.status == line_status::line) ++s.server.injected_commands;
      rest.remove_prefix(r.consumed);
    }
    s.client.off += s.client.buf.size();
    s.client.buf.clear();
    s.client.framer.reset();
  }
  s.server.framer.reset();
  s.server.buf.clear();
  s.server.assembler.reset();
  s.server.tls_pending = false;
  // RFC 3207 §4.2: both sides return to the state right after the greeting.
  const bool was_greeted = s.session.greeted;
  s.session.st = smtp_state{};
  s.session.st.tls = true;
  s.session.greeted = was_greeted;
  s.client.first_after_tls = was_greeted;
  s.client.mode = client_mode::lines;
  s.session.silent_since_tls = s.client.buf.empty();
  s.pump_client();
}

void engine::close(side who) {
  if (p_->server.held.active) p_->answer_held(false);
  if (who == side::client) {
    if (p_->client.mode == client_mode::closed || p_->client.close_pending) return;
    const client_mode m = p_->client.mode;
    if ((m == client_mode::paused || m == client_mode::tls_wait) && !p_->client.buf.empty()) {
      p_->client.close_pending = true;  // resume_client() closes once the reply came
      return;
    }
    p_->client_close();
  } else {
    if (p_->session.server_closed) return;
    if (p_->client.close_pending) {
      // No reply came for what was held: the client's close goes first.
      p_->client.close_pending = false;
      p_->client_close();
    }
    p_->server_close();
  }
}

void engine::finish() {
  if (p_->server.held.active) p_->answer_held(false);
  if (p_->client.close_pending) {
    p_->client.close_pending = false;
    p_->client_close();
  }
}

const std::vector<finding>& engine::findings() const noexcept { return p_->verdicts.findings(); }

std::size_t engine::suppressed(int rule) const noexcept { return p_->verdicts.suppressed(rule); }

std::vector<int> engine::applied() const { return p_->verdicts.applied(); }

void engine::on_finding(std::function<void(const finding&)> fn) { p_->verdicts.listen(std::move(fn)); }

void engine::on_exchange(std::function<void(const exchange&)> fn) { p_->on_exchange = std::move(fn); }

std::size_t engine::awaiting() const noexcept {
  // A BDAT whose chunk has not all come is answered after it (RFC 3030 §2).
  std::size_t n = p_->session.queue.size();
  if (n > 0 && (p_->client.mode == client_mode::bdat || p_->session.queue.back().taken_back)) --n;
  if (p_->server.held.active && n > 0) {
    const std::uint32_t g = p_->session.queue.front().group;
    for (const pending& q : p_->session.queue) {
      if (q.group != g || n == 0) break;
      --n;
    }
  }
  return n;
}

std::size_t engine::awaiting_open() const noexcept {
  const std::uint32_t g = p_->client.open_group;
  if (g == 0) return 0;
  std::size_t n = 0;
  for (const pending& q : p_->session.queue) n += q.group == g ? 1 : 0;
  return n;
}

bool engine::holding() const noexcept { return p_->server.held.active; }

std::uint32_t engine::bare_lines() const noexcept { return p_->client.groups; }

engine::bare_framing engine::framing() const noexcept { return p_->server.framing; }

std::string engine::first_awaiting() const {
  if (awaiting() == 0) return {};
  const pending& p = p_->session.queue.front();
  switch (p.kind) {
    case pending_kind::data_end: return "the end of the data";
    case pending_kind::bdat_chunk: return "a BDAT chunk";
    case pending_kind::auth_response: return "a SASL response";
    case pending_kind::command: break;
  }
  return p.excerpt();
}

void engine::impl::tell_exchange(exchange::kind k, verb v, std::uint16_t code) const {
  if (!on_exchange) return;
  const smtp_state& st = session.st;
  exchange x;
  x.what = k;
  x.v = v;
  x.code = code;
  x.state = static_cast<std::uint8_t>((st.hello ? 1u : 0u) | (st.esmtp ? 2u : 0u) | (st.tls ? 4u : 0u) |
                                      (st.authed ? 8u : 0u) | (static_cast<unsigned>(st.t) << 4) |
                                      (st.used_bdat ? 64u : 0u) | (session.desync ? 128u : 0u));
  on_exchange(x);
}

bool engine::advertised(extension e) const noexcept { return p_->session.st.has(e); }

}  // namespace smtpkit::conformance
