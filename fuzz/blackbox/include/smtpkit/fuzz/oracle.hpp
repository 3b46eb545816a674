// smtpkit/fuzz/oracle.hpp — the violation oracle both server fuzzers share:
// `smtpkit fuzz server` (black box, session.cpp) and smtpkit::fuzz under
// libFuzzer (in process, fuzz/inprocess/). Each feeds one conformance
// engine per session, judging the server only (the client is the fuzzer,
// malformed on purpose), shows this oracle the client's octets and the
// matched replies too, and asks it, for every finding as the engine makes
// it, whether it counts against the server.
//
// Nothing counts once which reply answers which command rests on the
// engine's inference rather than on the dialogue:
//   - after a client command line with a bare CR or LF: how the server
//     framed that line (by CRLF, or at every bare terminator; a server may
//     do neither, RFC 5321 §2.3.8) is only inferred (engine::bare_lines());
//   - once the server has sent a 334 (a SASL exchange, RFC 4954 §4) and the
//     client's octets hold a bare CR or LF anywhere: the engine frames a
//     SASL response at a bare terminator without counting it among those
//     lines, so a server that read "response<CR><CR><LF>" as one line is
//     paired one reply off from there. Coarse on purpose (the octets may
//     have been message data): it costs verdicts, never gives a false one;
//   - once the server answered 2xx or 3xx to a line the engine could not
//     read as a command (an over-long line, say an AUTH PLAIN of 800 octets,
//     which RFC 4954 §4 allows up to 12288): the server took it as some
//     command whose effect (SASL exchange, DATA, BDAT) the engine cannot
//     follow, and pairs the later replies from its own reading;
//   - once a line the engine took for a SASL response got a positive reply
//     no SASL step has (354, 250...; RFC 4954 §4, §6 give 235, 334 and
//     failures): a command pipelined behind an AUTH the server refused was
//     read by the server as a command, by the engine as the response;
//   - once the client sent octets behind an AUTH line in the same write
//     (AUTH ends a pipelined group, RFC 4954 §4): whether the server read
//     them as its SASL response or, refusing AUTH, as commands, the engine
//     only guesses.
// Limits: bare line ends are judged by `smtpkit probe server` instead.
#pragma once

#include <string_view>

#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/conformance/rules.hpp"

namespace smtpkit::fuzz {

/// The engine options of a fuzzing session: the server is judged, the client not.
[[nodiscard]] conformance::engine_options oracle_engine_options();

class violation_oracle {
 public:
  /// level::must: MUST findings count; level::should: MUST and SHOULD.
  explicit violation_oracle(conformance::level fail_on) : fail_on_(fail_on) {}
  /// The client's octets, as the engine is given them.
  void client_bytes(std::string_view octets) noexcept;
  /// A reply the engine matched (engine::on_exchange).
  void exchange(const conformance::exchange& x) noexcept;
  /// False once which reply answers which command is only the engine's inference (above).
  [[nodiscard]] bool pairing_known(const conformance::engine& eng) const noexcept;
  /// True when `f`, just made by `eng`, is a violation of the server.
  [[nodiscard]] bool counts(const conformance::engine& eng, const conformance::finding& f) const;

 private:
  conformance::level fail_on_;
  bool cr_last_ = false;  // the last client octet was a CR (its LF may come in the next piece)
  bool bare_ = false;     // a bare CR or LF in the client's octets
  bool sasl_ = false;     // the server sent a 334
  bool unread_ = false;   // a positive reply to a line the engine could not read
};

}  // namespace smtpkit::fuzz
