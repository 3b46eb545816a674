// http_server.cpp — HTTP/1.1 and WebSocket on Boost.Beast (http_server.hpp).
#include "http_server.hpp"

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>

namespace smtpkit::mock::view {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// One WebSocket client: a bounded queue of text frames and one writer.
class ws_client : public std::enable_shared_from_this<ws_client> {
 public:
  ws_client(tcp::socket s, const http_limits& l) : ws_(std::move(s)), wake_(ws_.get_executor()), limits_(l) {
    wake_.expires_at(asio::steady_timer::time_point::max());
  }

  websocket::stream<beast::tcp_stream>& stream() { return ws_; }

  void push(const std::shared_ptr<const std::string>& text) {
    if (closed_) return;
    if (queue_.size() >= limits_.ws_queue_messages || queued_ + text->size() > limits_.ws_queue_octets) {
      // Too far behind: drop it rather than hold the thread or grow without end.
      close();
      return;
    }
    queued_ += text->size();
    queue_.push_back(text);
    wake_.cancel();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    wake_.cancel();
  }

  asio::awaitable<void> write_loop() {
    auto self = shared_from_this();
    boost::system::error_code ec;
    while (!closed_) {
      if (queue_.empty()) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      auto text = queue_.front();
      ws_.text(true);
      co_await ws_.async_write(asio::buffer(*text), asio::redirect_error(asio::use_awaitable, ec));
      queue_.pop_front();
      queued_ -= text->size();
      if (ec) close();
    }
  }

  // Clients say nothing the server needs; reading notices when they go.
  asio::awaitable<void> read_loop() {
    auto self = shared_from_this();
    beast::flat_buffer buf(4096);
    boost::system::error_code ec;
    while (!closed_) {
      co_await ws_.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      buf.consume(buf.size());
    }
    close();
  }

 private:
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer wake_;
  const http_limits limits_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_ = 0;
  bool closed_ = false;
};

void ws_hub::broadcast(const std::string& text) {
  if (clients_.empty()) return;
  auto shared = std::make_shared<const std::string>(text);
  // push() may close a client; the set is changed only by leave().
  for (const auto& c : std::vector<std::shared_ptr<ws_client>>(clients_.begin(), clients_.end())) c->push(shared);
}

void ws_hub::join(const std::shared_ptr<ws_client>& c) {
  clients_.insert(c);
  if (on_count_) on_count_(clients_.size());
}

void ws_hub::leave(const std::shared_ptr<ws_client>& c) {
  if (clients_.erase(c) != 0 && on_count_) on_count_(clients_.size());
}

void ws_hub::close_all() {
  for (const auto& c : std::vector<std::shared_ptr<ws_client>>(clients_.begin(), clients_.end())) c->close();
}

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
  impl(asio::io_context& io, handler h, http_limits l) : io(io), acceptor(io), on_request(std::move(h)), limits(l) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  handler on_request;
  http_limits limits;
  bound_endpoint bound;
  std::map<std::string, ws_hub*> sockets;
  std::set<beast::tcp_stream*> connections;
  bool stopped = false;

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        asio::steady_timer t(io, 50ms);
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (connections.size() >= limits.max_connections) {
        static constexpr std::string_view busy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: "
            "close\r\n\r\ntoo many connections\r\n";
        s.non_blocking(true, ec);
        s.write_some(asio::buffer(busy.data(), busy.size()), ec);
        s.close(ec);
        continue;
      }
      asio::co_spawn(io, connection(std::move(s)), asio::detached);
    }
  }

  static http_request to_request(const http::request<http::string_body>& r) {
    http_request q;
    q.method = std::string(r.method_string());
    std::string_view target(r.target().data(), r.target().size());
    const std::size_t qm = target.find('?');
    q.path = percent_decode(target.substr(0, qm), false);
    if (qm != std::string_view::npos) {
      std::string_view rest = target.substr(qm + 1);
      while (!rest.empty()) {
        std::string_view pair = rest.substr(0, rest.find('&'));
        rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        q.query[percent_decode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
      }
    }
    q.body = r.body();
    if (auto h = r.find(http::field::host); h != r.end()) q.host = std::string(h->value());
    if (auto h = r.find(http::field::content_type); h != r.end()) q.content_type = std::string(h->value());
    return q;
  }

  template <class Body>
  static void common_headers(http::response<Body>& m, const http_response& r, bool keep_alive) {
    m.set(http::field::server, "smtpkit");
    m.set(http::field::content_type, r.content_type);
    m.set(http::field::cache_control, "no-store");
    m.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) m.set(k, v);
    m.keep_alive(keep_alive);
  }

  asio::awaitable<void> connection(tcp::socket s) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(s));
    connections.insert(&stream);
    beast::flat_buffer buffer(limits.header_limit + limits.body_limit);
    boost::system::error_code ec;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
      parser.body_limit(limits.body_limit);
      stream.expires_after(60s);
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
        http::response<http::string_body> m{http::status::payload_too_large, 11};
        common_headers(m, http_response::text(413, "request too large\n"), false);
        m.body() = "request too large\n";
        m.prepare_payload();
        stream.expires_after(10s);
        co_await http::async_write(stream, m, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (ec) break;
      auto& req = parser.get();
      if (websocket::is_upgrade(req)) {
        std::string path(req.target().data(), req.target().size());
        path = path.substr(0, path.find('?'));
        auto it = sockets.find(path);
        if (it != sockets.end()) {
          connections.erase(&stream);
          co_await serve_websocket(stream.release_socket(), std::move(req), *it->second);
          co_return;
        }
      }
      http_response r;
      try {
        r = on_request(to_request(req));
      } catch (const std::exception& e) {
        r = http_response::text(500, std::string("internal error: ") + e.what() + "\n");
      }
      const bool keep = req.keep_alive() && !stopped;
      const bool head = req.method() == http::verb::head;
      stream.expires_after(60s);
      if (!r.file.empty()) {
        http::response<http::file_body> m{static_cast<http::status>(r.status), req.version()};
        common_headers(m, r, keep);
        m.body().open(r.file.c_str(), beast::file_mode::scan, ec);
        if (ec) {
          r = http_response::text(404, "not found\n");
        } else {
          m.prepare_payload();
          if (head) {
            http::response_serializer<http::file_body> sr{m};
            co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
          } else {
            co_await http::async_write(stream, m, asio::redirect_error(asio::use_awaitable, ec));
          }
          if (ec || !keep) break;
          continue;
        }
      }
      http::response<http::string_body> m{static_cast<http::status>(r.status), req.version()};
      common_headers(m, r, keep);
      m.body() = std::move(r.body);
      m.prepare_payload();
      if (head) m.body().clear();
      co_await http::async_write(stream, m, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    connections.erase(&stream);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.close();
  }

  asio::awaitable<void> serve_websocket(tcp::socket s, http::request<http::string_body> req, ws_hub& hub) {
    auto self = shared_from_this();
    if (stopped) co_return;
    auto c = std::make_shared<ws_client>(std::move(s), limits);
    auto& ws = c->stream();
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(4096);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "smtpkit"); }));
    boost::system::error_code ec;
    co_await ws.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stopped) co_return;
    hub.join(c);
    asio::co_spawn(io, c->write_loop(), asio::detached);
    co_await c->read_loop();
    hub.leave(c);
  }
};

http_server::http_server(asio::io_context& io, const std::string& host, std::uint16_t port, handler h, http_limits l)
    : p_(std::make_shared<impl>(io, std::move(h), l)) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw setup_error("cannot listen on " + host + ":" + std::to_string(port) + ": not an IP address");
  tcp::endpoint ep(addr, port);
  auto& acc = p_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw setup_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  p_->bound = {addr.to_string(), acc.local_endpoint().port(), false};
}

http_server::~http_server() { stop(); }

void http_server::websocket(const std::string& path, ws_hub& hub) { p_->sockets[path] = &hub; }

const bound_endpoint& http_server::endpoint() const { return p_->bound; }

void http_server::start() { asio::co_spawn(p_->io, p_->accept_loop(), asio::detached); }

void http_server::stop() {
  if (!p_ || p_->stopped) return;
  p_->stopped = true;
  boost::system::error_code ec;
  p_->acceptor.close(ec);
  for (auto* c : std::vector<beast::tcp_stream*>(p_->connections.begin(), p_->connections.end())) c->socket().close(ec);
  for (auto& [path, hub] : p_->sockets) hub->close_all();
}

std::string percent_decode(std::string_view s, bool plus) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace smtpkit::mock::view
