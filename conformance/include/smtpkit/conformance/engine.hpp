// smtpkit/conformance/engine.hpp — the dialogue conformance engine.
//
// One engine per SMTP session. It is fed events — client octets, server
// octets, TLS start, close — in the order they happened and in any piece
// sizes, from any source: a transcript file, the mock server live, the
// client driver live. It tracks what each side may do next (greeting,
// EHLO/HELO, the MAIL → RCPT → DATA/BDAT transaction, RSET, STARTTLS,
// AUTH, QUIT, 421) with the extensions in force only after the server
// advertised them, matches replies to commands by counting (RFC 2920 §3.1),
// and reports every rule broken, by either side, as a finding.
//
// Verdicts on the client are made from what the client knew when it sent a
// command: the replies it had received, with commands still awaiting a
// reply assumed to succeed (pipelining). Verdicts on the server use the
// state its replies established.
//
// Known limits: after a server ends DATA at a smuggling variant (or replies
// in the middle of the data), the two sides no longer agree on the stream;
// the engine reports it once, keeps matching replies by counting, and from
// then on gives no verdict that rests on which reply answers which command
// (reply codes, lock-step and pipelining, unanswered commands, the close).
// A client line that holds a bare LF or CR is paired with replies as the
// replies show the server framed it: answered before its CRLF, or with one
// reply per piece and nothing else to answer, the server split it at the
// bare terminator (judged by server.line.bare-lf-accepted); one reply and
// then the client's next command, a close or TLS: the server read one line.
// When the client pipelined more commands behind such a line before its
// first reply, counting cannot tell the two apart: the engine takes the
// server to have read one line and, as after a desync, gives no verdict
// that rests on which reply answers which command from then on. Memory per session is
// bounded by the framer limits and `max_buffered`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/command.hpp"
#include "smtpkit/conformance/rules.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::conformance {

struct finding {
  int rule = -1;               ///< index into catalogue()
  side anchor = side::client;  ///< whose octets the finding points at
  std::uint64_t offset = 0;    ///< position in that side's stream
  std::string message;         ///< what exactly happened
  std::string excerpt;         ///< the line concerned, escaped (may be empty)
  std::size_t line = 0;        ///< transcript line, filled by check_transcript

  // Set by a policy (policy.hpp), never by the engine.
  std::optional<level> lvl_override;  ///< the level it counts at instead of its rule's
  std::string level_by;               ///< where that level was set (".smtpkit.yaml:7", "--level")
  std::string waived;                 ///< why it does not count; empty: it counts
  std::string waived_by;              ///< where the waiver was given

  [[nodiscard]] const struct rule& r() const { return catalogue()[static_cast<std::size_t>(rule)]; }
  /// The level it counts at: its rule's, unless a policy set another.
  [[nodiscard]] level lvl() const { return lvl_override.value_or(r().lvl); }
  /// True when it counts under a --fail-on threshold: not waived, at or above it.
  [[nodiscard]] bool counts(level fail_on) const { return waived.empty() && conformance::counts(lvl(), fail_on); }
};

/// A reply matched with what it answered: the unit of state coverage
/// (AFLNet's states, here from the engine's own session state). The state
/// is what the server's replies had established before this reply.
struct exchange {
  enum class kind : std::uint8_t { greeting, command, data_end, bdat_chunk, auth_response, unsolicited };
  kind what = kind::command;
  verb v = verb::unknown;  ///< the command (kind::command), else verb::unknown
  std::uint16_t code = 0;  ///< 0: unreadable
  /// Bits: 0 hello, 1 EHLO (not HELO), 2 TLS, 3 authenticated, 4-5 the
  /// transaction (0 none, 1 MAIL accepted, 2 a RCPT accepted), 6 a BDAT
  /// chunk sent in this transaction, 7 the two sides disagree on the stream.
  std::uint8_t state = 0;
};

struct engine_options {
  bool judge_client = true;
  bool judge_server = true;
  /// Octets of one side held while the other side is awaited (e.g. data a
  /// client sent before 354); beyond this they are dropped and reported.
  std::size_t max_buffered = 1u << 20;
  /// Stored occurrences per rule; further ones are only counted.
  std::size_t max_per_rule = 20;
};

class engine {
 public:
  explicit engine(engine_options opts = {});
  ~engine();
  engine(engine&&) noexcept;
  engine& operator=(engine&&) noexcept;

  void client_bytes(std::string_view octets);
  void server_bytes(std::string_view octets);
  void tls_start();
  void close(side who);
  /// No more events: judge what is still open.
  void finish();

  [[nodiscard]] const std::vector<finding>& findings() const noexcept;
  /// Occurrences beyond max_per_rule, by rule index.
  [[nodiscard]] std::size_t suppressed(int rule) const noexcept;
  /// Rules whose check ran at least once (pass or fail), by index.
  [[nodiscard]] std::vector<int> applied() const;
  /// Called for each new finding as it is made (live use).
  void on_finding(std::function<void(const finding&)> fn);

  /// Called for each reply once matched (the greeting included).
  void on_exchange(std::function<void(const exchange&)> fn);
  /// Client commands (and data ends, chunks, SASL responses) the engine has
  /// framed that no reply has answered yet: what a client driver still waits
  /// for. A BDAT whose chunk is still incomplete is not counted.
  [[nodiscard]] std::size_t awaiting() const noexcept;
  /// Of those, the pieces of a line the client has not ended yet (its last
  /// piece ended by a bare CR or LF): a server that reads lines up to their
  /// CRLF owes nothing for them yet.
  [[nodiscard]] std::size_t awaiting_open() const noexcept;
  /// A reply to a line holding a bare CR or LF is held until the dialogue
  /// shows how the server framed that line (see above): the rest of that
  /// line is not counted in awaiting() meanwhile, since a server that read
  /// one line owes nothing more for it.
  [[nodiscard]] bool holding() const noexcept;
  /// Client command lines that held a bare CR or LF so far: from the first,
  /// which reply answers which command rests on how the server framed it.
  [[nodiscard]] std::uint32_t bare_lines() const noexcept;
  /// How the server's replies framed those lines, as far as the dialogue
  /// showed it: at the bare terminator (a reply before the CRLF, or one
  /// per piece), or as one line up to the CRLF. Guesses are not counted.
  struct bare_framing {
    std::uint32_t split = 0;
    std::uint32_t whole = 0;
  };
  [[nodiscard]] bare_framing framing() const noexcept;
  /// The oldest of those, as an escaped excerpt ("VRFY \"a b\""); "" when none.
  [[nodiscard]] std::string first_awaiting() const;

  /// The extensions the server advertised in its current EHLO response.
  [[nodiscard]] bool advertised(extension e) const noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace smtpkit::conformance
