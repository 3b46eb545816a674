// http_server.hpp — a small HTTP/1.1 server (RFC 9112) with WebSocket
// endpoints (RFC 6455), on Boost.Beast, running on the SMTP server's own
// io_context (one thread): the transport of the web view and its APIs.
// Handlers are synchronous functions from a request to a response; a
// WebSocket endpoint is a hub that broadcasts to its clients.
//
// Limits, so that no browser or API client can slow the SMTP sessions that
// share the thread: request header 16 KiB, body 1 MiB (413 beyond), at most
// `max_connections` connections (503 beyond), idle connections closed after
// 60 s; each WebSocket client may have 1 MiB (or 1,024 messages) waiting to
// be sent, and a client that falls further behind is disconnected (it
// reconnects and reloads) instead of being waited for. Large responses (a
// raw message) are streamed from their file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "smtpkit/mock/common/endpoint.hpp"

namespace boost::asio {
class io_context;
}

namespace smtpkit::mock::view {

struct http_request {
  std::string method;                        ///< "GET", "PUT", ...
  std::string path;                          ///< percent-decoded, without the query
  std::map<std::string, std::string> query;  ///< decoded; a repeated key keeps the last
  std::string body;
  std::string host;          ///< the Host header
  std::string content_type;  ///< the Content-Type header
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string file;  ///< when set, the body is this file (streamed)
  std::map<std::string, std::string> headers;

  static http_response text(unsigned status, std::string body, std::string type = "text/plain; charset=utf-8") {
    http_response r;
    r.status = status;
    r.content_type = std::move(type);
    r.body = std::move(body);
    return r;
  }
};

class ws_client;

/// The clients of one WebSocket endpoint.
class ws_hub {
 public:
  /// `on_count(n)` is called whenever the number of clients changes.
  explicit ws_hub(std::function<void(std::size_t)> on_count = {}) : on_count_(std::move(on_count)) {}
  void broadcast(const std::string& text);
  [[nodiscard]] std::size_t size() const { return clients_.size(); }
  [[nodiscard]] bool empty() const { return clients_.empty(); }

  // http_server's side.
  void join(const std::shared_ptr<ws_client>& c);
  void leave(const std::shared_ptr<ws_client>& c);
  void close_all();

 private:
  std::set<std::shared_ptr<ws_client>> clients_;
  std::function<void(std::size_t)> on_count_;
};

struct http_limits {
  std::size_t max_connections = 64;
  std::size_t header_limit = 16u << 10;
  std::size_t body_limit = 1u << 20;
  std::size_t ws_queue_octets = 1u << 20;
  std::size_t ws_queue_messages = 1024;
};

class http_server {
 public:
  using handler = std::function<http_response(const http_request&)>;

  /// Binds now (port 0: a free port); throws setup_error.
  http_server(boost::asio::io_context& io, const std::string& host, std::uint16_t port, handler h, http_limits l = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// A WebSocket endpoint at `path` (GET with Upgrade: websocket).
  void websocket(const std::string& path, ws_hub& hub);
  [[nodiscard]] const bound_endpoint& endpoint() const;
  /// Accept connections (once the io_context runs).
  void start();
  /// Close the listener and every connection.
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> p_;
};

/// "%41" → "A"; with `plus`, "+" → " " (query strings).
std::string percent_decode(std::string_view s, bool plus);

}  // namespace smtpkit::mock::view
