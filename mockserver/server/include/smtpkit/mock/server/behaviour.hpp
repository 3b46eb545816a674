// smtpkit/mock/server/behaviour.hpp — the seam between a connection and what the
// server says. A behaviour receives the client's octets and answers with
// actions (actions.hpp); it never touches a socket, so it is testable
// without the network and replaceable: the reference ESMTP server is one
// behaviour, a script is another that falls back to it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "smtpkit/conformance/rules.hpp"
#include "smtpkit/mock/server/actions.hpp"

namespace smtpkit::mock {

struct server_config;
class message_store;
class event_log;

/// What a behaviour may use of its session.
struct session_env {
  const server_config& cfg;
  message_store& store;
  event_log& events;
  std::string id;           ///< session id (also the transcript name)
  std::string peer;         ///< "127.0.0.1:54321"
  std::size_t ordinal = 0;  ///< 1 for the first session of this server, ...
  bool tls = false;
  std::string tls_version;
  std::string tls_cipher;
  bool tls_available = false;
  /// Counts a finding a behaviour made itself (a script's "script.mismatch")
  /// toward --fail-on, as the session does for the conformance engine's.
  std::function<void(conformance::level)> note_finding;
};

class behaviour {
 public:
  virtual ~behaviour() = default;
  /// Connection open (after the TLS handshake for implicit TLS).
  virtual void greet(actions& out) = 0;
  /// Octets from the client, in any piece sizes.
  virtual void receive(std::string_view octets, actions& out) = 0;
  /// The handshake asked for by a start_tls action completed.
  virtual void tls_started(actions& out) = 0;
  /// The client closed its side.
  virtual void peer_closed() {}
  /// Idle or total timeout: last words before the session closes.
  virtual void timed_out(actions& out) = 0;
  /// The server is stopping and the grace period is over.
  virtual void shutting_down(actions& out) = 0;
  /// Octets held between calls (bounded by the configured limits).
  [[nodiscard]] virtual std::size_t buffered() const = 0;
  /// True while a message is being received (shutdown waits for it).
  [[nodiscard]] virtual bool busy() const = 0;
};

}  // namespace smtpkit::mock
