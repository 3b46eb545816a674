// recorder.cpp — `smtpkit record`: the proxy, its sessions, TLS on both legs.
#include "proxy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include <fstream>
#include <sstream>

#include "smtpkit/command.hpp"
#include "smtpkit/mock/common/files.hpp"
#include "smtpkit/mock/script/generalize.hpp"

namespace smtpkit::mock {
namespace {

using json = event_log::json;
namespace ssl = asio::ssl;

constexpr std::size_t read_size = 1u << 14;
constexpr std::size_t drain_at = 1u << 16;  // transcript text held before it goes to the file
constexpr auto close_grace = std::chrono::seconds(2);

std::string describe_tls(SSL* s) { return std::string(SSL_get_version(s)) + " " + SSL_get_cipher_name(s); }

}  // namespace

// --- dialogue_tracker ---------------------------------------------------------------

std::size_t dialogue_tracker::client(std::string_view chunk) {
  std::size_t found = npos;
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    switch (mode_) {
      case mode::data: {
        null_sink sink;
        auto r = data_.feed(chunk.substr(pos), sink);
        pos += r.consumed;
        if (r.done) {
          ++units_;  // the end of data gets a reply of its own
          mode_ = mode::command;
        }
        break;
      }
      case mode::bdat: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bdat_left_, chunk.size() - pos));
        pos += n;
        bdat_left_ -= n;
        if (bdat_left_ == 0) mode_ = mode::command;
        break;
      }
      case mode::command: {
        const std::size_t held = client_buf_.size();  // an unfinished line from earlier chunks
        client_buf_.append(chunk.substr(pos));
        std::size_t used = 0;
        bool to_bdat = false;
        for (;;) {
          line_result r = client_framer_.next(std::string_view(client_buf_).substr(used));
          used += r.consumed;
          if (r.status == line_status::need_more) break;
          if (r.status != line_status::line) continue;  // over-long: not a command we act on
          ++units_;
          const command_result c = parse_command(r.line);
          if (c.cmd.kind == verb::starttls && found == npos) {
            starttls_unit_ = units_;
            found = pos + used - held;
          } else if (c.cmd.kind == verb::data && c.ok()) {
            data_unit_ = units_;
          } else if (c.cmd.kind == verb::bdat && c.ok() && c.cmd.chunk_size > 0) {
            bdat_left_ = c.cmd.chunk_size;
            mode_ = mode::bdat;
            to_bdat = true;
            break;
          }
        }
        if (to_bdat) {
          pos += used - held;
          client_buf_.clear();
          client_framer_.reset();
        } else {
          client_buf_.erase(0, used);
          pos = chunk.size();
        }
        break;
      }
    }
  }
  return found;
}

dialogue_tracker::reply_end dialogue_tracker::server(std::string_view chunk) {
  reply_end out;
  const std::size_t held = server_buf_.size();
  server_buf_.append(chunk);
  std::size_t used = 0;
  for (;;) {
    line_result r = server_framer_.next(std::string_view(server_buf_).substr(used));
    used += r.consumed;
    if (r.status == line_status::need_more) break;
    if (r.status != line_status::line) continue;
    auto st = replies_in_.feed(r.line, r.ending);
    if (!st.complete) continue;
    const std::uint64_t answers = replies_++;  // unit answered; 0 is the greeting
    const int code = st.line.code;
    replies_in_.reset();
    if (data_unit_ != 0 && answers == data_unit_) {
      data_unit_ = 0;
      if (code == 354) {
        mode_ = mode::data;
        data_.reset();
        client_buf_.clear();
        client_framer_.reset();
      }
    }
    if (starttls_unit_ != 0 && answers == starttls_unit_) {
      starttls_unit_ = 0;
      out.at = used - held;
      out.code = code;
      // What follows is the caller's to hand back (or to read inside TLS).
      server_buf_.clear();
      server_framer_.reset();
      return out;
    }
  }
  server_buf_.erase(0, used);
  return out;
}

// --- proxy_session ---------------------------------------------------------------------

proxy_session::proxy_session(recorder::impl& r, tcp::socket client, std::size_t ordinal)
    : r_(r), client_(std::move(client)), upstream_(tcp::socket(r.io)), last_activity_(clock_type::now()), gate_(r.io) {
  char id[32];
  std::snprintf(id, sizeof id, "s%06zu", ordinal);
  id_ = id;
  boost::system::error_code ec;
  auto ep = client_.sock.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

void proxy_session::flush_transcript(bool final) {
  std::string text = final ? rec_.take() : rec_.drain();
  if (text.empty() && file_started_) return;
  if (!file_started_) {
    text = "# smtpkit record: session " + id_ + ", client " + peer_ + ", server " + r_.cfg.upstream_host + ":" +
           std::to_string(r_.cfg.upstream_port) + "\n" + text;
  }
  if (!file_started_) {
    file_started_ = true;
    path_ = create_file(r_.prefix + id_ + ".smtp", text);  // never replaces a file
    return;
  }
  write_file(path_, text, true);
}

// The session's file made a reusable script, in place: written beside it
// and renamed over it, so a reader never sees half of it. A file that does
// not read as a script (a session cut in the middle of a record) stays as
// it was recorded.
void proxy_session::generalize_transcript() {
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto g = generalize(text.str(), path_);
  if (!in || !std::holds_alternative<generalized>(g)) return;
  const std::string tmp = path_ + ".generalizing";
  if (write_file(tmp, std::get<generalized>(g).text, false) && ::rename(tmp.c_str(), path_.c_str()) == 0) return;
  ::unlink(tmp.c_str());
}

void proxy_session::record(side who, std::string_view bytes) {
  const auto now = clock_type::now();
  octets_[static_cast<int>(who)] += bytes.size();
  if (passthrough_) return;
  if (r_.cfg.timing && any_octet_) {
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_octet_);
    if (gap >= r_.cfg.timing_min) rec_.directive("pause", std::to_string(gap.count()) + "ms");
  }
  any_octet_ = true;
  last_octet_ = now;
  rec_.sent(who, bytes);
  // A peer that never ends its line must not grow the writer without bound:
  // write the piece out as a C=/S= record (still exact).
  std::size_t& run = since_lf_[static_cast<int>(who)];
  const auto lf = bytes.rfind('\n');
  run = lf == std::string_view::npos ? run + bytes.size() : bytes.size() - lf - 1;
  if (run > drain_at) {
    rec_.flush();
    since_lf_[0] = since_lf_[1] = 0;
  }
  if (rec_.str().size() > drain_at) flush_transcript(false);
}

asio::awaitable<bool> proxy_session::write(leg& to, std::string_view bytes) {
  boost::system::error_code ec;
  if (to.tls)
    co_await asio::async_write(*to.tls, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_write(to.sock, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

bool proxy_session::tls_begins() {
  tracking_ = false;  // no STARTTLS to watch for any more
  rec_.tls();
  if (!r_.cfg.tls_passthrough) return true;
  rec_.comment("TLS: content not recorded (--tls-passthrough)");
  passthrough_ = true;
  return false;
}

// The server said 220 to STARTTLS and the client has it: TLS on both legs,
// the server's first (we are its client), then the client's.
asio::awaitable<bool> proxy_session::start_tls() {
  boost::system::error_code ec;
  upstream_.tls = std::make_unique<ssl::stream<tcp::socket&>>(upstream_.sock, *r_.upstream_tls);
  SSL* up = upstream_.tls->native_handle();
  boost::system::error_code not_ip;
  asio::ip::make_address(r_.cfg.upstream_host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(up, r_.cfg.upstream_host.c_str());  // SNI takes names only
  if (r_.cfg.upstream_verify) upstream_.tls->set_verify_callback(ssl::host_name_verification(r_.cfg.upstream_host));
  last_activity_ = clock_type::now();
  co_await upstream_.tls->async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (r_.events.enabled())
      r_.events.emit(
          {{"event", "tls"}, {"session", id_}, {"leg", "server"}, {"state", "failed"}, {"error", ec.message()}});
    rec_.comment("TLS with the server failed: " + ec.message());
    co_return false;
  }
  client_.tls = std::make_unique<ssl::stream<tcp::socket&>>(client_.sock, *r_.client_leg_tls.ctx);
  last_activity_ = clock_type::now();
  co_await client_.tls->async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (r_.events.enabled())
      r_.events.emit(
          {{"event", "tls"}, {"session", id_}, {"leg", "client"}, {"state", "failed"}, {"error", ec.message()}});
    rec_.comment("TLS with the client failed: " + ec.message());
    co_return false;
  }
  if (r_.events.enabled()) {
    r_.events.emit({{"event", "tls"},
                    {"session", id_},
                    {"leg", "server"},
                    {"state", "started"},
                    {"version", SSL_get_version(up)},
                    {"cipher", SSL_get_cipher_name(up)}});
    SSL* cl = client_.tls->native_handle();
    r_.events.emit({{"event", "tls"},
                    {"session", id_},
                    {"leg", "client"},
                    {"state", "started"},
                    {"version", SSL_get_version(cl)},
                    {"cipher", SSL_get_cipher_name(cl)}});
  }
  rec_.comment("TLS: client leg " + describe_tls(client_.tls->native_handle()) + ", server leg " + describe_tls(up));
  co_return true;
}

void proxy_session::peer_closed(side who) {
  if (closed_[static_cast<int>(who)]) return;
  closed_[static_cast<int>(who)] = true;
  if (!stopped_) rec_.close(who);
  // Pass the close on (half-close); the session ends when the other side
  // closes too, or after the grace period.
  leg& other = of(who == side::client ? side::server : side::client);
  boost::system::error_code ec;
  other.sock.shutdown(tcp::socket::shutdown_send, ec);
  grace_until_ = clock_type::now() + close_grace;
  if (closed_[0] && closed_[1]) stop();
}

asio::awaitable<void> proxy_session::pump(side from) {
  auto self = shared_from_this();
  leg& in = of(from);
  const side to_side = from == side::client ? side::server : side::client;
  leg& out = of(to_side);
  auto buf = std::make_unique<char[]>(read_size);
  boost::system::error_code ec;
  for (;;) {
    if (from == side::client) {
      while (!gate_open_ && !stopped_) {
        gate_.expires_at(clock_type::time_point::max());
        co_await gate_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (stopped_) break;
    std::size_t n = 0;
    if (in.tls)
      n = co_await in.tls->async_read_some(asio::buffer(buf.get(), read_size),
                                           asio::redirect_error(asio::use_awaitable, ec));
    else
      n = co_await in.sock.async_read_some(asio::buffer(buf.get(), read_size),
                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) {
      if (!stopped_) peer_closed(from);
      break;
    }
    last_activity_ = clock_type::now();
    std::string_view chunk(buf.get(), n);
    if (from == side::client) {
      if (tracking_ && tracker_.client(chunk) != dialogue_tracker::npos) {
        // Hold the client until the server has answered STARTTLS: its next
        // octets are a TLS handshake if the answer is 220.
        gate_open_ = false;
      }
      record(side::client, chunk);
      if (!co_await write(out, chunk)) {
        peer_closed(to_side);
        break;
      }
      continue;
    }
    // From the server.
    bool failed = false;
    while (!chunk.empty() && !failed) {
      dialogue_tracker::reply_end end;
      if (tracking_) end = tracker_.server(chunk);
      std::string_view part = end.at == dialogue_tracker::npos ? chunk : chunk.substr(0, end.at);
      record(side::server, part);
      if (!co_await write(out, part)) {
        peer_closed(to_side);
        failed = true;
        break;
      }
      chunk.remove_prefix(part.size());
      if (end.at == dialogue_tracker::npos) break;
      if (end.code == 220) {
        // Anything after the 220 in this read came before TLS (a server that
        // breaks RFC 3207 §4.2): it goes through as plain text.
        if (!chunk.empty()) {
          record(side::server, chunk);
          failed = !co_await write(out, chunk);
          chunk = {};
        }
        if (tls_begins() && !failed && !co_await start_tls()) {
          stop();
          failed = true;
        }
      }
      gate_open_ = true;
      gate_.cancel();
    }
    if (failed) break;
  }
  finish();
}

asio::awaitable<void> proxy_session::run() {
  auto self = shared_from_this();
  boost::system::error_code ec;
  client_.sock.set_option(tcp::no_delay(true), ec);
  if (r_.events.enabled()) r_.events.emit({{"event", "session"}, {"state", "open"}, {"session", id_}, {"peer", peer_}});
  // Connect upstream; the sweeper bounds the wait (connect_timeout).
  tcp::resolver resolver(r_.io);
  auto found = co_await resolver.async_resolve(r_.cfg.upstream_host, std::to_string(r_.cfg.upstream_port),
                                               asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && !stopped_) {
    grace_until_ = clock_type::now() + r_.cfg.connect_timeout;
    co_await asio::async_connect(upstream_.sock, found, asio::redirect_error(asio::use_awaitable, ec));
    grace_until_ = clock_type::time_point::max();
  }
  if (ec || stopped_) {
    std::string why = stopped_ ? std::string("timed out") : ec.message();
    std::cerr << "smtpkit record: " << id_ << ": cannot connect to " << r_.cfg.upstream_host << ":"
              << r_.cfg.upstream_port << ": " << why << "\n";
    if (r_.events.enabled())
      r_.events.emit({{"event", "upstream"}, {"session", id_}, {"state", "failed"}, {"error", why}});
    rec_.comment("cannot connect to the server: " + why);
    stop();
    finish();
    co_return;
  }
  upstream_.sock.set_option(tcp::no_delay(true), ec);
  if (r_.cfg.implicit_tls) {
    // RFC 8314: both legs speak TLS from their first octet; the dialogue
    // starts inside it.
    if (tls_begins() && !co_await start_tls()) {
      stop();
      finish();
      co_return;
    }
  }
  last_activity_ = clock_type::now();
  pumps_ = 2;
  asio::co_spawn(r_.io, pump(side::client), asio::detached);
  asio::co_spawn(r_.io, pump(side::server), asio::detached);
}

void proxy_session::check(clock_type::time_point now) {
  if (stopped_) return;
  if (r_.stopping || now > grace_until_ || now - last_activity_ > r_.cfg.idle_timeout) {
    if (now - last_activity_ > r_.cfg.idle_timeout) rec_.comment("session idle for too long: cut by the recorder");
    stop();
  }
}

void proxy_session::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  client_.sock.close(ec);
  upstream_.sock.close(ec);
  gate_.cancel();
}

void proxy_session::finish() {
  if (pumps_ > 0 && --pumps_ > 0) return;
  if (finished_) return;
  finished_ = true;
  stop();
  flush_transcript(true);
  if (r_.cfg.generalize && !path_.empty()) generalize_transcript();
  if (r_.events.enabled()) {
    r_.events.emit({{"event", "session"},
                    {"state", "closed"},
                    {"session", id_},
                    {"transcript", path_},
                    {"octets", {{"client", octets_[0]}, {"server", octets_[1]}}}});
    r_.events.flush();
  }
  auto self = shared_from_this();
  asio::post(r_.io, [self, &r = r_] { r.sessions.erase(self); });
}

// --- recorder --------------------------------------------------------------------------

recorder::impl::impl(recorder_config c) : cfg(std::move(c)) {
  try {
    events = event_log(cfg.events);
  } catch (const std::exception& e) {
    throw setup_error(e.what());
  }
  if (cfg.out_dir.empty()) throw setup_error("--out: a folder for the transcripts is needed");
  make_dirs(cfg.out_dir);
  std::string probe = cfg.out_dir + "/.smtpkit-write-test." + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw setup_error("cannot write transcripts to " + cfg.out_dir + ": " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  prefix = cfg.out_dir + "/" + new_run_id(cfg.out_dir) + "-";  // never an earlier run's names
  if (!cfg.tls_passthrough) {
    try {
      client_leg_tls = make_tls(cfg.tls_cert, cfg.tls_key, cfg.hostname);
    } catch (const std::exception& e) {
      throw setup_error(e.what());
    }
    upstream_tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    if (cfg.upstream_verify) {
      upstream_tls->set_default_verify_paths();
      upstream_tls->set_verify_mode(asio::ssl::verify_peer);
    } else {
      upstream_tls->set_verify_mode(asio::ssl::verify_none);  // test servers have self-signed certificates
    }
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(cfg.listen_host == "localhost" ? "127.0.0.1" : cfg.listen_host, ec);
  if (ec) throw setup_error("cannot listen on " + cfg.listen_host + ": not an IP address");
  tcp::endpoint ep(addr, cfg.listen_port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw setup_error("cannot listen on " + cfg.listen_host + ":" + std::to_string(cfg.listen_port) + ": " +
                      ec.message());
  bound = {addr.to_string(), acceptor.local_endpoint().port(), false};
}

asio::awaitable<void> recorder::impl::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      asio::steady_timer t(io, std::chrono::milliseconds(50));  // out of descriptors: back off
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    ++opened;
    if (sessions.size() >= cfg.max_sessions) {
      s.close(ec);  // a proxy has no reply of its own to give
      if (events.enabled()) events.emit({{"event", "session"}, {"state", "refused"}, {"why", "max-sessions"}});
      continue;
    }
    auto sess = std::make_shared<proxy_session>(*this, std::move(s), opened);
    sessions.insert(sess);
    asio::co_spawn(io, sess->run(), asio::detached);
  }
}

void recorder::impl::sweep() {
  const auto now = clock_type::now();
  std::vector<std::shared_ptr<proxy_session>> list(sessions.begin(), sessions.end());
  for (auto& s : list) s->check(now);
  events.flush();
  if (stopping && sessions.empty()) {
    boost::system::error_code ec;
    signals.cancel(ec);
    return;
  }
  sweeper.expires_after(std::chrono::milliseconds(stopping ? 50 : 250));
  sweeper.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sweep();
  });
}

void recorder::impl::begin_shutdown() {
  if (stopping) return;
  stopping = true;
  boost::system::error_code ec;
  acceptor.close(ec);
  if (events.enabled()) events.emit({{"event", "stopping"}, {"sessions", sessions.size()}});
  sweeper.cancel();
  sweep();
}

recorder::recorder(recorder_config cfg) : p_(std::make_unique<impl>(std::move(cfg))) {}
recorder::~recorder() = default;

const bound_endpoint& recorder::endpoint() const { return p_->bound; }

int recorder::run() {
  impl& s = *p_;
  std::signal(SIGPIPE, SIG_IGN);
  s.signals.add(SIGINT);
  s.signals.add(SIGTERM);
  s.signals.async_wait([&s](const boost::system::error_code& ec, int) {
    if (!ec) s.begin_shutdown();
  });
  std::cerr << "smtpkit record: listening on " << s.bound.host << ":" << s.bound.port << ", recording sessions with "
            << s.cfg.upstream_host << ":" << s.cfg.upstream_port << " into " << s.cfg.out_dir << "\n";
  if (s.events.enabled()) {
    s.events.emit({{"event", "listening"}, {"host", s.bound.host}, {"port", s.bound.port}, {"tls", false}});
    json ready{{"event", "ready"},
               {"pid", ::getpid()},
               {"upstream", s.cfg.upstream_host + ":" + std::to_string(s.cfg.upstream_port)},
               {"out", s.cfg.out_dir}};
    if (s.client_leg_tls.ctx) ready["tls_fingerprint"] = s.client_leg_tls.fingerprint;
    s.events.emit(std::move(ready));
  }
  s.events.flush();
  asio::co_spawn(s.io, s.accept_loop(), asio::detached);
  s.sweep();
  s.io.run();
  if (s.events.enabled()) s.events.emit({{"event", "stopped"}, {"sessions", s.opened}});
  s.events.flush();
  return 0;
}

void recorder::stop() {
  asio::post(p_->io, [this] { p_->begin_shutdown(); });
}

}  // namespace smtpkit::mock
