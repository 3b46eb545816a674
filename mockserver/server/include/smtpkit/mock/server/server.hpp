// smtpkit/mock/server/server.hpp — the mock SMTP server: Boost.Asio, one thread,
// many concurrent sessions, each a coroutine. It listens where it is told
// (port 0 picks a free port; the real one is reported), runs a behaviour per
// session (the reference ESMTP server unless a factory says otherwise),
// stores what it accepts, writes events and transcripts, checks each client
// with the conformance engine, and stops cleanly on SIGINT/SIGTERM.
// Observers (observer.hpp) watch it; other services of the same process (the
// HTTP view, POP3) run on its io_context and announce themselves at start.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "smtpkit/mock/common/endpoint.hpp"
#include "smtpkit/mock/server/behaviour.hpp"
#include "smtpkit/mock/server/config.hpp"
#include "smtpkit/mock/server/observer.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}  // namespace ssl
}  // namespace boost::asio

namespace smtpkit::mock {

class reference_server;

class server {
 public:
  /// Builds a behaviour for each session. `fallback` is the reference
  /// server for that session, already made; a factory may wrap it.
  using behaviour_factory =
      std::function<std::unique_ptr<behaviour>(session_env& env, std::unique_ptr<reference_server> fallback)>;

  /// Binds every listener, prepares TLS and storage; throws setup_error.
  explicit server(server_config cfg, behaviour_factory factory = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  [[nodiscard]] const std::vector<bound_endpoint>& endpoints() const;
  /// Serve until stop() or SIGINT/SIGTERM; returns the exit status
  /// (0, or 1 when fail_on is set and a client broke a rule at that level).
  int run();
  /// Thread-safe: ask run() to stop as on SIGTERM.
  void stop();

  /// Tell `o` what happens (call before run()).
  void watch(std::shared_ptr<server_observer> o);
  /// Build the JSON event stream for the observers too, even without
  /// --events (it costs a JSON object per command and reply).
  void follow_events(bool on);
  /// Another service of this process: before "ready", `line` goes to the
  /// console (unless quiet) and `event` to the event stream.
  void announce(std::string line, nlohmann::ordered_json event);
  /// Thread-safe: an event for the stream (and the observers that follow
  /// it), from another part of the process (the relay's "relay" events).
  void emit(nlohmann::ordered_json event);
  /// Thread-safe: stores a message the process made itself (a delivery
  /// status notification) as if a session had received it: in the store
  /// with `envelope` (the "message" event's layout; "session" names the
  /// maker), seen by every observer, and said in a "message" event. `done`
  /// runs on the server's thread with the stored message, or with an empty
  /// id and the reason when it could not be stored.
  void inject(nlohmann::ordered_json envelope, std::string content,
              std::function<void(const stored_message&, const std::string& error)> done);
  /// The server's one thread: other services run their I/O on it.
  [[nodiscard]] boost::asio::io_context& io();
  /// The TLS context of STARTTLS and --tls-listen (null when TLS is off).
  [[nodiscard]] boost::asio::ssl::context* tls_context();
  [[nodiscard]] const server_config& config() const;

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace smtpkit::mock
