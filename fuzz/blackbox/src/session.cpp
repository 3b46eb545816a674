// session.cpp — one fuzzing session against a live server, and the oracles
// that judge it (smtpkit/fuzz/server_fuzz.hpp).
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <thread>

#include "crash.hpp"
#include "run_files.hpp"
#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/fuzz/oracle.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"
#include "smtpkit/mock/client/connection.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {
namespace {

using mock::detail::client_conn;
using mock::detail::clock_type;
using mock::detail::io_status;

}  // namespace

void reply_latency::observe(std::chrono::microseconds took) noexcept {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(took.count(), 0));
  std::uint64_t cur = worst_us_.load(std::memory_order_relaxed);
  // A decaying maximum: a slow reply raises it at once, fast ones lower it
  // by 1/256 each, so a server that slows down is followed within a run.
  for (;;) {
    const std::uint64_t next = std::max(us, cur - cur / 256);
    if (worst_us_.compare_exchange_weak(cur, next, std::memory_order_relaxed)) break;
  }
  if (seen_.load(std::memory_order_relaxed) < 64) seen_.fetch_add(1, std::memory_order_relaxed);
}

std::chrono::milliseconds reply_latency::wait(std::chrono::milliseconds ceiling) const noexcept {
  // Until a few replies were seen, the full timeout: nothing is known yet.
  if (seen_.load(std::memory_order_relaxed) < 64) return ceiling;
  const auto ms = static_cast<std::int64_t>(8 * worst_us_.load(std::memory_order_relaxed) / 1000);
  return std::clamp(std::chrono::milliseconds(ms), std::min(ceiling, std::chrono::milliseconds(5)), ceiling);
}

void framing_profile::add(std::uint32_t split, std::uint32_t whole) noexcept {
  split_.fetch_add(split, std::memory_order_relaxed);
  whole_.fetch_add(whole, std::memory_order_relaxed);
}

bool framing_profile::reads_to_crlf() const noexcept {
  const std::uint32_t whole = whole_.load(std::memory_order_relaxed);
  return whole >= 8 && split_.load(std::memory_order_relaxed) * 4 <= whole;
}

std::string_view to_string(oracle o) noexcept {
  switch (o) {
    case oracle::crash: return "crash";
    case oracle::hang: return "hang";
    case oracle::violation: return "violation";
  }
  return "?";
}

bool fail_level_from_string(std::string_view s, fail_level& out) {
  if (s == "crash") out = fail_level::crash;
  else if (s == "hang") out = fail_level::hang;
  else if (s == "must") out = fail_level::must;
  else if (s == "should") out = fail_level::should;
  else return false;
  return true;
}

session_result run_session(const dialogue& d, const session_options& o) {
  session_result r;
  const auto t0 = clock_type::now();
  conformance::engine eng(oracle_engine_options());
  violation_oracle judge(o.fail_on == fail_level::should ? conformance::level::should : conformance::level::must);
  transcript_writer tw;

  // State coverage: each matched reply in its state, and each pair of them.
  std::uint64_t prev = 0;
  std::uint16_t last_code = 0;
  std::string last_state = "start,none";  // the session's phase at the last reply
  std::string last_verb = "greeting";     // what the last reply answered
  bool said_goodbye = false;              // 221 to QUIT, or 421: a close that was announced
  eng.on_exchange([&](const conformance::exchange& x) {
    judge.exchange(x);
    const std::uint64_t k = exchange_feature(x);
    r.features.push_back(k);
    r.features.push_back(mix(prev, k));
    prev = k;
    last_code = x.code;
    ++r.replies;
    if (x.code == 421 || (x.code == 221 && x.v == verb::quit)) said_goodbye = true;
    static constexpr const char* kinds[] = {"greeting", "", "data-end", "bdat-chunk", "auth-response", "unasked"};
    last_verb = x.what == conformance::exchange::kind::command ? std::string(to_string(x.v))
                                                               : kinds[static_cast<std::size_t>(x.what)];
    // The phase the session was in when the reply came.
    static constexpr const char* txn[] = {"none", "mail", "rcpt", "?"};
    last_state = (x.state & 1) ? ((x.state & 2) ? "ehlo" : "helo") : "start";
    last_state += std::string(",") + txn[(x.state >> 4) & 3];
  });
  eng.on_finding([&](const conformance::finding& f) {
    const auto& rule = f.r();
    if (o.fail_on == fail_level::crash || o.fail_on == fail_level::hang) return;
    if (!judge.counts(eng, f)) return;  // oracle.hpp: level, what the pairing rests on
    std::string key = rule.id + " " + last_verb + "/" + last_state;
    for (const auto& k : r.violation_keys)
      if (k == key) return;
    r.violation_keys.push_back(key);
    r.violations.push_back(f);
    r.features.push_back(mix(0xF1D, std::hash<std::string>{}(key)));
  });

  std::string err;
  std::unique_ptr<client_conn> conn;
  const auto connect_deadline = clock_type::now() + o.connect_timeout;
  if (!o.target.command.empty()) conn = client_conn::spawn(o.target.command, err);
  else conn = client_conn::dial(o.target.host, o.target.port, connect_deadline, err);
  if (!conn) {
    r.error = err;
    return r;
  }
  r.connected = true;

  bool server_closed = false;
  std::size_t server_octets = 0;
  std::string buf;
  // Reads until `done()` or the deadline: what arrives goes to the engine
  // and the transcript. ok: done; eof: the server closed; timeout.
  auto read_until = [&](auto done, clock_type::time_point deadline) -> io_status {
    while (!done()) {
      buf.clear();
      io_status s = conn->read_some(buf, 1u << 16, deadline);
      if (s == io_status::ok) {
        server_octets += buf.size();
        eng.server_bytes(buf);
        tw.sent(side::server, buf);
        continue;
      }
      if (s == io_status::eof || s == io_status::error) {
        server_closed = true;
        eng.close(side::server);
        tw.close(side::server);
        return io_status::eof;
      }
      return s;
    }
    return io_status::ok;
  };
  auto send = [&](std::string_view bytes) {
    judge.client_bytes(bytes);
    eng.client_bytes(bytes);
    tw.sent(side::client, bytes);
    return conn->write_all(bytes, clock_type::now() + o.reply_timeout);
  };

  std::shared_ptr<SSL_CTX> tls_ctx;
  auto start_tls = [&]() -> bool {
    if (!tls_ctx) tls_ctx = mock::detail::make_client_tls(o.target.insecure, err);
    if (!tls_ctx) return false;
    const std::string name = o.target.tls_name.empty() ? o.target.host : o.target.tls_name;
    if (conn->start_tls(tls_ctx.get(), name, clock_type::now() + o.connect_timeout, err) != io_status::ok) return false;
    eng.tls_start();
    tw.tls();
    return true;
  };
  if (o.target.implicit_tls && !start_tls()) {
    r.error = "TLS: " + err;
    r.connected = false;
    return r;
  }

  bool owed = false;           // a reply that was owed did not come within the reply timeout
  std::size_t unanswered = 0;  // replies the engine counts as owed that did not come
  std::string owed_at;
  std::string owed_state;
  if (read_until([&] { return r.replies >= 1; }, clock_type::now() + o.reply_timeout) == io_status::timeout) {
    owed = true;
    owed_at = "the greeting";
  }
  if (o.starttls && !server_closed && !owed) {
    // Every session in TLS: EHLO, STARTTLS, the handshake (RFC 3207 §4).
    send("EHLO " + o.helo + "\r\n");
    read_until([&] { return eng.awaiting() == 0; }, clock_type::now() + o.reply_timeout);
    send("STARTTLS\r\n");
    read_until([&] { return eng.awaiting() == 0; }, clock_type::now() + o.reply_timeout);
    if (server_closed || last_code != 220 || !start_tls()) {
      r.error = "STARTTLS failed" + (err.empty() ? std::string() : ": " + err);
      r.connected = false;
      return r;
    }
  }

  std::size_t octets_before = server_octets;
  std::size_t i = 0;
  const auto session_deadline = t0 + o.session_timeout;
  for (; i < d.writes.size() && !server_closed && clock_type::now() < session_deadline; ++i) {
    const write& w = d.writes[i];
    if (w.pause_ms != 0) {
      tw.directive("pause", std::to_string(w.pause_ms) + "ms");
      std::this_thread::sleep_for(std::chrono::milliseconds(w.pause_ms));
    } else if (i != 0 && server_octets == octets_before) {
      // Nothing came back since the last write: mark the boundary, so the
      // transcript reads back as two writes, not one (dialogue.hpp).
      tw.directive("pause", "0ms");
    }
    octets_before = server_octets;
    if (send(w.bytes) != io_status::ok) {
      // The server stopped reading: take what it said, then its close.
      read_until([] { return false; }, clock_type::now() + o.reply_timeout);
      break;
    }
    // A large write takes its own time to cross and be read: 1 ms more per
    // 64 KiB, and its reply time says nothing of the target's usual pace.
    const bool large = w.bytes.size() > 4096;
    const auto full = o.latency != nullptr
                          ? std::min(o.reply_timeout,
                                     o.latency->wait(o.reply_timeout) + std::chrono::milliseconds(w.bytes.size() >> 16))
                          : o.reply_timeout;
    // Once a reply failed to come, the engine and the server no longer
    // count alike (or the server hangs): later writes wait only a moment.
    const auto wait = owed ? std::min(full, std::chrono::milliseconds(50)) : full;
    // The replies this write can still draw: not those the target already
    // failed to give, nor, once it is known to read lines to their CRLF,
    // those the engine counts for a line with a bare CR/LF left open.
    const bool by_crlf = o.framing != nullptr && o.framing->reads_to_crlf();
    auto owing = [&] {
      std::size_t n = eng.awaiting();
      if (by_crlf) n -= std::min(n, eng.awaiting_open());
      return n;
    };
    const auto sent_at = clock_type::now();
    const bool owes = owing() > unanswered;
    const bool stalled =
        read_until([&] { return owing() <= unanswered; }, clock_type::now() + wait) == io_status::timeout;
    if (!stalled && owes && !large && o.latency != nullptr)
      o.latency->observe(std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - sent_at));
    // A reply held for a line with a bare CR/LF: a server that split the
    // line answers its second piece at once; give it a moment to, unless
    // the target is known not to split.
    if (!stalled && !by_crlf && eng.holding() && !server_closed)
      read_until([&] { return !eng.holding(); }, clock_type::now() + std::min(wait, std::chrono::milliseconds(50)));
    // What did not come is not waited for again; a late reply the engine
    // pairs with it lowers the count.
    unanswered = std::min(unanswered, owing());
    if (stalled) unanswered = owing();
    if (stalled && !owed) {
      owed = true;
      owed_state = last_state;
      owed_at = eng.first_awaiting();
    }
  }

  if (!server_closed) {
    conn->shutdown_write();
    eng.close(side::client);
    tw.close(side::client);
    if (read_until([] { return false; }, clock_type::now() + o.hang_timeout) == io_status::timeout) {
      const bool alive = !conn->is_command() || conn->wait_exit(std::chrono::milliseconds(0)) == -1;
      if (alive && (eng.awaiting() > 0 || owed)) {
        r.hung = true;
        r.hang_at = owed_at.empty() ? "the end of the session" : owed_at;
        r.hang_state = owed_at.empty() ? last_state : owed_state;
      }
      conn->abort();
    }
  } else {
    r.closed_unasked = !said_goodbye;
  }

  if (conn->is_command()) {
    const int status = r.hung ? -1 : conn->wait_exit(o.hang_timeout);
    conn->collect_stderr();
    const std::string& err_text = conn->stderr_tail();
    int signo = 0;
    if (status != -1 && WIFSIGNALED(status)) signo = WTERMSIG(status);
    else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) > 128) signo = WEXITSTATUS(status) - 128;
    if (auto sig = crash_signature(signo, err_text)) {
      r.crashed = true;
      r.hung = false;
      r.crash_signature = std::move(*sig);
      r.crash_detail = tail(err_text, 2000);
    }
  } else if (r.closed_unasked) {
    // Liveness: a server that hung up unasked must still take a session.
    std::string why;
    auto probe = client_conn::dial(o.target.host, o.target.port, clock_type::now() + o.connect_timeout, why);
    bool greeted = false;
    if (probe) {
      std::string g;
      const auto until = clock_type::now() + o.reply_timeout * 2;
      while (g.find('\n') == std::string::npos && probe->read_some(g, 4096, until) == io_status::ok) {}
      greeted = g.size() >= 4 && g[0] >= '1' && g[0] <= '5';
      probe->abort();
    }
    if (!greeted) {
      r.crashed = true;
      // One signature however the loss shows (refused, reset, silent): the
      // timing of the next connection decides that, not the bug.
      r.crash_signature = "target lost (stopped answering after this session)";
      r.violations.clear();
      r.violation_keys.clear();
      r.crash_detail = probe ? std::string("no greeting on a new connection") : why;
    }
  }

  r.stalled = owed;
  // One vote per session each way: a long mutated line can show the same
  // thing dozens of times.
  if (o.framing != nullptr) o.framing->add(eng.framing().split != 0, eng.framing().whole != 0);
  if (!r.crashed && !r.hung) eng.finish();
  else r.violations.clear(), r.violation_keys.clear();
  tw.flush();
  r.transcript = tw.take();
  return r;
}

}  // namespace smtpkit::fuzz
