// smtpkit/mock/server/observer.hpp — what a running server tells those who
// watch it: the console, the web view and its REST API, the POP3 mailbox.
// An observer sees each session's octets exactly as they crossed the wire
// (the transcript's source: RFC 5321 dialogue, STARTTLS of RFC 3207, who
// closed), each finding, and each message as it is committed.
//
// Limits: every call comes on the server's one thread, in the middle of an
// SMTP session's I/O step, so an observer must only note what it is told and
// return: no blocking I/O, no parsing of messages here. The full JSON event
// stream (docs/serve.md) costs a JSON object per command and reply, so it
// is built only while someone asks for it (server::follow_events).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {

/// A message the store committed (before the client got its 250).
struct stored_message {
  std::string session;        ///< session id, "s000001"
  std::string id;             ///< queue id, as in "250 2.0.0 Ok: queued as ID"
  std::string path;           ///< message file; empty with --discard
  std::string envelope_path;  ///< envelope JSON file; empty with --discard
  std::uint64_t size = 0;
  std::string sha256;
};

/// One session, seen from outside. Made when the connection is accepted,
/// destroyed after ended().
class session_tap {
 public:
  virtual ~session_tap() = default;
  /// Octets one side sent, in wire order (after TLS decryption).
  virtual void octets(side who, std::string_view bytes) = 0;
  /// Both sides start TLS here (after the 220 to STARTTLS, or at connect).
  virtual void tls_started() = 0;
  /// That side closed the connection.
  virtual void closed(side who) = 0;
  /// A finding about this session: the "finding" event (docs/serve.md), and
  /// whose octet stream its "offset" counts in.
  virtual void finding(const nlohmann::ordered_json& event, side anchor) = 0;
  /// The session is over; `findings` in all.
  virtual void ended(std::size_t findings) = 0;
};

class server_observer {
 public:
  virtual ~server_observer() = default;
  /// A connection was accepted (`tls`: on an implicit-TLS listener). May
  /// return null when this observer does not follow sessions.
  virtual std::unique_ptr<session_tap> session_opened(const std::string& id, const std::string& peer, bool tls) = 0;
  /// A message was committed by the store; `envelope` as in the "message"
  /// event, with size and sha256.
  virtual void message_stored(const stored_message& m, const nlohmann::ordered_json& envelope) = 0;
  /// Every event of the JSON stream, while the server follows events.
  virtual void event(const nlohmann::ordered_json&) {}
  /// The server stops accepting (SIGINT/SIGTERM or stop()).
  virtual void stopping() {}
};

}  // namespace smtpkit::mock
