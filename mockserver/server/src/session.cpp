// session.cpp — one connection: I/O, actions, TLS, conformance, transcript.
#include "session.hpp"

#include <poll.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "smtpkit/mock/common/files.hpp"
#include "reference.hpp"
#include "storage.hpp"
#include "smtpkit/escape.hpp"

namespace smtpkit::mock {
namespace {

using json = event_log::json;
namespace ssl = asio::ssl;

// One read buffer for every plain-text session of the thread: a session
// only borrows it between waking up and handing the octets on. One per
// thread: a process may run several servers, each on its own thread
// (`smtpkit probe client` runs one per scenario, side by side).
thread_local char shared_buffer[1u << 16];

std::string peer_of(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

session::session(server::impl& srv, tcp::socket sock, bool implicit_tls, std::size_t ordinal)
    : started(clock_type::now()),
      last_activity(started),
      srv_(srv),
      sock_(std::move(sock)),
      implicit_tls_(implicit_tls),
      env_{srv.cfg, *srv.store, srv.events, {}, peer_of(sock_), ordinal, false, {}, {}, srv.tls.ctx != nullptr, {}} {
  char id[32];
  std::snprintf(id, sizeof id, "s%06zu", ordinal);
  env_.id = id;
}

session::~session() = default;

void session::report_finding(const conformance::finding& f) {
  const auto& r = f.r();
  const auto& policy = srv_.cfg.policy;
  const conformance::waiver* waived = policy.empty() ? nullptr : policy.waived(r.id, env_.id);
  const conformance::level_override* relevel = policy.empty() ? nullptr : policy.level_for(r.id);
  const conformance::level lvl = relevel != nullptr ? relevel->lvl : r.lvl;
  ++findings_;
  if (waived == nullptr) ++srv_.findings_by_level[static_cast<int>(lvl)];
  if (!srv_.events.enabled() && taps_.empty()) return;
  json e{{"event", "finding"},
         {"session", env_.id},
         {"rule", r.id},
         {"side", std::string(to_string(r.binds))},
         {"level", std::string(to_string(lvl))},
         {"rfc", r.rfc},
         {"message", f.message},
         {"excerpt", f.excerpt},
         {"offset", f.offset}};
  if (relevel != nullptr && lvl != r.lvl) {
    e["rule_level"] = std::string(to_string(r.lvl));
    e["level_set_by"] = relevel->origin;
  }
  if (waived != nullptr) e["waived"] = {{"reason", waived->reason}, {"by", waived->origin}};
  for (auto& t : taps_) t->finding(e, f.anchor);
  srv_.events.emit(std::move(e));
}

// The engine is made when the client first speaks: an idle session (the
// common case when many are open) costs only the greeting it was sent.
conformance::engine* session::engine() {
  if (!srv_.cfg.check_client) return nullptr;
  if (!engine_) {
    conformance::engine_options eo;
    eo.judge_server = false;  // this is the server: it judges its client
    engine_ = std::make_unique<conformance::engine>(eo);
    engine_->on_finding([this](const conformance::finding& f) { report_finding(f); });
    if (implicit_tls_) engine_->tls_start();
    if (!engine_backlog_.empty()) engine_->server_bytes(engine_backlog_);
    std::string().swap(engine_backlog_);
  }
  return engine_.get();
}

void session::client_bytes(std::string_view b) {
  if (auto* e = engine()) e->client_bytes(b);
  for (auto& t : taps_) t->octets(side::client, b);
  if (rec_) {
    rec_->sent(side::client, b);
    if (rec_->str().size() > (1u << 16)) flush_transcript(false);
  }
}

void session::server_bytes(std::string_view b) {
  if (engine_) engine_->server_bytes(b);
  else if (srv_.cfg.check_client && engine_backlog_.size() < 4096) engine_backlog_.append(b);
  for (auto& t : taps_) t->octets(side::server, b);
  if (rec_) {
    rec_->sent(side::server, b);
    if (rec_->str().size() > (1u << 16)) flush_transcript(false);
  }
}

void session::flush_transcript(bool final) {
  if (!rec_) return;
  std::string text = final ? rec_->take() : rec_->drain();
  if (text.empty() && transcript_started_) return;
  bool ok;
  if (!transcript_started_) {
    text = "# smtpkit serve: session " + env_.id + " from " + env_.peer + "\n" + text;
    transcript_started_ = true;
    const std::string wanted = srv_.transcript_prefix + env_.id + ".smtp";
    transcript_path_ = create_file(wanted, text);  // never replaces a file
    ok = !transcript_path_.empty();
    if (!ok) transcript_path_ = wanted;
  } else {
    ok = write_file(transcript_path_, text, true);
  }
  if (!ok) {
    // The rest would only make a transcript with a hole in it: stop here.
    const int err = errno;
    transcript_error_ = std::strerror(err);
    srv_.transcript_failed(env_.id, transcript_path_, err);
    rec_.reset();
  }
}

asio::awaitable<void> session::take_early() {
  constexpr std::size_t cap = 1u << 16;  // beyond this the rest waits in the socket, as before
  if (early_eof_ || early_.size() >= cap || handshaking_) co_return;
  boost::system::error_code ec;
  // Readable with nothing to read is the client's close; poll says both.
  pollfd pfd{sock_.native_handle(), POLLIN | POLLRDHUP, 0};
  const bool readable = ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
  const bool waiting = (tls_ && SSL_pending(tls_->native_handle()) > 0) || readable;
  if (!waiting) co_return;
  char* data = nullptr;
  std::size_t n = 0;
  if (tls_) {
    n = co_await read_some(data);
  } else {
    char buf[4096];
    n = sock_.read_some(asio::buffer(buf, std::min(sizeof buf, cap - early_.size())), ec);
    data = buf;
    if (ec) n = 0;
  }
  if (n == 0) {
    // The end of the client's stream is recorded where the session reads
    // it, after the pause: a FIN may be a half-close by a client that still
    // reads the reply (exim pipelines QUIT and shuts down its sending side).
    early_eof_ = true;
    co_return;
  }
  std::string_view got(data, n);
  early_.append(got);
  client_bytes(got);
}

asio::awaitable<std::size_t> session::read_some(char*& data) {
  boost::system::error_code ec;
  // Told to stop before this wait began: a cancel has nothing to cancel yet.
  if (timed_out_ || shutdown_) co_return 0;
  if (tls_) {
    if (!tls_buf_) tls_buf_ = std::make_unique<char[]>(1u << 14);
    constexpr std::size_t cap = 1u << 14;
    std::size_t n = co_await tls_->async_read_some(asio::buffer(tls_buf_.get(), cap),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    // One TLS record per read: a client that pipelines writes each command
    // as a record of its own, and taking them one at a time would answer
    // the first before the rest were seen, so the session (and its
    // transcript) would show a pipelined command as sent after that reply.
    // What has already arrived is taken with it, as over plain TCP.
    for (int more = 0; !ec && more < 8 && cap - n >= 1024; ++more) {
      boost::system::error_code aec;
      const bool waiting = SSL_pending(tls_->native_handle()) > 0 || sock_.available(aec) > 0;
      if (!waiting || aec) break;
      n += co_await tls_->async_read_some(asio::buffer(tls_buf_.get() + n, cap - n),
                                          asio::redirect_error(asio::use_awaitable, ec));
    }
    data = tls_buf_.get();
    co_return ec&& n == 0 ? 0 : n;
  }
  // A peer that keeps the socket full would keep this coroutine running
  // forever; every few reads that did not have to wait, let the others run.
  if (++eager_reads_ >= 4) {
    eager_reads_ = 0;
    co_await asio::post(sock_.get_executor(), asio::use_awaitable);
  }
  constexpr std::size_t cap = sizeof shared_buffer;
  if (!drained_) {
    std::size_t n = sock_.read_some(asio::buffer(shared_buffer), ec);
    if (!ec) {
      spoke_ = true;
      drained_ = n < cap;  // a short read emptied the socket
      data = shared_buffer;
      co_return n;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return 0;
  }
  eager_reads_ = 0;
  if (timed_out_ || shutdown_) co_return 0;
  // Wait by reading: the reactor reads into this session's small buffer
  // when octets arrive. (async_wait would cost an epoll_ctl and a second
  // read per wait; the shared buffer cannot be lent to a pending read.) A
  // session that never spoke has none.
  if (!wait_buf_) {
    if (!spoke_) {
      // Idle connections are the many: wait without a buffer until the first octets.
      co_await sock_.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return 0;
      spoke_ = true;
      drained_ = false;
      std::size_t n = sock_.read_some(asio::buffer(shared_buffer), ec);
      if (ec) co_return 0;
      drained_ = n < cap;
      data = shared_buffer;
      co_return n;
    }
    wait_buf_ = std::make_unique<char[]>(wait_buf_size);
  }
  std::size_t n = co_await sock_.async_read_some(asio::buffer(wait_buf_.get(), wait_buf_size),
                                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec || n == 0) co_return 0;
  std::memcpy(shared_buffer, wait_buf_.get(), n);
  drained_ = n < wait_buf_size;
  if (!drained_) {
    const std::size_t room = cap - n;
    std::size_t more = sock_.read_some(asio::buffer(shared_buffer + n, room), ec);
    if (!ec) n += more;
    drained_ = ec || more < room;
  }
  data = shared_buffer;
  co_return n;
}

asio::awaitable<bool> session::write_all(std::string_view bytes) {
  // The events of this turn (session open, command, findings, reply) reach
  // the event stream before the peer sees the reply: a test driver whose
  // client has a reply can rely on its events being there to read — unless
  // its reader has fallen behind: the reply is not held back for it.
  srv_.flush_events();
  boost::system::error_code ec;
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }
  // Replies are small: try to write at once and wait only when the peer is slow.
  while (!bytes.empty()) {
    std::size_t n = sock_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    if (!ec) {
      bytes.remove_prefix(n);
      continue;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    co_await sock_.async_wait(tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> session::handshake() {
  tls_ = std::make_unique<ssl::stream<tcp::socket&>>(sock_, *srv_.tls.ctx);
  boost::system::error_code ec;
  // A handshake is a record too: a half-open one must not hold the session.
  handshaking_ = true;
  record_start_ = clock_type::now();
  co_await tls_->async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  handshaking_ = false;
  record_start_ = {};
  if (ec) {
    if (srv_.events.enabled())
      srv_.events.emit({{"event", "tls"}, {"session", env_.id}, {"state", "failed"}, {"error", ec.message()}});
    co_return false;
  }
  SSL* s = tls_->native_handle();
  env_.tls = true;
  env_.tls_version = SSL_get_version(s);
  env_.tls_cipher = SSL_get_cipher_name(s);
  if (srv_.events.enabled())
    srv_.events.emit({{"event", "tls"},
                      {"session", env_.id},
                      {"state", "started"},
                      {"version", env_.tls_version},
                      {"cipher", env_.tls_cipher}});
  co_return true;
}

asio::awaitable<bool> session::execute(std::vector<action> list) {
  for (auto& a : list) {
    switch (a.kind) {
      case act::write:
        if (!co_await write_all(a.bytes)) co_return false;
        server_bytes(a.bytes);
        break;
      case act::throttle: {
        const std::uint64_t rate = a.rate == 0 ? 1 : a.rate;
        const std::size_t piece = static_cast<std::size_t>(std::max<std::uint64_t>(1, rate / 10));
        std::string_view rest = a.bytes;
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!rest.empty()) {
          std::string_view part = rest.substr(0, piece);
          if (!co_await write_all(part)) co_return false;
          server_bytes(part);
          rest.remove_prefix(part.size());
          if (rest.empty()) break;
          t.expires_after(std::chrono::milliseconds(1000 * part.size() / rate));
          boost::system::error_code ec;
          co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (timed_out_ || shutdown_) co_return false;
        }
        break;
      }
      case act::pause:
      case act::stall_tls:
      case act::hang: {
        asio::steady_timer t(co_await asio::this_coro::executor);
        if (a.kind == act::hang) t.expires_at(clock_type::time_point::max());
        else t.expires_after(a.delay);
        // Waits end early on timeout or shutdown: the sweeper cancels the socket,
        // and the wait below polls for it.
        boost::system::error_code ec;
        // A pause looks at the socket every 10 ms, a hang every 50 ms: what
        // the client sends meanwhile is recorded when it came (an early
        // talker, a command sent on a reply the client only believed it had,
        // a client that goes on while the server hangs).
        const auto every = a.kind == act::pause  ? std::chrono::milliseconds(10)
                           : a.kind == act::hang ? std::chrono::milliseconds(50)
                                                 : std::chrono::milliseconds(250);
        while (!timed_out_ && !shutdown_) {
          auto step = std::min<clock_type::duration>(t.expiry() - clock_type::now(), every);
          if (step <= clock_type::duration::zero()) break;
          asio::steady_timer tick(co_await asio::this_coro::executor, step);
          co_await tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (a.kind == act::pause || a.kind == act::hang) co_await take_early();
        }
        if (a.kind != act::pause || timed_out_ || shutdown_) co_return false;
        break;
      }
      case act::start_tls: {
        if (!srv_.tls.ctx) co_return false;
        if (rec_) rec_->tls();
        for (auto& t : taps_) t->tls_started();
        if (auto* e = engine()) e->tls_start();
        if (!co_await handshake()) co_return false;
        actions next;
        beh_->tls_started(next);
        if (!co_await execute(next.take())) co_return false;
        break;
      }
      case act::commit: {
        // --durable: this message's group is committed once per turn of the
        // loop for every session that finished one; the 250 comes after.
        std::shared_ptr<commit_ticket> t = a.ticket;
        if (!t) break;
        while (!t->done) co_await srv_.await_commit();
        if (t->report) t->report(t->result);
        if (!t->result.ok) {
          std::string line = t->failure_reply + "\r\n";
          if (co_await write_all(line)) server_bytes(line);
          co_return false;
        }
        break;
      }
      case act::close: co_return false;
      case act::reset: {
        boost::system::error_code ec;
        sock_.set_option(asio::socket_base::linger(true, 0), ec);
        sock_.close(ec);
        co_return false;
      }
    }
  }
  co_return true;
}

asio::awaitable<void> session::run() {
  boost::system::error_code ec;
  sock_.non_blocking(true, ec);
  sock_.set_option(tcp::no_delay(true), ec);
  // Findings a behaviour makes itself (a script's mismatches) count toward
  // --fail-on like the engine's.
  env_.note_finding = [this](conformance::level l) {
    ++findings_;
    ++srv_.findings_by_level[static_cast<int>(l)];
  };
  if (srv_.factory) {
    env_.ordinal = env_.ordinal;
    beh_ = srv_.factory(env_, std::make_unique<reference_server>(env_));
  } else {
    beh_ = std::make_unique<reference_server>(env_);
  }
  if (!srv_.cfg.transcripts.empty()) rec_ = std::make_unique<transcript_writer>();
  if (srv_.events.enabled())
    srv_.events.emit(
        {{"event", "session"}, {"state", "open"}, {"session", env_.id}, {"peer", env_.peer}, {"tls", implicit_tls_}});
  for (auto& o : srv_.observers)
    if (auto t = o->session_opened(env_.id, env_.peer, implicit_tls_)) taps_.push_back(std::move(t));

  bool alive = true;
  if (implicit_tls_) {
    if (rec_) rec_->tls();
    for (auto& t : taps_) t->tls_started();
    alive = co_await handshake();
  }
  if (alive) {
    actions greet;
    beh_->greet(greet);
    alive = co_await execute(greet.take());
  }
  srv_.flush_events();
  while (alive) {
    char* data = nullptr;
    std::string early;  // recorded already, during a pause
    std::size_t n = 0;
    if (!early_.empty()) {
      early.swap(early_);
      data = early.data();
      n = early.size();
    } else if (!early_eof_) {
      n = co_await read_some(data);
    }
    if (n == 0) {
      actions last;
      if (timed_out_) beh_->timed_out(last);
      else if (shutdown_) beh_->shutting_down(last);
      else {
        peer_closed_ = true;
        beh_->peer_closed();
        if (auto* e = engine()) e->close(side::client);
        if (rec_) rec_->close(side::client);
        for (auto& t : taps_) t->closed(side::client);
      }
      if (!last.empty()) co_await execute(last.take());
      break;
    }
    last_activity = clock_type::now();
    std::string_view bytes(data, n);
    actions out;
    beh_->receive(bytes, out);
    note_progress(last_activity);
    if (srv_.store->pending()) srv_.schedule_commit();
    if (early.empty()) client_bytes(bytes);  // after the behaviour: its "command" events come before findings
    alive = co_await execute(out.take());
    if (alive && shutdown_ && !beh_->busy()) {
      actions last;
      beh_->shutting_down(last);
      co_await execute(last.take());
      alive = false;
    }
    srv_.flush_events();
  }
  finish();
}

void session::finish() {
  ending_ = true;
  boost::system::error_code ec;
  if (sock_.is_open()) {
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }
  if (engine_ || !engine_backlog_.empty()) {
    auto* e = engine();
    if (!peer_closed_) e->close(side::server);
    e->finish();
  }
  if (rec_) {
    if (!peer_closed_) rec_->close(side::server);
    flush_transcript(true);
  }
  for (auto& t : taps_) {
    if (!peer_closed_) t->closed(side::server);
    t->ended(findings_);
  }
  taps_.clear();
  if (srv_.events.enabled()) {
    json e{{"event", "session"}, {"state", "closed"}, {"session", env_.id}, {"findings", findings_}};
    if (!transcript_path_.empty()) e["transcript"] = transcript_path_;
    if (!transcript_error_.empty()) e["transcript_error"] = transcript_error_;
    srv_.events.emit(std::move(e));
    srv_.flush_events();
  }
  srv_.sessions.erase(this);
  srv_.maybe_finish();
}

void session::note_progress(clock_type::time_point now) {
  input_progress p = beh_->progress();
  if (p.what == input_progress::kind::nothing) {
    record_start_ = over_since_ = {};
  } else if (record_start_ == clock_type::time_point{} || p.records != progress_.records || p.what != progress_.what) {
    record_start_ = now;
    over_since_ = {};
  }
  if (p.over_limit && over_since_ == clock_type::time_point{}) over_since_ = now;
  progress_ = p;
}

const char* session::overdue(clock_type::time_point now) const {
  const server_config& c = srv_.cfg;
  if (now - started > c.session_timeout) return "session";
  if (now - last_activity > c.idle_timeout) return "idle";
  if (c.line_deadline.count() <= 0 || record_start_ == clock_type::time_point{}) return nullptr;
  // Postfix's per-record deadline: what trickles in does not reset it.
  auto deadline = record_start_ + c.line_deadline;
  const char* why = handshaking_ ? "handshake" : "line";
  if (!handshaking_ && progress_.what == input_progress::kind::content) {
    why = "data";
    // Data earns a second for each min_data_rate octets, up to --max-size;
    // beyond it, one more deadline to reach the end.
    if (c.min_data_rate > 0) deadline += std::chrono::seconds(progress_.octets / c.min_data_rate);
    if (over_since_ != clock_type::time_point{}) deadline = std::min(deadline, over_since_ + c.line_deadline);
  }
  return now > deadline ? why : nullptr;
}

void session::timeout(const char* why) {
  boost::system::error_code ec;
  if (timed_out_) {
    sock_.close(ec);  // a peer that does not even read its 421
    return;
  }
  timed_out_ = true;
  if (srv_.events.enabled()) srv_.events.emit({{"event", "timeout"}, {"session", env_.id}, {"why", why}});
  sock_.cancel(ec);
}

void session::shutdown() {
  // Again on every sweep: a session told before its first wait began (one
  // accepted just before the signal) must not wait on.
  boost::system::error_code ec;
  shutdown_ = true;
  sock_.cancel(ec);
}

}  // namespace smtpkit::mock
