// smtpkit/mock/server/behaviour.hpp — the seam between a connection and what the
// server says. A behaviour receives the client's octets and answers with
// actions (actions.hpp); it never touches a socket, so it is testable
// without the network and replaceable: the reference ESMTP server is one
// behaviour, a script is another that falls back to it.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// What a session is waiting for from its client, for the deadlines of
/// --line-deadline and --min-data-rate (the session keeps the clock).
struct input_progress {
  enum class kind : std::uint8_t {
    nothing,  ///< between commands (only the idle timeout runs)
    line,     ///< the rest of a command line (or an over-long one being skipped)
    content,  ///< message data: DATA up to its final dot, or a BDAT chunk
  } what = kind::nothing;
  std::uint64_t records = 0;  ///< lines and transfers finished so far: a change starts a new deadline
  std::uint64_t octets = 0;   ///< of the content so far, up to --max-size
  bool over_limit = false;    ///< the content went past --max-size
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
  /// Where the client is in its input; a behaviour that does not say gets
  /// only the idle and session timeouts.
  [[nodiscard]] virtual input_progress progress() const { return {}; }
};

}  // namespace smtpkit::mock
