// driver.cpp — plays the client side of a script against a server
// (smtpkit/mock/client/driver.hpp): sends, reads replies, matches them,
// feeds the conformance engine and the transcript, classifies @smuggle.
// RFC 5321 §4.2 (replies), §4.1.1.4 (DATA), RFC 3207 (STARTTLS).
#include "reply_match.hpp"
#include "smtpkit/mock/common/endpoint.hpp"

#include <algorithm>
#include <thread>

#include "smtpkit/mock/client/connection.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::mock {

std::string_view to_string(run_status s) noexcept {
  switch (s) {
    case run_status::completed: return "pass";
    case run_status::failed: return "fail";
    case run_status::not_applicable: return "not-applicable";
    case run_status::error: return "error";
  }
  return "?";
}

std::string_view to_string(eod_outcome o) noexcept {
  switch (o) {
    case eod_outcome::ended_data: return "accepted-as-end-of-data";
    case eod_outcome::kept: return "kept-in-message";
    case eod_outcome::rejected: return "rejected";
  }
  return "?";
}

std::string client_target::describe() const {
  if (!command.empty()) return "exec: " + command;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool parse_target(std::string_view s, client_target& out, std::string* why) {
  std::string host, reason;
  std::uint16_t port = 0;
  if (!parse_endpoint(s, {}, host, port, reason)) {
    if (why != nullptr) *why = reason;
    return false;
  }
  out.host = std::move(host);
  out.port = port;
  return true;
}

std::size_t driver_result::mismatches() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(expectations.begin(), expectations.end(), [](const expectation_result& e) { return !e.ok; }));
}

namespace detail {

line_shape shape_of(std::string_view line) noexcept {
  auto r = parse_reply_line(line);
  return {r.value.code, r.value.separator == '-'};
}

bool continuation(const step& s) {
  if (s.kind != op::expect_line) return false;
  // A pattern's text reads as a reply line up to its first '{'.
  return shape_of(s.pat ? std::string_view(s.pat->text()) : std::string_view(s.bytes)).continues;
}

std::size_t group_end(const std::vector<step>& steps, std::size_t first) {
  std::size_t i = first;
  while (i < steps.size() && steps[i].kind == op::expect_line) {
    const bool last = !continuation(steps[i]);
    ++i;
    if (last) break;
  }
  return i;
}

bool matches(const std::vector<step>& steps, std::size_t first, std::size_t end, const received_reply& r,
             reply_compare mode, captures& values) {
  if (r.lines.empty() || end <= first) return false;
  const std::size_t n = end - first;
  if (mode == reply_compare::code) {
    // Recorded replies are exact lines; their last line has the code.
    return shape_of(steps[end - 1].bytes).code == r.code && r.code != 0;
  }
  auto one = [&](const step& s, const std::string& line) {
    if (s.pat) return s.pat->match(line, &values);
    return s.bytes == line;
  };
  // A lone pattern that is not a continuation line stands for the whole reply.
  if (n == 1 && steps[first].pat && !continuation(steps[first])) return one(steps[first], r.lines.back());
  if (r.lines.size() != n) return false;
  for (std::size_t k = 0; k < n; ++k)
    if (!one(steps[first + k], r.lines[k])) return false;
  return true;
}

std::string describe_expected(const std::vector<step>& steps, std::size_t first, std::size_t end, reply_compare mode) {
  std::string out;
  if (mode == reply_compare::code && end > first) {
    out = "reply " + std::to_string(shape_of(steps[end - 1].bytes).code) + " (recorded: ";
    for (std::size_t k = first; k < end; ++k) {
      if (k > first) out += " / ";
      out += escape(steps[k].bytes);
    }
    return out + ")";
  }
  for (std::size_t k = first; k < end; ++k) {
    if (k > first) out += "\n";
    out += steps[k].pat ? "S~ " + steps[k].pat->text() : "S: " + escape(steps[k].bytes);
  }
  return out;
}

std::string describe_recorded(const std::vector<step>& steps, std::size_t first, std::size_t end) {
  std::string out;
  for (std::size_t k = first; k < end; ++k) {
    if (k > first) out += "\n";
    out += steps[k].pat ? steps[k].pat->text() : escape(steps[k].bytes);
  }
  return out;
}

std::string describe_received(const received_reply& r) {
  // Reports stay readable: a reply is shown up to about 4 KiB.
  constexpr std::size_t shown = 4096;
  std::string out;
  for (std::size_t k = 0; k < r.lines.size(); ++k) {
    if (k) out += "\n";
    if (out.size() > shown) {
      out += "... (" + std::to_string(r.lines.size() - k) + " more lines)";
      break;
    }
    out += escape(r.lines[k].size() > shown ? r.lines[k].substr(0, shown) + "..." : r.lines[k]);
  }
  return out;
}

eod_outcome classify_eod(const std::vector<std::uint16_t>& codes, bool closed) noexcept {
  // More than one reply to one message: the server ended the data early and
  // read what followed (our NOOP, a text line, the real ".") as commands.
  if (codes.size() > 1) return eod_outcome::ended_data;
  if (closed || codes.empty()) return eod_outcome::rejected;
  return codes.front() / 100 == 2 ? eod_outcome::kept : eod_outcome::rejected;
}

std::string smuggle_data(std::string_view variant) {
  // The NOOP after the variant is harmless inside a message, and answered
  // (a second reply) only by a server that ended the data at the variant.
  std::string d =
      "Subject: smtpkit end-of-data probe\r\n"
      "\r\n"
      "This line comes before the variant.";
  d.append(variant);
  d += "NOOP\r\nThis line comes after the variant.\r\n.\r\n";
  return d;
}

bool requirement_met(std::string_view req, std::string_view ehlo_reply) {
  const bool negate = !req.empty() && req.front() == '!';
  if (negate) req.remove_prefix(1);
  const std::size_t colon = req.find(':');
  const std::string_view name = req.substr(0, colon);
  const std::string_view param = colon == std::string_view::npos ? std::string_view{} : req.substr(colon + 1);
  bool found = false;
  ehlo_keywords kws(ehlo_reply);
  ehlo_keyword kw;
  while (!found && kws.next(kw)) found = kw.names(name) && (param.empty() || kw.lists(param));
  return negate ? !found : found;
}

}  // namespace detail

namespace {

using detail::clock_type;
using detail::io_status;
using detail::received_reply;

constexpr std::size_t max_reply_line = 64u * 1024;
constexpr std::size_t max_unasked = 1u << 20;
constexpr std::size_t max_transcript = 8u << 20;

bool has_name(std::string_view text, std::string_view name) {
  std::string token = "{" + std::string(name) + "}";
  return text.find(token) != std::string_view::npos;
}

class player {
 public:
  player(const script& s, const driver_options& o) : s_(s), o_(o), engine_(engine_opts()) {}

  driver_result run() {
    const auto started = clock_type::now();
    session_deadline_ = started + (s_.meta.timeout ? *s_.meta.timeout : o_.session_timeout);
    writer_.comment("smtpkit client driver: " + (o_.source.empty() ? std::string("script") : o_.source) + " against " +
                    o_.target.describe());
    values_ = o_.variables;
    known_ = s_.capture_names;
    for (const auto& [name, value] : values_) known_.push_back(name);
    known_.push_back("size_limit");
    known_.push_back("size_over");
    play_all();
    finish();
    r_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
    return std::move(r_);
  }

 private:
  static conformance::engine_options engine_opts() {
    conformance::engine_options eo;
    eo.judge_client = false;  // we are the client: only the server is judged
    eo.judge_server = true;
    return eo;
  }

  clock_type::time_point step_deadline() const {
    return std::min(clock_type::now() + o_.step_timeout, session_deadline_);
  }

  // Which limit ended a wait that just timed out (poll(2) counts whole
  // milliseconds, so it may wake a little before the session's deadline).
  std::string timeout_text() const {
    if (clock_type::now() + std::chrono::milliseconds(20) >= session_deadline_) return "the scenario's time limit";
    return std::to_string(o_.step_timeout.count()) + " ms";
  }

  // --- ending ----------------------------------------------------------------

  void fail_with(run_status st, std::string why) {
    if (r_.status == run_status::completed) {
      r_.status = st;
      r_.reason = std::move(why);
    }
    stop_ = true;
  }

  void mismatch(std::size_t line, std::string expected, std::string received, std::string recorded = {}) {
    std::string why = "line " + std::to_string(line) + ": expected " + expected + ", received " + received;
    r_.expectations.push_back({line, std::move(expected), std::move(received), false, std::move(recorded)});
    if (r_.status == run_status::completed) {
      r_.status = run_status::failed;
      r_.reason = std::move(why);
    }
  }

  // --- transcript and engine ---------------------------------------------------

  void record(side who, std::string_view bytes) {
    if (who == side::client) {
      engine_.client_bytes(bytes);
    } else {
      engine_.server_bytes(bytes);
      server_octets_ += bytes.size();
    }
    if (transcript_full_) return;
    writer_.sent(who, bytes);
    if (writer_.str().size() > max_transcript) {
      transcript_full_ = true;
      writer_.flush();
      writer_.comment("transcript truncated here (8 MiB); the engine saw everything");
    }
  }

  // --- connection --------------------------------------------------------------

  bool connect() {
    std::string err;
    if (!o_.target.command.empty()) conn_ = detail::client_conn::spawn(o_.target.command, err);
    else conn_ = detail::client_conn::dial(o_.target.host, o_.target.port, step_deadline(), err);
    if (!conn_) {
      fail_with(run_status::error, err);
      return false;
    }
    // Implicit TLS belongs to setting the connection up: a handshake that
    // fails leaves it unconnected (the probe then calls the target unreachable).
    if (o_.target.implicit_tls && !start_tls()) return false;
    r_.connected = true;
    return true;
  }

  SSL_CTX* tls_context() {
    if (!tls_ctx_) {
      std::string err;
      tls_ctx_ = detail::make_client_tls(o_.target.insecure, err);
      if (!tls_ctx_) fail_with(run_status::error, err);
    }
    return tls_ctx_.get();
  }

  bool start_tls() {
    // Octets after the 220 came before the handshake: the engine has judged
    // them (server.starttls.data-after-220); they are not TLS.
    inbuf_.clear();
    partial_.lines.clear();
    partial_bytes_ = 0;
    scanned_ = 0;
    engine_.tls_start();
    if (!transcript_full_) writer_.tls();
    SSL_CTX* ctx = tls_context();
    if (ctx == nullptr) return false;
    std::string err;
    const std::string name = o_.target.tls_name.empty() ? o_.target.host : o_.target.tls_name;
    if (conn_->start_tls(ctx, name, step_deadline(), err) != io_status::ok) {
      fail_with(run_status::error, err);
      return false;
    }
    r_.tls = conn_->tls_info();
    return true;
  }

  // Reads more of the server's octets (bounded by `deadline`).
  io_status fill(clock_type::time_point deadline) {
    if (server_closed_) return io_status::eof;
    std::string chunk;
    io_status st = conn_->read_some(chunk, 16384, deadline);
    if (st == io_status::ok) {
      record(side::server, chunk);
      inbuf_ += chunk;
      if (inbuf_.size() > max_unasked) {
        fail_with(run_status::error, "the server sent more than 1 MiB without being asked");
        return io_status::error;
      }
    } else if (st == io_status::eof || st == io_status::error) {
      server_gone();
    }
    return st;
  }

  void server_gone() {
    if (server_closed_) return;
    server_closed_ = true;
    engine_.close(side::server);
    if (!transcript_full_) writer_.close(side::server);
  }

  // Reads what has arrived, without waiting (keeps the engine's order true).
  void pump() {
    if (server_closed_ || !conn_) return;
    for (int i = 0; i < 64; ++i) {
      std::string chunk;
      io_status st = conn_->read_ready(chunk, 16384);
      if (st == io_status::ok) {
        record(side::server, chunk);
        inbuf_ += chunk;
        if (inbuf_.size() > max_unasked) {
          fail_with(run_status::error, "the server sent more than 1 MiB without being asked");
          return;
        }
        continue;
      }
      if (st == io_status::eof || st == io_status::error) server_gone();
      return;
    }
  }

  // Waits `d`, reading what arrives meanwhile.
  void pump_for(std::chrono::milliseconds d) {
    const auto until = std::min(clock_type::now() + d, session_deadline_);
    while (clock_type::now() < until && !stop_) {
      if (server_closed_) {
        std::this_thread::sleep_until(until);
        return;
      }
      if (fill(until) != io_status::ok) {
        if (!server_closed_) return;
      }
    }
  }

  enum class got : std::uint8_t { reply, closed, timeout, error };

  got next_reply(received_reply& out, clock_type::time_point deadline) {
    for (;;) {
      // Reply lines end at LF (CRLF, or a bare LF some servers send); a bare
      // CR stays inside its line. The engine judges the line ends on its
      // own; here a server that echoes a client's bare CR in its reply text
      // must not look like two replies.
      while (!inbuf_.empty()) {
        const std::size_t nl = inbuf_.find('\n', scanned_);
        if (nl == std::string::npos) {
          scanned_ = inbuf_.size();
          if (inbuf_.size() > max_reply_line) {
            fail_with(run_status::error, "a reply line longer than 64 KiB");
            return got::error;
          }
          break;
        }
        std::string line = inbuf_.substr(0, nl > 0 && inbuf_[nl - 1] == '\r' ? nl - 1 : nl);
        inbuf_.erase(0, nl + 1);
        scanned_ = 0;
        if (take_line(std::move(line), out)) return got::reply;
      }
      if (server_closed_) {
        // Octets after the last line end: the last line, without CRLF.
        if (!inbuf_.empty()) {
          std::string line = std::move(inbuf_);
          inbuf_.clear();
          scanned_ = 0;
          if (take_line(std::move(line), out)) return got::reply;
        }
        if (!partial_.lines.empty()) {
          out = std::move(partial_);
          partial_ = {};
          partial_bytes_ = 0;
          out.code = detail::shape_of(out.lines.back()).code;
          return got::reply;
        }
        return got::closed;
      }
      io_status st = fill(deadline);
      if (st == io_status::timeout) return got::timeout;
      if (st == io_status::error && stop_) return got::error;
    }
  }

  bool take_line(std::string line, received_reply& out) {
    auto sh = detail::shape_of(line);
    partial_bytes_ += line.size();
    partial_.lines.push_back(std::move(line));
    // A reply that never ends is cut at 1 MiB (it is still one reply).
    if (sh.continues && partial_bytes_ < max_unasked) return false;
    out = std::move(partial_);
    partial_ = {};
    partial_bytes_ = 0;
    out.code = sh.code;
    on_reply(out);
    return true;
  }

  // Every reply passes here first: greeting, EHLO response, QUIT.
  void on_reply(const received_reply& rep) {
    ++replies_;
    if (replies_ == 1) r_.greeting = rep.lines.front();
    if (awaiting_ehlo_ && replies_ > 1) {
      awaiting_ehlo_ = false;
      if (rep.code == 250) note_ehlo(rep);
    }
    if (quit_sent_ && rep.code == 221) got_221_ = true;
  }

  void note_ehlo(const received_reply& rep) {
    ehlo_reply_.clear();
    for (const auto& l : rep.lines) {
      if (!ehlo_reply_.empty()) ehlo_reply_ += "\r\n";
      ehlo_reply_ += l;
    }
    r_.ehlo.clear();
    for (std::size_t i = 1; i < rep.lines.size(); ++i) r_.ehlo.emplace_back(parse_reply_line(rep.lines[i]).value.text);
    values_.erase(std::remove_if(values_.begin(), values_.end(),
                                 [](const auto& v) { return v.first == "size_limit" || v.first == "size_over"; }),
                  values_.end());
    // RFC 1870 §4: SIZE 0 declares no limit; a limit past 2^64-1 saturates
    // and cannot be exceeded by one.
    const ehlo_info info = parse_ehlo_reply(ehlo_reply_).value;
    if (info.size_declared && info.size_limit > 0 && info.size_limit < UINT64_MAX) {
      values_.emplace_back("size_limit", std::to_string(info.size_limit));
      values_.emplace_back("size_over", std::to_string(info.size_limit + 1));
    }
    ehlo_seen_ = true;
  }

  // --- sending -------------------------------------------------------------------

  bool write(std::string_view bytes) {
    if (conn_->write_all(bytes, step_deadline()) != io_status::ok) {
      pump();
      if (server_closed_) return false;  // the expectation that follows sees the close
      fail_with(run_status::error, "cannot send: the connection broke");
      return false;
    }
    record(side::client, bytes);
    return true;
  }

  // Sends with @split / @rate in force; false when the connection is gone.
  bool send(std::string_view bytes) {
    pump();
    if (split_ == 0 && rate_ == 0) return write(bytes);
    const std::size_t piece =
        split_ ? static_cast<std::size_t>(split_) : static_cast<std::size_t>(std::max<std::uint64_t>(1, rate_ / 10));
    while (!bytes.empty() && !stop_) {
      std::string_view part = bytes.substr(0, piece);
      if (!write(part)) return false;
      bytes.remove_prefix(part.size());
      if (bytes.empty()) break;
      if (split_) pump_for(split_gap_);
      else pump_for(std::chrono::milliseconds(1000 * part.size() / rate_));
    }
    return !stop_;
  }

  // Checks values a send needs; false (not applicable) when one is missing.
  bool values_available(std::string_view text) {
    for (const auto& [name, why] : o_.unavailable) {
      if (has_name(text, name)) {
        not_applicable(why);
        return false;
      }
    }
    for (const char* name : {"size_over", "size_limit"}) {
      if (has_name(text, name) && find_capture(values_, name) == nullptr) {
        not_applicable("the server declares no SIZE limit in its EHLO response");
        return false;
      }
    }
    return true;
  }

  void note_sent_commands(std::string_view bytes) {
    std::size_t at = 0;
    for (bool first = true; at < bytes.size(); first = false) {
      const std::size_t nl = bytes.find('\n', at);
      std::string_view line = bytes.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const command_result c = parse_command(line);
      // The reply after the greeting that follows an EHLO is its response
      // (scripts send EHLO first in a group; see the header's limits).
      if (first && c.cmd.kind == verb::ehlo) awaiting_ehlo_ = true;
      if (c.cmd.kind == verb::quit && c.ok()) quit_sent_ = true;
      if (nl == std::string_view::npos) break;
      at = nl + 1;
    }
  }

  // --- the script ------------------------------------------------------------------

  void play_all() {
    const std::vector<step>* d = s_.dialogue_for(1);
    if (!s_.rules.empty()) {
      fail_with(run_status::error, "@rule blocks answer a client; a script played against a server has none");
      return;
    }
    if (d == nullptr || d->empty()) {
      fail_with(run_status::error, "the script has no dialogue");
      return;
    }
    for (const auto& st : *d)
      if (st.kind == op::tls) script_tls_ = true;
    if (!connect()) return;
    const auto& steps = *d;
    // A recording of an implicit-TLS session starts with @tls: with --tls
    // that handshake has been done at connect.
    std::size_t i = o_.target.implicit_tls && steps.front().kind == op::tls ? 1 : 0;
    while (i < steps.size() && !stop_ && r_.status != run_status::not_applicable) {
      if (clock_type::now() >= session_deadline_) {
        fail_with(run_status::error, "the scenario's time limit passed before line " + std::to_string(steps[i].line));
        return;
      }
      const step& st = steps[i];
      if (st.kind == op::expect_line) {
        std::size_t end = detail::group_end(steps, i);
        expect_reply(steps, i, end);
        i = end;
        continue;
      }
      if (st.kind == op::send && !preamble_done_) {
        // --starttls: our own EHLO/STARTTLS go first, unless the script
        // talks before the greeting or does TLS itself.
        preamble_done_ = true;
        if (o_.starttls_first && !script_tls_ && replies_ > 0 && !starttls_preamble()) return;
      }
      run_step(st);
      ++i;
    }
  }

  void run_step(const step& st) {
    switch (st.kind) {
      case op::send: {
        if (!values_available(st.bytes)) return;
        std::string bytes = substitute(st.bytes, values_, known_);
        note_sent_commands(bytes);
        send(bytes);
        break;
      }
      case op::expect_raw: expect_raw(st); break;
      case op::tls: start_tls(); break;
      case op::close: close_ours(); break;
      case op::expect_close: expect_close(st); break;
      case op::pause: pump_for(st.delay); break;
      case op::rate:
        rate_ = st.n;
        split_ = 0;
        break;
      case op::split:
        split_ = st.n;
        rate_ = 0;
        if (st.delay.count() > 0) split_gap_ = st.delay;
        break;
      case op::reset:
        conn_->abort();
        server_gone();
        client_closed_ = true;
        engine_.close(side::client);
        if (!transcript_full_) writer_.comment("connection reset (RST) by the client");
        stop_ = true;
        break;
      case op::hang:
        pump_for(std::chrono::duration_cast<std::chrono::milliseconds>(session_deadline_ - clock_type::now()));
        break;
      case op::smuggle: smuggle(st); break;
      case op::needs: needs_ = st.bytes; break;
      case op::stall_tls:
      case op::fallback:
      case op::expect_line:
        fail_with(run_status::error, "line " + std::to_string(st.line) + ": not a step the client side can play");
        break;
    }
  }

  void expect_reply(const std::vector<step>& steps, std::size_t first, std::size_t end) {
    const std::size_t line = steps[first].line;
    received_reply rep;
    got g = next_reply(rep, step_deadline());
    const std::string expected = detail::describe_expected(steps, first, end, o_.compare);
    if (g == got::timeout) {
      r_.expectations.push_back({line, expected, "(nothing within " + timeout_text() + ")", false});
      fail_with(run_status::error, "line " + std::to_string(line) + ": no reply within " + timeout_text());
      return;
    }
    if (g == got::error) return;
    if (g == got::closed) {
      if (s_.meta.close_passes && o_.compare == reply_compare::script) {
        r_.expectations.push_back({line, expected, "(connection closed)", true});
        closed_as_refusal_ = true;
        stop_ = true;
        return;
      }
      mismatch(line, expected, "(connection closed)", detail::describe_recorded(steps, first, end));
      stop_ = true;
      return;
    }
    if (ehlo_seen_ && !requires_checked_ && (preamble_done_ || !o_.starttls_first || script_tls_)) {
      requires_checked_ = true;
      for (const auto& req : s_.meta.requires_) {
        if (!detail::requirement_met(req, ehlo_reply_)) {
          not_applicable(req[0] == '!' ? "the server advertises " + req.substr(1)
                                       : "the server does not advertise " + req);
          return;
        }
      }
    }
    std::string needs = std::move(needs_);
    needs_.clear();
    if (detail::matches(steps, first, end, rep, o_.compare, values_)) {
      r_.expectations.push_back({line, expected, detail::describe_received(rep), true});
      return;
    }
    if (!needs.empty()) {
      // A precondition (@needs): this server is not one the scenario is about.
      r_.expectations.push_back({line, expected, detail::describe_received(rep), true});
      not_applicable("needs " + needs + "; line " + std::to_string(line) + " received " +
                     detail::describe_received(rep));
      return;
    }
    mismatch(line, expected, detail::describe_received(rep), detail::describe_recorded(steps, first, end));
    const std::uint16_t recorded = detail::shape_of(steps[end - 1].bytes).code;
    const bool next_is_tls = end < steps.size() && steps[end].kind == op::tls;
    if (!o_.continue_after_mismatch || recorded / 100 == 3 || next_is_tls || steps[end - 1].pat) stop_ = true;
  }

  void expect_raw(const step& st) {
    const auto deadline = step_deadline();
    while (inbuf_.size() < st.bytes.size() && !server_closed_) {
      if (fill(deadline) == io_status::timeout) break;
    }
    std::string came = inbuf_.substr(0, st.bytes.size());
    inbuf_.erase(0, came.size());
    scanned_ = 0;
    if (came == st.bytes) {
      r_.expectations.push_back({st.line, "S= " + escape(st.bytes), escape(came), true});
      return;
    }
    mismatch(st.line, "S= " + escape(st.bytes), came.empty() ? "(nothing)" : "S= " + escape(came));
    if (!o_.continue_after_mismatch) stop_ = true;
  }

  void expect_close(const step& st) {
    const auto deadline = step_deadline();
    while (!server_closed_ && inbuf_.empty()) {
      if (fill(deadline) == io_status::timeout) break;
    }
    if (!inbuf_.empty()) {
      received_reply rep;
      std::string received;
      if (next_reply(rep, deadline) == got::reply) received = detail::describe_received(rep);
      else received = escape(inbuf_);
      mismatch(st.line, "close", received);
      if (!o_.continue_after_mismatch) stop_ = true;
      return;
    }
    if (server_closed_) {
      r_.expectations.push_back({st.line, "close", "(connection closed)", true});
      return;
    }
    mismatch(st.line, "close", "(still open after " + timeout_text() + ")");
    stop_ = true;
  }

  void close_ours() {
    if (client_closed_) return;
    client_closed_ = true;
    conn_->shutdown_write();
    engine_.close(side::client);
    if (!transcript_full_) writer_.close(side::client);
  }

  void not_applicable(std::string why) {
    fail_with(run_status::not_applicable, std::move(why));
    // Leave politely: nothing of the scenario was sent yet but EHLO.
    if (!server_closed_ && !quit_sent_) {
      if (write("QUIT\r\n")) {
        quit_sent_ = true;
        received_reply rep;
        (void)next_reply(rep, std::min(step_deadline(), clock_type::now() + std::chrono::seconds(2)));
      }
    }
  }

  bool starttls_preamble() {
    const auto fail = [&](std::string why) {
      fail_with(run_status::error, "--starttls: " + why);
      r_.connected = false;  // like a failed implicit TLS: the session could not be set up
      return false;
    };
    received_reply rep;
    if (!write("EHLO " + o_.helo + "\r\n")) return fail("the server closed the connection");
    awaiting_ehlo_ = true;
    got g = next_reply(rep, step_deadline());
    if (g != got::reply) return fail(g == got::timeout ? "no reply to EHLO" : "no reply to EHLO (closed)");
    if (rep.code != 250) return fail("EHLO refused: " + detail::describe_received(rep));
    if (!detail::requirement_met("STARTTLS", ehlo_reply_)) return fail("the server does not offer STARTTLS");
    if (!write("STARTTLS\r\n")) return fail("the server closed the connection");
    g = next_reply(rep, step_deadline());
    if (g != got::reply || rep.code != 220)
      return fail("STARTTLS refused: " + (g == got::reply ? detail::describe_received(rep) : std::string("no reply")));
    ehlo_seen_ = false;  // what counts is the EHLO response inside TLS
    r_.ehlo.clear();
    ehlo_reply_.clear();
    if (!start_tls()) {
      r_.connected = false;
      return false;
    }
    if (!transcript_full_) writer_.comment("--starttls: the scenario starts here, inside TLS");
    return true;
  }

  void smuggle(const step& st) {
    smuggle_result sr;
    sr.variant = escape(st.bytes);
    const std::string expected = "@smuggle " + sr.variant;
    if (!send(detail::smuggle_data(st.bytes))) {
      if (stop_) return;
    }
    received_reply rep;
    got g = next_reply(rep, step_deadline());
    bool closed = false;
    if (g == got::timeout) {
      r_.expectations.push_back({st.line, expected, "(nothing within " + timeout_text() + ")", false});
      fail_with(run_status::error,
                "line " + std::to_string(st.line) + ": no reply to the mail data within " + timeout_text());
      return;
    }
    if (g == got::error) return;
    if (g == got::closed) {
      closed = true;
    } else {
      sr.codes.push_back(rep.code);
      if (write("QUIT\r\n")) {
        quit_sent_ = true;
        for (;;) {
          received_reply more;
          got m = next_reply(more, step_deadline());
          if (m != got::reply) break;
          if (more.code == 221) break;
          sr.codes.push_back(more.code);
          if (sr.codes.size() > 50) break;
        }
      }
    }
    sr.outcome = detail::classify_eod(sr.codes, closed);
    std::string codes;
    for (auto c : sr.codes) {
      if (!codes.empty()) codes += ", ";
      codes += std::to_string(c);
    }
    switch (sr.outcome) {
      case eod_outcome::ended_data:
        sr.detail = "the server answered one message " + std::to_string(sr.codes.size()) + " times (" + codes +
                    "): it took " + sr.variant + " as the end of the data and read the rest as commands";
        break;
      case eod_outcome::kept:
        sr.detail = "one reply (" + codes + ") at the real end of the data: " + sr.variant + " stayed in the message";
        break;
      case eod_outcome::rejected:
        sr.detail = closed ? "the server closed the connection without a reply to the data"
                           : "the server refused the message (" + codes + ")";
        break;
    }
    const bool ok = sr.outcome != eod_outcome::ended_data;
    r_.expectations.push_back({st.line, expected, std::string(to_string(sr.outcome)) + ": " + sr.detail, ok});
    if (!ok && r_.status == run_status::completed) {
      r_.status = run_status::failed;
      r_.reason = sr.detail;
    }
    r_.smuggle = std::move(sr);
    stop_ = true;
  }

  // --- the end -----------------------------------------------------------------------

  void finish() {
    if (conn_) {
      // After 221 the server closes (RFC 5321 §4.1.1.10): wait a little to
      // see it, so the transcript and the engine have the close.
      if (got_221_ && !server_closed_ && r_.status != run_status::error) {
        const auto until = std::min(clock_type::now() + std::min(o_.step_timeout, std::chrono::milliseconds(2000)),
                                    session_deadline_ + std::chrono::milliseconds(500));
        while (!server_closed_ && fill(until) == io_status::ok) {}
      } else {
        pump();
      }
      close_ours();
      if (conn_->is_command() && server_closed_ && server_octets_ == 0) {
        // A command that ends without a word did not start as a server
        // (not found, bad options): a setup error, not a verdict.
        r_.connected = false;
        r_.status = run_status::error;
        r_.reason = "the command ended without sending anything";
      }
      if (conn_->is_command() && !conn_->stderr_tail().empty() && r_.status == run_status::error)
        r_.reason += " (stderr: " + escape(conn_->stderr_tail().substr(0, 300)) + ")";
      conn_.reset();
    }
    engine_.finish();
    writer_.flush();
    r_.transcript = writer_.take();
    r_.report = conformance::make_report(engine_, o_.source.empty() ? std::string("dialogue") : o_.source);
    r_.report.client_bytes = 0;
    map_lines();
    if (closed_as_refusal_ && r_.status == run_status::completed) r_.reason = "the server closed the connection";
  }

  // Findings point at stream offsets; give each the transcript line that
  // carried that octet (as check_transcript does for files).
  void map_lines() {
    read_options ro;
    auto t = read_transcript(r_.transcript, r_.report.source, ro);
    if (!t.ok()) return;
    struct anchor {
      side who;
      std::uint64_t start;
      std::size_t line;
    };
    std::vector<anchor> anchors;
    std::uint64_t off[2] = {0, 0};
    for (const smtpkit::record& rec : t.value->records) {
      const int sd = static_cast<int>(rec.who);
      if (rec.sends()) {
        anchors.push_back({rec.who, off[sd], rec.line});
        off[sd] += rec.bytes().size();
      } else if (rec.kind == record_kind::directive && rec.name == "tls") {
        anchors.push_back({side::client, off[0], rec.line});
        anchors.push_back({side::server, off[1], rec.line});
      } else if (rec.kind == record_kind::directive && rec.name == "close") {
        anchors.push_back({rec.who, off[sd], rec.line});
      }
    }
    r_.report.records = t.value->records.size();
    r_.report.client_bytes = off[0];
    r_.report.server_bytes = off[1];
    for (auto& f : r_.report.findings) {
      std::size_t line = 0;
      for (const auto& a : anchors)
        if (a.who == f.anchor && a.start <= f.offset) line = a.line;
      f.line = line;
    }
  }

  const script& s_;
  const driver_options& o_;
  driver_result r_;
  conformance::engine engine_;
  transcript_writer writer_;
  bool transcript_full_ = false;
  std::unique_ptr<detail::client_conn> conn_;
  std::shared_ptr<SSL_CTX> tls_ctx_;
  clock_type::time_point session_deadline_;

  std::string inbuf_;
  std::size_t scanned_ = 0;  // octets of inbuf_ known to hold no LF
  received_reply partial_;
  std::size_t partial_bytes_ = 0;
  std::size_t replies_ = 0;
  std::uint64_t server_octets_ = 0;
  bool server_closed_ = false;
  bool client_closed_ = false;
  bool stop_ = false;
  bool closed_as_refusal_ = false;

  captures values_;
  std::vector<std::string> known_;
  std::uint64_t split_ = 0;
  std::uint64_t rate_ = 0;
  std::chrono::milliseconds split_gap_{20};

  bool script_tls_ = false;
  bool preamble_done_ = false;
  bool awaiting_ehlo_ = false;
  bool ehlo_seen_ = false;
  std::string ehlo_reply_;  // the last EHLO response, its lines CRLF-joined
  bool requires_checked_ = false;
  std::string needs_;  // @needs: the next reply is a precondition
  bool quit_sent_ = false;
  bool got_221_ = false;
};

}  // namespace

driver_result play(const script& s, const driver_options& o) { return player(s, o).run(); }

}  // namespace smtpkit::mock
