// pop3.cpp — POP3 over the mailbox (pop3.hpp): RFC 1939, RFC 2449, RFC 2595.
#include "pop3.hpp"

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

namespace smtpkit::mock::view {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_connections = 32;
constexpr std::size_t max_line = 255;  // RFC 2449 §4, CRLF included
constexpr auto autologout = 10min;     // RFC 1939 §3: at least 10 minutes

// The message as POP3 sends it: every line ended by CRLF (a bare LF or CR
// becomes CRLF), the whole ending in CRLF. Dot stuffing comes later.
std::string as_lines(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 32 + 2);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)) out += "\r\n";
  return out;
}

// RFC 1939 §3: a line starting with "." gets another; the response ends
// with ".". `max_body_lines` (TOP) counts lines after the header's blank line.
std::string multiline(std::string_view text, long max_body_lines = -1) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_body = false;
  long body_lines = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find("\r\n", at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    if (in_body && max_body_lines >= 0 && body_lines >= max_body_lines) break;
    if (!line.empty() && line.front() == '.') out += '.';
    out += line;
    out += "\r\n";
    if (in_body) ++body_lines;
    if (!in_body && line.empty()) in_body = true;
    if (end == std::string_view::npos) break;
    at = end + 2;
  }
  out += ".\r\n";
  return out;
}

struct drop_entry {
  std::string id;
  std::string path;
  std::uint64_t size = 0;  // as sent
  bool deleted = false;
};

}  // namespace

struct pop3_server::impl : std::enable_shared_from_this<pop3_server::impl> {
  impl(server& s, mailbox& b, on_delete d) : srv(s), box(b), deleted(std::move(d)), acceptor(s.io()), sweeper(s.io()) {}

  server& srv;
  mailbox& box;
  on_delete deleted;
  tcp::acceptor acceptor;
  asio::steady_timer sweeper;
  bound_endpoint bound;
  bool stopped = false;

  struct conn;
  std::set<conn*> conns;

  struct conn {
    impl& srv;
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;
    std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
    std::string in;
    std::string user;
    bool authed = false;
    std::vector<drop_entry> drop;

    conn(impl& s, tcp::socket so) : srv(s), sock(std::move(so)) {}

    asio::awaitable<bool> send(std::string_view text) {
      boost::system::error_code ec;
      if (tls)
        co_await asio::async_write(*tls, asio::buffer(text.data(), text.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
      else
        co_await asio::async_write(sock, asio::buffer(text.data(), text.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec;
    }

    asio::awaitable<std::size_t> receive(char* buf, std::size_t n) {
      boost::system::error_code ec;
      std::size_t got =
          tls ? co_await tls->async_read_some(asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec))
              : co_await sock.async_read_some(asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
      co_return ec ? 0 : got;
    }

    drop_entry* message(const std::string& arg) {
      if (arg.empty() || arg.size() > 9 || !std::all_of(arg.begin(), arg.end(), ::isdigit)) return nullptr;
      const std::size_t n = std::stoul(arg);
      if (n == 0 || n > drop.size() || drop[n - 1].deleted) return nullptr;
      return &drop[n - 1];
    }

    bool login(const std::string& password) {
      const auto& users = srv.srv.config().users;
      if (users.empty()) return true;
      return std::any_of(users.begin(), users.end(),
                         [&](const user_entry& u) { return u.name == user && u.password == password; });
    }

    void open_maildrop() {
      drop.clear();
      // Oldest first, as mail clients number them.
      auto list = srv.box.newest_first();
      for (auto it = list.rbegin(); it != list.rend(); ++it) {
        const mail& m = **it;
        auto raw = srv.box.raw(m);
        if (!raw) continue;
        drop.push_back({m.id, m.path, as_lines(*raw).size(), false});
      }
    }

    std::string content(const drop_entry& d) {
      const mail* m = srv.box.find(d.id);
      if (m == nullptr) return {};
      auto raw = srv.box.raw(*m);
      return raw ? as_lines(*raw) : std::string();
    }

    // One command; the reply to send. `quit`: close after it; `stls`: start TLS after it.
    std::string command(std::string_view line, bool& quit, bool& stls) {
      std::string verb, arg;
      const std::size_t sp = line.find(' ');
      verb = std::string(line.substr(0, sp));
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (sp != std::string_view::npos) arg = std::string(line.substr(sp + 1));
      std::string arg2;
      if (const std::size_t sp2 = arg.find(' '); sp2 != std::string::npos && verb != "PASS") {
        arg2 = arg.substr(sp2 + 1);
        arg.resize(sp2);
      }

      if (verb == "CAPA") {
        std::string caps =
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
        if (!authed) caps += "USER\r\n";
        if (!authed && !tls && srv.srv.tls_context() != nullptr) caps += "STLS\r\n";
        caps += "IMPLEMENTATION smtpkit\r\n.\r\n";
        return caps;
      }
      if (verb == "QUIT") {
        quit = true;
        if (!authed) return "+OK smtpkit POP3 server signing off\r\n";
        std::vector<std::string> gone;
        for (const auto& d : drop)
          if (d.deleted && srv.box.remove(d.id)) gone.push_back(d.id);
        if (!gone.empty() && srv.deleted) srv.deleted(gone);
        return "+OK smtpkit POP3 server signing off (" + std::to_string(gone.size()) + " messages deleted)\r\n";
      }
      if (verb == "NOOP" && authed) return "+OK\r\n";
      if (!authed) {
        if (verb == "STLS") {
          if (tls) return "-ERR TLS already active\r\n";
          if (srv.srv.tls_context() == nullptr) return "-ERR STLS not available\r\n";
          stls = true;
          return "+OK Begin TLS negotiation\r\n";
        }
        if (verb == "USER") {
          if (arg.empty()) return "-ERR USER needs a name\r\n";
          user = arg;
          return "+OK\r\n";
        }
        if (verb == "PASS") {
          if (user.empty()) return "-ERR USER first\r\n";
          if (!login(arg)) {
            user.clear();
            return "-ERR [AUTH] invalid user name or password\r\n";
          }
          authed = true;
          open_maildrop();
          std::uint64_t total = 0;
          for (const auto& d : drop) total += d.size;
          return "+OK " + user + "'s maildrop has " + std::to_string(drop.size()) + " messages (" +
                 std::to_string(total) + " octets)\r\n";
        }
        if (verb == "APOP" || verb == "AUTH") return "-ERR not supported: use USER and PASS\r\n";
        return "-ERR not allowed before login\r\n";
      }
      if (verb == "STAT") {
        std::size_t n = 0;
        std::uint64_t total = 0;
        for (const auto& d : drop)
          if (!d.deleted) {
            ++n;
            total += d.size;
          }
        return "+OK " + std::to_string(n) + " " + std::to_string(total) + "\r\n";
      }
      if (verb == "LIST" || verb == "UIDL") {
        auto value = [&](std::size_t i) { return verb == "LIST" ? std::to_string(drop[i].size) : drop[i].id; };
        if (!arg.empty()) {
          drop_entry* d = message(arg);
          if (d == nullptr) return "-ERR no such message\r\n";
          return "+OK " + arg + " " + value(static_cast<std::size_t>(d - drop.data())) + "\r\n";
        }
        std::string out = "+OK\r\n";
        for (std::size_t i = 0; i < drop.size(); ++i)
          if (!drop[i].deleted) out += std::to_string(i + 1) + " " + value(i) + "\r\n";
        return out + ".\r\n";
      }
      if (verb == "RETR" || verb == "TOP") {
        drop_entry* d = message(arg);
        if (d == nullptr) return "-ERR no such message\r\n";
        long lines = -1;
        if (verb == "TOP") {
          if (arg2.empty() || arg2.size() > 9 || !std::all_of(arg2.begin(), arg2.end(), ::isdigit))
            return "-ERR TOP needs a message and a number of lines\r\n";
          lines = std::stol(arg2);
        }
        std::string text = content(*d);
        if (text.empty()) return "-ERR message was deleted\r\n";
        if (verb == "RETR")
          if (const mail* m = srv.box.find(d->id); m != nullptr && !m->read) srv.box.set_read(d->id, true);
        return "+OK " + std::to_string(d->size) + " octets\r\n" + multiline(text, lines);
      }
      if (verb == "DELE") {
        drop_entry* d = message(arg);
        if (d == nullptr) return "-ERR no such message\r\n";
        d->deleted = true;
        return "+OK message " + arg + " deleted\r\n";
      }
      if (verb == "RSET") {
        for (auto& d : drop) d.deleted = false;
        return "+OK\r\n";
      }
      if (verb == "STLS" || verb == "USER" || verb == "PASS") return "-ERR already logged in\r\n";
      return "-ERR unknown command\r\n";
    }

    asio::awaitable<void> run() {
      boost::system::error_code ec;
      if (!co_await send("+OK smtpkit POP3 server ready\r\n")) co_return;
      char buf[4096];
      for (;;) {
        std::size_t n = co_await receive(buf, sizeof buf);
        if (n == 0) co_return;
        last = std::chrono::steady_clock::now();
        in.append(buf, n);
        std::string out;
        bool quit = false, stls = false;
        std::size_t at = 0;
        while (!quit && !stls) {
          std::size_t nl = in.find('\n', at);
          if (nl == std::string::npos) break;
          std::string_view line(in.data() + at, nl - at);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          at = nl + 1;
          if (line.size() + 2 > max_line) {
            out += "-ERR line too long\r\n";
            continue;
          }
          out += command(line, quit, stls);
        }
        in.erase(0, at);
        if (in.size() > max_line) {
          out += "-ERR line too long\r\n";
          quit = true;
        }
        if (!out.empty() && !co_await send(out)) co_return;
        if (quit) co_return;
        if (stls) {
          in.clear();  // RFC 2595 §4: nothing sent before the handshake counts
          tls = std::make_unique<ssl::stream<tcp::socket&>>(sock, *srv.srv.tls_context());
          co_await tls->async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return;
          user.clear();
        }
      }
    }
  };

  asio::awaitable<void> serve(tcp::socket s) {
    auto self = shared_from_this();
    conn c(*this, std::move(s));
    conns.insert(&c);
    co_await c.run();
    conns.erase(&c);
    boost::system::error_code ec;
    c.sock.shutdown(tcp::socket::shutdown_both, ec);
    c.sock.close(ec);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        asio::steady_timer t(srv.io(), 50ms);
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (conns.size() >= max_connections) {
        static constexpr std::string_view busy = "-ERR [SYS/TEMP] too many connections\r\n";
        s.non_blocking(true, ec);
        s.write_some(asio::buffer(busy.data(), busy.size()), ec);
        s.close(ec);
        continue;
      }
      asio::co_spawn(srv.io(), serve(std::move(s)), asio::detached);
    }
  }

  void sweep() {
    const auto now = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    for (conn* c : std::vector<conn*>(conns.begin(), conns.end()))
      if (now - c->last > autologout) c->sock.close(ec);
    sweeper.expires_after(30s);
    sweeper.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
      if (!e && !self->stopped) self->sweep();
    });
  }
};

pop3_server::pop3_server(server& srv, mailbox& box, const listen_spec& where, on_delete deleted)
    : p_(std::make_shared<impl>(srv, box, std::move(deleted))) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(where.host == "localhost" ? "127.0.0.1" : where.host, ec);
  if (ec)
    throw setup_error("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": not an IP address");
  tcp::endpoint ep(addr, where.port);
  auto& acc = p_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw setup_error("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": " + ec.message());
  p_->bound = {addr.to_string(), acc.local_endpoint().port(), false};
}

pop3_server::~pop3_server() { stop(); }

const bound_endpoint& pop3_server::endpoint() const { return p_->bound; }

void pop3_server::start() {
  asio::co_spawn(p_->srv.io(), p_->accept_loop(), asio::detached);
  p_->sweep();
}

void pop3_server::stop() {
  if (!p_ || p_->stopped) return;
  p_->stopped = true;
  boost::system::error_code ec;
  p_->acceptor.close(ec);
  p_->sweeper.cancel();
  for (auto* c : std::vector<impl::conn*>(p_->conns.begin(), p_->conns.end())) c->sock.close(ec);
}

}  // namespace smtpkit::mock::view
