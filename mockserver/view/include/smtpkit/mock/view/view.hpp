// smtpkit/mock/view/view.hpp — `smtpkit serve` for people: what a running
// mock server received and how each client talked, shown over
//   * HTTP (--http): Mailpit's REST API v1 (the part tests use), smtpkit's
//     own API (sessions with their transcripts and findings, the event
//     stream, scripts and Mailpit's Chaos triggers set at run time), and a
//     web page (inbox, message, session ladder) compiled into the binary;
//   * POP3 (--pop3, RFC 1939 with CAPA of RFC 2449 and STLS of RFC 2595):
//     the Maildir for real mail clients.
// docs/serve.md describes both.
//
// Design: the view watches the server through its observer hooks
// (observer.hpp) and runs on the server's one thread, so it needs no locks;
// it reads messages from the Maildir files the store wrote, parses them
// only when asked (never on the SMTP path), and bounds what it keeps and
// what it queues for slow browsers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock::view {

/// The scripts sessions play: those of the command line (--script) and
/// those set while the server runs (Mailpit's Chaos triggers, PUT
/// /api/smtpkit/script). New sessions play the run-time ones first.
class runtime_scripts {
 public:
  explicit runtime_scripts(std::vector<script> fixed);
  /// The factory to build the server with.
  server::behaviour_factory factory();
  /// Replace the run-time script of `slot` ("chaos" or "api"); nullopt
  /// removes it. Rule counters of every script start over.
  void set(const std::string& slot, std::optional<script> s);
  [[nodiscard]] bool any() const;
  [[nodiscard]] bool fixed() const;

  struct state;

 private:
  std::shared_ptr<state> p_;
};

struct view_options {
  std::optional<listen_spec> http;
  std::optional<listen_spec> pop3;
};

class view {
 public:
  /// Binds the listeners now (throws setup_error), watches `srv` and
  /// announces the endpoints for its "ready".
  view(server& srv, view_options o, std::shared_ptr<runtime_scripts> scripts);
  ~view();
  view(const view&) = delete;
  view& operator=(const view&) = delete;

  struct state;

 private:
  std::shared_ptr<state> p_;
};

}  // namespace smtpkit::mock::view
