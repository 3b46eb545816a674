// smtpkit/fuzz/server_fuzz.hpp — `smtpkit fuzz server`: black-box fuzzing of
// someone else's SMTP server over TCP, TLS or a command's stdin/stdout, with
// the conformance engine as an oracle (docs/fuzzing.md, "Fuzzing your server").
//
// One session: connect (or start the command), read the greeting, send the
// dialogue write by write, after each write read the replies the engine
// says are owed (RFC 2920 §3.1 counting) up to the reply timeout (after a
// first reply that did not come, 50 ms: the two no longer count alike),
// then half-close and read to the server's close. What comes back is judged:
//
//   crash      the command died by a signal (or its shell said so, 128+N),
//              or printed a sanitizer report on stderr; over TCP, the
//              server closed or reset the session unasked and then did not
//              take a new connection and greet (a liveness session);
//   hang       a reply was owed, and neither it nor the close came within
//              the hang timeout after our half-close, the target alive;
//   violation  a finding of the engine on the server's side at or above
//              --fail-on (a 250 to a malformed command, an end of data at a
//              bare-LF variant, a 250 to RCPT without MAIL...).
//
// Feedback (AFLNet's state coverage, computed by the engine): each reply
// matched with what it answered, in the session state it came in, is a
// state; consecutive pairs are transitions. A dialogue that reaches a state,
// a transition or a finding no earlier one did joins the corpus.
//
// Findings are deduplicated (crashes by signal and top frames, or the last
// line printed before dying; hangs by the command left unanswered; violations
// by rule id and state), minimised (writes first, then lines, then octets)
// and written as transcripts that `smtpkit replay` reproduces.
//
// Limits: a TCP target shared by --jobs workers cannot tell which session
// killed it; minimisation replays the candidates one by one to find out. A
// hang costs the hang timeout each time it is tried, so hangs get a smaller
// minimisation budget. TLS: implicit TLS, or STARTTLS once at the start of
// every session; STARTTLS inside a mutated dialogue is sent as a command.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "smtpkit/conformance/report.hpp"
#include "smtpkit/fuzz/dialogue.hpp"
#include "smtpkit/mock/client/driver.hpp"

namespace smtpkit::fuzz {

enum class oracle : std::uint8_t { crash, hang, violation };
std::string_view to_string(oracle o) noexcept;

/// What counts as a finding: crashes only, crashes and hangs, or those and
/// the server's violations at MUST (or SHOULD) level.
enum class fail_level : std::uint8_t { crash, hang, must, should };
bool fail_level_from_string(std::string_view s, fail_level& out);

/// How long a fuzzing run has seen replies take: a decaying maximum over
/// its sessions (thread-safe). A reply that takes many times longer than
/// any recent one is not coming; waiting the full reply timeout for each
/// such stall is what made a fuzzer the bottleneck against a fast server.
class reply_latency {
 public:
  void observe(std::chrono::microseconds took) noexcept;
  /// The wait for an owed reply: eight times the recent worst, at least
  /// 5 ms, at most `ceiling` (the --timeout); the full `ceiling` until 64
  /// replies were seen.
  [[nodiscard]] std::chrono::milliseconds wait(std::chrono::milliseconds ceiling) const noexcept;

 private:
  std::atomic<std::uint64_t> worst_us_{0};
  std::atomic<std::uint32_t> seen_{0};
};

/// How the target frames a command line that holds a bare CR or LF, as a
/// run's sessions have shown it (the engine's `framing()`; thread-safe).
/// RFC 5321 §2.3.8 lets a server refuse such a line or read it as one line
/// up to its CRLF; such a server answers nothing before the CRLF and one
/// reply after it, and a session that waits each time for the replies a
/// splitting server would give spends most of its time waiting. Once the
/// target has shown it reads to the CRLF (8 times, and split a line at most
/// 1 time in 16), sessions stop waiting for those replies. A reply that
/// comes anyway is still read and judged, in the next read.
class framing_profile {
 public:
  void add(std::uint32_t split, std::uint32_t whole) noexcept;
  [[nodiscard]] bool reads_to_crlf() const noexcept;

 private:
  std::atomic<std::uint32_t> split_{0}, whole_{0};
};

struct session_options {
  mock::client_target target;
  /// Shared by a run's sessions: waits for replies scale with what the
  /// target has shown (null: always the reply timeout).
  reply_latency* latency = nullptr;
  /// Shared by a run's sessions too: what the target does with bare CR
  /// and LF (null: always wait).
  framing_profile* framing = nullptr;
  bool starttls = false;  ///< EHLO and STARTTLS before each dialogue
  std::string helo = "fuzz.smtpkit.test";
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reply_timeout{1000};  ///< for each owed reply
  std::chrono::milliseconds hang_timeout{3000};   ///< after our half-close
  /// Writes stop after this (the close and the hang timeout follow).
  std::chrono::milliseconds session_timeout{20000};
  fail_level fail_on = fail_level::must;
};

/// One session's result.
struct session_result {
  bool connected = false;  ///< false: no connection, no command (`error` says why)
  std::string error;
  bool crashed = false;
  bool hung = false;
  bool stalled = false;         ///< an owed reply did not come within the reply timeout (the session went on)
  bool closed_unasked = false;  ///< TCP: the server closed or reset before our close, without 221/421
  std::string crash_signature;  ///< "SIGSEGV in f g h", "exit 1: AddressSanitizer heap-buffer-overflow ..."
  std::string crash_detail;     ///< the end of stderr
  std::string hang_at;          ///< the command (escaped excerpt) a reply was owed to
  std::string hang_state;       ///< the state the session was in then ("mail/ehlo,rcpt")
  std::vector<conformance::finding> violations;  ///< server side, at --fail-on, one per key
  std::vector<std::string> violation_keys;       ///< rule id + state, parallel to `violations`
  std::vector<std::uint64_t> features;           ///< states, transitions, findings
  std::string transcript;                        ///< the live dialogue
  std::size_t replies = 0;
};

/// Plays `d` against the target once.
[[nodiscard]] session_result run_session(const dialogue& d, const session_options& o);

struct fuzz_options {
  session_options session;
  std::vector<std::string> seeds;  ///< files or folders of transcripts
  std::string out_dir;             ///< corpus/, crashes/, hangs/, violations/, stats.json
  mutator_kind mutator = mutator_kind::grammar;
  std::uint64_t seed = 0;
  std::chrono::seconds max_time{0};  ///< 0: no limit
  std::uint64_t max_sessions = 0;    ///< 0: no limit
  unsigned jobs = 1;
  std::string restart;  ///< TCP: command that brings a dead target back
  bool minimise = true;
  std::chrono::seconds minimise_time{60};   ///< per finding
  bool progress = false;                    ///< a line on stderr at most once a second
  const std::atomic<bool>* stop = nullptr;  ///< set (by SIGINT) to end the run, keeping what it found
};

struct found {
  oracle kind = oracle::crash;
  std::string key;    ///< what deduplicates it
  std::string title;  ///< "crash: SIGABRT ...", "violation server.reply.code: ..."
  std::string rule;   ///< violations: the rule id
  conformance::level lvl = conformance::level::must;
  std::string file;  ///< the reproducer
  double at_s = 0;   ///< seconds into the run when first seen
  std::uint64_t session = 0;
  std::size_t octets = 0;  ///< the reproducer's client octets after minimisation
  std::string transcript;  ///< the reproducer's dialogue
};

struct fuzz_stats {
  std::uint64_t sessions = 0;
  double elapsed_s = 0;
  std::size_t corpus = 0;
  std::size_t seeds = 0;
  std::size_t features = 0;
  std::uint64_t errors = 0;   ///< sessions without a connection
  std::uint64_t stalled = 0;  ///< sessions that waited out the reply timeout at least once
  std::vector<found> flaky;   ///< seen once, not seen again when replayed: kept in DIR/flaky/, not counted
  std::uint64_t restarts = 0;
  bool target_lost = false;  ///< the target died and could not be brought back
  std::string stopped_by;    ///< "time", "sessions", "signal", "target lost"
  std::vector<found> findings;
  /// Client fuzzing: rules the client broke on an unmutated session (not
  /// the fuzzer's findings; `smtpkit probe client` reports them).
  std::vector<std::string> baseline;
};

/// Runs the fuzzer; errors that stop it before it starts (no seeds, an
/// unwritable folder, no target) come back in `error`.
fuzz_stats fuzz_server(const fuzz_options& o, std::string& error);

/// What a run's stats and report say about it.
struct run_info {
  std::string tool;     ///< "smtpkit fuzz server"
  std::string target;   ///< the target's description
  std::string mutator;  ///< "grammar", "bytes", "replies"
  std::uint64_t seed = 0;
  unsigned jobs = 1;
  side judged = side::server;  ///< whose violations the findings are
};
run_info describe_run(const fuzz_options& o);

/// The stats as the JSON of DIR/stats.json.
std::string stats_json(const fuzz_stats& s, const run_info& o);

/// The run as a report (one case per finding, its reproducer the case's file).
conformance::report fuzz_report(const fuzz_stats& s, const run_info& o);

}  // namespace smtpkit::fuzz
