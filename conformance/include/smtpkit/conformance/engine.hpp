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
// first reply, counting cannot tell the two apart and the engine takes the
// server to have read one line. Memory per session is
// bounded by the framer limits and `max_buffered`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

  /// The extensions the server advertised in its current EHLO response.
  [[nodiscard]] bool advertised(extension e) const noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace smtpkit::conformance
