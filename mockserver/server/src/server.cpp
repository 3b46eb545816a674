// server.cpp — listeners, the session registry, timeouts, shutdown, the
// descriptor budget, and the account of output that could not be written.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <pthread.h>
#include <cstring>
#include <iostream>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "smtpkit/mock/common/files.hpp"
#include "observed_store.hpp"
#include "reference.hpp"
#include "session.hpp"

namespace smtpkit::mock {
namespace {

using json = event_log::json;

std::string describe(const bound_endpoint& b) {
  return b.host + ":" + std::to_string(b.port) + (b.implicit_tls ? " (implicit TLS)" : "");
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n > 0 ? n - 1 : 0;  // the folder being read
  }
  return 16;  // no /proc: a guess on the safe side
}

// Descriptors a server needs beyond one per session: the spare for refusing
// a client when all are taken, and the ones held for a moment (a message
// file, the envelope journal, a transcript, a folder to fsync).
constexpr std::size_t descriptor_reserve = 16;

}  // namespace

server::impl::impl(server_config c, behaviour_factory f) : cfg(std::move(c)), factory(std::move(f)) {
  if (cfg.listens.empty()) cfg.listens.push_back({});
  try {
    events = event_log(cfg.events, cfg.events_backlog, "smtpkit serve");
  } catch (const std::exception& e) {
    throw setup_error(e.what());
  }
  if (int fd = events.poll_fd(); fd >= 0) {
    // epoll refuses what never blocks (/dev/null): then nothing needs waiting for.
    int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    boost::system::error_code ec;
    if (d >= 0) {
      events_wait = std::make_unique<asio::posix::stream_descriptor>(io);
      events_wait->assign(d, ec);
      if (ec) {
        ::close(d);
        events_wait.reset();
      }
    }
  }
  bool need_tls = cfg.ext.starttls;
  for (const auto& l : cfg.listens) need_tls |= l.implicit_tls;
  if (need_tls) {
    try {
      tls = make_tls(cfg.tls_cert, cfg.tls_key, cfg.hostname);
    } catch (const std::exception& e) {
      throw setup_error(e.what());
    }
  }
  if (!cfg.discard && cfg.maildir.empty()) {
    // A fake server must not fill whatever folder it was started in: mail
    // goes to a fresh folder of its own, kept after exit for a look.
    cfg.maildir = make_temp_dir("smtpkit-mail");
    if (cfg.maildir.empty())
      throw setup_error("cannot create a Maildir in " + temp_root() + ": " + std::strerror(errno) +
                        " (--maildir DIR chooses one)");
  }
  try {
    store =
        cfg.discard ? message_store::discard(!cfg.events.empty()) : message_store::maildir(cfg.maildir, cfg.durable);
  } catch (const std::exception& e) {
    throw setup_error(e.what());
  }
  if (!cfg.transcripts.empty()) {
    make_dirs(cfg.transcripts);
    // A transcript folder that cannot be written would lose every dialogue
    // silently: find out now.
    struct stat st {};
    if (::stat(cfg.transcripts.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw setup_error("transcript folder " + cfg.transcripts + " is not a folder");
    std::string probe = cfg.transcripts + "/.smtpkit-write-test." + std::to_string(::getpid());
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw setup_error("cannot write transcripts to " + cfg.transcripts + ": " + std::strerror(errno));
    ::close(fd);
    ::unlink(probe.c_str());
    transcript_prefix = cfg.transcripts + "/" + new_run_id(cfg.transcripts) + "-";  // never an earlier run's names
  }
  for (const auto& l : cfg.listens) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(l.host == "localhost" ? "127.0.0.1" : l.host, ec);
    if (ec) throw setup_error("cannot listen on " + l.host + ":" + std::to_string(l.port) + ": not an IP address");
    tcp::endpoint ep(addr, l.port);
    tcp::acceptor acc(io);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw setup_error("cannot listen on " + l.host + ":" + std::to_string(l.port) + ": " + ec.message());
    bound.push_back({addr.to_string(), acc.local_endpoint().port(), l.implicit_tls});
    acceptor_tls.push_back(l.implicit_tls);
    acceptors.push_back(std::move(acc));
  }
  spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (cfg.durable && !cfg.discard) syncer = std::make_unique<asio::thread_pool>(1);
}

server::impl::~impl() {
  if (spare_fd >= 0) ::close(spare_fd);
}

// Every session holds one descriptor (its connection; message files and
// transcripts are opened and closed within one step). The soft limit goes up
// to the hard one, and --max-sessions down to what is left after the
// descriptors in use and the reserve, so that running out of descriptors
// never leaves a client waiting without a reply.
std::string server::impl::fit_sessions_to_descriptors() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    if (want.rlim_max == RLIM_INFINITY) {
      rlim_t nr_open = 1u << 20;
      std::ifstream f("/proc/sys/fs/nr_open");
      f >> nr_open;
      want.rlim_cur = nr_open;
    } else {
      want.rlim_cur = want.rlim_max;
    }
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  const std::size_t in_use = open_descriptors();
  const std::size_t limit = rl.rlim_cur == RLIM_INFINITY ? std::size_t(1) << 30 : static_cast<std::size_t>(rl.rlim_cur);
  const std::size_t fit = limit > in_use + descriptor_reserve ? limit - in_use - descriptor_reserve : 0;
  if (fit == 0)
    throw setup_error("the open-file limit (" + std::to_string(limit) + ") leaves no descriptor for a session");
  if (cfg.max_sessions > fit) {
    std::string notice = "smtpkit serve: --max-sessions " + std::to_string(cfg.max_sessions) + " capped to " +
                         std::to_string(fit) + ": the open-file limit is " + std::to_string(limit) +
                         " (ulimit -n; each session needs one)\n";
    cfg.max_sessions = fit;
    return notice;
  }
  return {};
}

// A connection the server will not serve gets a 421 and a close (RFC 5321
// §3.8), never silence or a reset.
void server::impl::refuse(tcp::socket& s, std::string_view line, const char* why) {
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  s.write_some(asio::buffer(line.data(), line.size()), ec);
  s.shutdown(tcp::socket::shutdown_send, ec);
  s.close(ec);
  if (events.enabled()) events.emit({{"event", "session"}, {"state", "refused"}, {"why", why}});
}

// accept() failed for want of a descriptor: give the spare one up for a
// moment to take the connection off the queue and tell it so.
void server::impl::refuse_without_descriptors(std::size_t index) {
  if (spare_fd < 0) return;
  ::close(spare_fd);
  spare_fd = -1;
  boost::system::error_code ec;
  acceptors[index].non_blocking(true, ec);
  tcp::socket s(io);
  acceptors[index].accept(s, ec);
  if (!ec) {
    ++opened;
    refuse(s, "421 4.3.2 " + cfg.hostname + " Too many open files, try again later\r\n", "descriptors");
  }
  spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// At SIGTERM: the connections the kernel has completed but the server not
// yet accepted would be reset by closing the listener; each gets its 421.
void server::impl::drain_accept_queues() {
  const std::string line = "421 4.3.2 " + cfg.hostname + " Service shutting down, try again later\r\n";
  for (auto& a : acceptors) {
    boost::system::error_code ec;
    a.non_blocking(true, ec);
    for (int n = 0; n < 100000 && !ec; ++n) {
      tcp::socket s(io);
      a.accept(s, ec);
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        if (spare_fd < 0) break;
        ::close(spare_fd);
        spare_fd = -1;
        ec = {};
        a.accept(s, ec);
        if (!ec) {
          ++opened;
          refuse(s, line, "stopping");
        }
        spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      if (ec) break;
      ++opened;
      refuse(s, line, "stopping");
    }
  }
}

void server::impl::flush_events() {
  if (events_armed) return;  // the reader is behind: the wait below writes on
  events.flush();
  if (!events.blocked() || !events_wait) return;
  events_armed = true;
  events_wait->async_wait(asio::posix::descriptor_base::wait_write, [this](const boost::system::error_code& ec) {
    events_armed = false;
    if (!ec) flush_events();
  });
}

void server::impl::schedule_commit() {
  if (committing || !store->pending()) return;
  committing = true;
  // After the handlers of this turn: every message they finish joins.
  asio::post(io, [this] {
    std::shared_ptr<commit_group> g = store->take();
    auto done = [this, g] {
      store->complete(*g);
      committing = false;
      commit_done.cancel();  // every session waiting for this group goes on
      schedule_commit();     // the group that gathered meanwhile
    };
    if (!syncer) {
      store->write(*g);
      done();
      return;
    }
    asio::post(*syncer, [this, g, done] {
      store->write(*g);
      asio::post(io, done);
    });
  });
}

asio::awaitable<void> server::impl::await_commit() {
  schedule_commit();
  boost::system::error_code ec;
  co_await commit_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void server::impl::transcript_failed(const std::string& session, const std::string& path, int err) {
  std::string why = std::strerror(err);
  if (transcript_errors == 0 || why != transcript_error)
    std::cerr << "smtpkit serve: cannot write transcript " << path << ": " << why << "\n";
  ++transcript_errors;
  transcript_error = why;
  if (events.enabled())
    events.emit(
        {{"event", "output-error"}, {"session", session}, {"what", "transcript"}, {"path", path}, {"error", why}});
}

asio::awaitable<void> server::impl::accept_loop(std::size_t index) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptors[index].async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) {
      // Accepted just as the server began to stop: told like the queued ones.
      if (!ec) refuse(s, "421 4.3.2 " + cfg.hostname + " Service shutting down, try again later\r\n", "stopping");
      co_return;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) refuse_without_descriptors(index);
      // Out of descriptors or the like: back off instead of spinning.
      asio::steady_timer t(io, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    ++opened;
    if (sessions.size() >= cfg.max_sessions) {
      refuse(s, "421 4.3.2 " + cfg.hostname + " Too many sessions, try again later\r\n", "max-sessions");
      continue;
    }
    auto sess = std::make_unique<session>(*this, std::move(s), acceptor_tls[index], opened);
    sessions.insert(sess.get());
    asio::co_spawn(
        io, [sp = std::move(sess)]() -> asio::awaitable<void> { co_await sp->run(); }, asio::detached);
  }
}

void server::impl::start_accepting() {
  for (std::size_t i = 0; i < acceptors.size(); ++i) asio::co_spawn(io, accept_loop(i), asio::detached);
}

void server::impl::begin_shutdown() {
  if (stopping) return;
  stopping = true;
  stop_deadline = clock_type::now() + cfg.shutdown_grace;
  if (events.enabled()) events.emit({{"event", "stopping"}, {"sessions", sessions.size()}});
  drain_accept_queues();
  boost::system::error_code ec;
  for (auto& a : acceptors) a.close(ec);
  flush_events();
  for (auto& o : observers) o->stopping();
  // Sessions not in the middle of a message are told now; the others when
  // their message is done or the grace period ends.
  std::vector<session*> now(sessions.begin(), sessions.end());
  for (session* s : now)
    if (!s->busy()) s->shutdown();
  maybe_finish();
}

void server::impl::sweep() {
  const auto now = clock_type::now();
  std::vector<session*> list(sessions.begin(), sessions.end());
  for (session* s : list) {
    if (const char* why = s->overdue(now)) s->timeout(why);
    if (stopping && (!s->busy() || now > stop_deadline)) s->shutdown();
    if (stopping && now > stop_deadline + std::chrono::seconds(5)) s->timeout("shutdown");
  }
  flush_events();
  if (stopping && sessions.empty()) return;
  sweeper.expires_after(std::chrono::seconds(1));
  sweeper.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sweep();
  });
}

void server::impl::maybe_finish() {
  if (!stopping || !sessions.empty()) return;
  boost::system::error_code ec;
  sweeper.cancel();
  signals.cancel(ec);
  if (events_wait) events_wait->cancel(ec);  // run() drains the rest, with a deadline
}

server::server(server_config cfg, behaviour_factory factory)
    : p_(std::make_unique<impl>(std::move(cfg), std::move(factory))) {}
server::~server() = default;

const std::vector<bound_endpoint>& server::endpoints() const { return p_->bound; }

int server::run() {
  impl& s = *p_;
  std::signal(SIGPIPE, SIG_IGN);
  // A file over RLIMIT_FSIZE is a write error to report, not a reason to die.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::string capped = s.fit_sessions_to_descriptors();
  // First signal: stop accepting and let messages in progress finish. A
  // second one ends the grace period at once.
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&s, &on_signal](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (s.stopping) s.stop_deadline = clock_type::now();
    s.begin_shutdown();
    if (!s.sessions.empty()) s.signals.async_wait(on_signal);
  };
  if (s.cfg.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait(on_signal);
  }
  const bool talk = s.cfg.verbosity > 0;
  // Before "listening": a reader that waits for that line has this one too.
  if (!s.cfg.discard && talk) std::cerr << "smtpkit serve: storing messages in " << s.cfg.maildir << "\n";
  for (const auto& b : s.bound) {
    if (talk) std::cerr << "smtpkit serve: listening on " << describe(b) << "\n";
    if (s.events.enabled())
      s.events.emit({{"event", "listening"}, {"host", b.host}, {"port", b.port}, {"tls", b.implicit_tls}});
  }
  for (auto& [line, event] : s.announcements) {
    if (talk && !line.empty()) std::cerr << "smtpkit serve: " << line << "\n";
    if (s.events.enabled() && !event.empty()) s.events.emit(std::move(event));
  }
  if (s.tls.ctx && talk)
    std::cerr << "smtpkit serve: TLS certificate " << (s.tls.self_signed ? "(self-signed) " : "") << "SHA-256 "
              << s.tls.fingerprint << "\n";
  if (talk) std::cerr << capped;  // after the lines a starting script waits for; --quiet drops it
  if (s.events.enabled()) {
    json ready{{"event", "ready"}, {"pid", ::getpid()}, {"hostname", s.cfg.hostname}};
    if (s.tls.ctx) ready["tls_fingerprint"] = s.tls.fingerprint;
    ready["storage"] = s.cfg.discard ? std::string("discard") : s.cfg.maildir;
    if (!s.cfg.transcripts.empty()) ready["transcripts"] = s.cfg.transcripts;
    s.events.emit(std::move(ready));
  }
  s.flush_events();
  s.start_accepting();
  s.sweeper.expires_after(std::chrono::seconds(1));
  s.sweeper.async_wait([&s](const boost::system::error_code& ec) {
    if (!ec) s.sweep();
  });
  s.io.run();
  if (s.syncer) s.syncer->join();  // a group still being synced
  s.store->flush();                // and one nobody waited for
  // From here on the process is finishing: a late SIGTERM (a supervisor
  // repeating itself) must not turn a clean exit into a kill.
  sigset_t late;
  sigemptyset(&late);
  sigaddset(&late, SIGTERM);
  sigaddset(&late, SIGINT);
  pthread_sigmask(SIG_BLOCK, &late, nullptr);
  std::size_t counted = 0;
  if (s.cfg.fail_on)
    for (int l = 0; l < 4; ++l)
      if (conformance::counts(static_cast<conformance::level>(l), *s.cfg.fail_on)) counted += s.findings_by_level[l];
  if (s.events.enabled())
    s.events.emit({{"event", "stopped"},
                   {"sessions", s.opened},
                   {"findings",
                    {{"MUST", s.findings_by_level[0]},
                     {"SHOULD", s.findings_by_level[1]},
                     {"MAY", s.findings_by_level[2]},
                     {"ADVICE", s.findings_by_level[3]}}},
                   {"transcript_errors", s.transcript_errors},
                   {"store_errors", s.store->failures()}});
  // A reader that is behind gets a few seconds for the last events.
  s.events.drain(std::chrono::seconds(5));
  // What the user asked for and did not get is said, and fails the run.
  bool lost = false;
  if (std::string e = s.events.loss_summary(); !e.empty()) {
    std::cerr << "smtpkit serve: " << e << "\n";
    lost = true;
  }
  if (s.transcript_errors > 0) {
    std::cerr << "smtpkit serve: " << s.transcript_errors << " transcript" << (s.transcript_errors == 1 ? "" : "s")
              << " could not be written in full to " << s.cfg.transcripts << " (" << s.transcript_error << ")\n";
    lost = true;
  }
  if (auto n = s.store->failures(); n > 0)
    std::cerr << "smtpkit serve: " << n << " message" << (n == 1 ? "" : "s")
              << " could not be stored (the clients got 451): " << s.store->last_error() << "\n";
  if (lost) return 2;
  return counted > 0 ? 1 : 0;
}

void server::stop() {
  asio::post(p_->io, [this] { p_->begin_shutdown(); });
}

void server::watch(std::shared_ptr<server_observer> o) {
  impl& s = *p_;
  if (s.observers.empty()) {
    s.store = observe_store(std::move(s.store), [&s](const stored_message& m, const json& envelope) {
      for (auto& ob : s.observers) ob->message_stored(m, envelope);
    });
    s.events.set_tap([&s](const json& e) {
      for (auto& ob : s.observers) ob->event(e);
    });
  }
  s.observers.push_back(std::move(o));
}

void server::emit(nlohmann::ordered_json event) {
  asio::post(p_->io, [this, e = std::move(event)]() mutable {
    if (!p_->events.enabled()) return;
    p_->events.emit(std::move(e));
    p_->flush_events();
  });
}

void server::inject(nlohmann::ordered_json envelope, std::string content,
                    std::function<void(const stored_message&, const std::string&)> done) {
  asio::post(p_->io, [this, env = std::move(envelope), content = std::move(content), done = std::move(done)]() mutable {
    impl& s = *p_;
    auto w = s.store->begin();
    w->write(content);
    std::shared_ptr<commit_ticket> ticket;
    stored r = w->commit(env, ticket);
    auto finish = [&s, env, done](const stored& out) mutable {
      stored_message m;
      if (!out.ok) {
        s.store->note_failure(out.error);
        if (done) done(m, out.error.empty() ? std::string("not stored") : out.error);
        return;
      }
      m.session = env.value("session", std::string());
      m.id = out.id;
      m.path = out.path;
      m.envelope_path = out.envelope_path;
      m.size = out.size;
      m.sha256 = out.sha256;
      if (s.events.enabled()) {
        env["size"] = out.size;
        env["sha256"] = out.sha256;
        json ev{{"event", "message"},
                {"session", m.session},
                {"id", out.id},
                {"path", out.path},
                {"envelope_path", out.envelope_path}};
        if (!out.envelope_path.empty()) ev["envelope_offset"] = out.envelope_offset;
        ev["size"] = out.size;
        ev["sha256"] = out.sha256;
        ev["envelope"] = env;
        s.events.emit(std::move(ev));
        s.flush_events();
      }
      if (done) done(m, {});
    };
    if (!r.pending) return finish(r);
    // --durable: committed with the group of this turn of the loop.
    asio::co_spawn(
        s.io,
        [&s, ticket, finish]() mutable -> asio::awaitable<void> {
          while (!ticket->done) co_await s.await_commit();
          finish(ticket->result);
        },
        asio::detached);
  });
}

void server::follow_events(bool on) {
  p_->event_followers += on ? 1 : -1;
  p_->events.tapping(p_->event_followers > 0);
}

void server::announce(std::string line, nlohmann::ordered_json event) {
  p_->announcements.emplace_back(std::move(line), std::move(event));
}

boost::asio::io_context& server::io() { return p_->io; }
boost::asio::ssl::context* server::tls_context() { return p_->tls.ctx.get(); }
const server_config& server::config() const { return p_->cfg; }

}  // namespace smtpkit::mock
