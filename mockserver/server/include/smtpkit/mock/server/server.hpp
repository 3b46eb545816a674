// smtpkit/mock/server/server.hpp — the mock SMTP server: Boost.Asio, one thread,
// many concurrent sessions, each a coroutine. It listens where it is told
// (port 0 picks a free port; the real one is reported), runs a behaviour per
// session (the reference ESMTP server unless a factory says otherwise),
// stores what it accepts, writes events and transcripts, checks each client
// with the conformance engine, and stops cleanly on SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "smtpkit/mock/common/endpoint.hpp"
#include "smtpkit/mock/server/behaviour.hpp"
#include "smtpkit/mock/server/config.hpp"

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

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace smtpkit::mock
