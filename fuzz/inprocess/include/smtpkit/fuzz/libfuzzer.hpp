// smtpkit/fuzz/libfuzzer.hpp — smtpkit::fuzz: structure-aware, oracle-checked
// libFuzzer harnesses for SMTP servers with a C or C++ entry point
// (docs/fuzzing.md, "In-process").
//
//   #include "smtpkit/fuzz/libfuzzer.hpp"
//   struct my_session : smtpkit::fuzz::server_session {
//     void greet(std::string& out) override { ... }                         // 220
//     void receive(std::string_view in, std::string& out) override { ... }  // bytes in, bytes out
//   };
//   std::unique_ptr<smtpkit::fuzz::server_session> make() { return std::make_unique<my_session>(); }
//   SMTPKIT_FUZZ_SERVER(make)
//
// Input: a dialogue, the client side of a session in the dialogue format
// (docs/dialogue-format.md) as to_transcript_text() writes it: "C:"/"C="
// records, "@pause" between two writes. A crash file therefore reads as a
// dialogue, and `smtpkit fuzz server --seeds FILE` takes it; the live
// session printed with a finding (server records too) is what `smtpkit
// check` and `smtpkit replay` take. Transcripts with server records are
// inputs too (the client's records between two server records make one
// write), so recorded sessions are seeds. Input that does not read as a
// transcript is one write of raw octets; the mutator starts an input that
// means no write (empty, comments only) from a minimal dialogue.
//
// Mutator: the grammar mutator of `smtpkit fuzz server` (dialogue.hpp:
// writes, fields through the grammar, state, lines, octets), plus
// libFuzzer's own byte mutator (which knows the comparisons the server
// made) on one write now and then. Crossover: the writes of one dialogue up
// to a point, then those of another from a point.
//
// Oracle: each input is played to a fresh session of the server, write by
// write; what it sends back is collected, and both directions feed the
// conformance engine (the server judged, not the client). A finding at the
// configured level (MUST by default) is a violation, unless the pairing of
// replies with commands is only the engine's inference by then (oracle.hpp:
// bare CR/LF lines and the like). A hang: once the client has closed, the
// engine counts a reply still owed (RFC 5321 §4.2: every command gets one;
// RFC 2920 §3.1 for pipelined groups), the server has not closed, did not
// say 221 or 421, and the two sides still agree on the stream.
// Limits: no TLS (a dialogue stops at "@tls"; STARTTLS is sent as a
// command); pauses are not waited out; a server must answer from within
// receive() (or client_closed()) — one that answers later, from a timer or
// another thread, reads as a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/conformance/rules.hpp"
#include "smtpkit/fuzz/dialogue.hpp"

namespace smtpkit::fuzz {

// ---- The server under test ----------------------------------------------------------------------------------------

/// One session of the server under test; the driver makes a fresh one per input.
class server_session {
 public:
  virtual ~server_session() = default;
  /// The client connected: append what the server sends first (its greeting) to `out`.
  virtual void greet(std::string& out) = 0;
  /// Octets from the client, one write at a time: append what the server sends back to `out`.
  virtual void receive(std::string_view in, std::string& out) = 0;
  /// The client closed its side after its last write; last octets to `out`.
  virtual void client_closed(std::string& out) { (void)out; }
  /// True once the server closed the connection (after 221 to QUIT, 421, ...): nothing more is sent to it.
  [[nodiscard]] virtual bool closed() const { return false; }
};

/// A server behind callables (a C entry point, a lambda): `receive` is
/// required, the others may be empty (no greeting, never closes).
struct session_callbacks {
  std::function<std::string()> greet;
  std::function<std::string(std::string_view)> receive;
  std::function<std::string()> client_closed;
  std::function<bool()> closed;
};
[[nodiscard]] std::unique_ptr<server_session> make_session(session_callbacks cb);

// ---- The driver and its oracle ------------------------------------------------------------------------------------

struct oracle_options {
  conformance::level fail_on = conformance::level::must;  ///< level::must or level::should
  bool hang = true;                                       ///< count a reply owed when the client closed
  std::vector<std::string> waive;                         ///< rule ids that do not count (known, being fixed)
};

/// `o` with what the environment says: SMTPKIT_FUZZ_FAIL_ON=must|should,
/// SMTPKIT_FUZZ_WAIVE=rule-id[,rule-id...] (added to o.waive).
[[nodiscard]] oracle_options with_environment(oracle_options o);

enum class verdict : std::uint8_t { clean, violation, hang };

struct check_result {
  verdict what = verdict::clean;
  conformance::finding finding;  ///< violation: the first that counted
  std::string hang_at;           ///< hang: the command left unanswered (escaped excerpt)
  std::string dialogue;          ///< found: the client side as transcript text (what the input means)
  std::string live;              ///< found: both sides as a transcript
  std::size_t writes = 0;        ///< writes sent
  std::size_t replies = 0;       ///< replies the engine matched (the greeting included)

  [[nodiscard]] bool found() const noexcept { return what != verdict::clean; }
};

/// The dialogue an input means: the transcript's client side, or, when the
/// text does not read as a transcript, its octets as one write.
[[nodiscard]] dialogue input_dialogue(std::string_view input);

/// Plays `d` to `s` (fresh) and judges what came back. Never aborts.
[[nodiscard]] check_result check_dialogue(server_session& s, const dialogue& d, const oracle_options& o = {});
[[nodiscard]] check_result check_input(server_session& s, std::string_view input, const oracle_options& o = {});

/// What a finding prints: the verdict (rule id, level, RFC section, what
/// happened, the octets concerned), the input dialogue and the live one.
[[nodiscard]] std::string describe(const check_result& r);

/// LLVMFuzzerTestOneInput's body: check_input, and on a finding print
/// describe() to stderr and abort, so libFuzzer keeps the input as a crash.
void check_or_abort(server_session& s, const std::uint8_t* data, std::size_t size, const oracle_options& o = {});

// ---- The mutator --------------------------------------------------------------------------------------------------

/// A byte-level mutator with LLVMFuzzerMutate's contract: mutates
/// data[0, size) in place within max_size octets and returns the new size.
using byte_mutator = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);

struct mutator_options {
  /// The dialogue's own limits: octets, writes, and no pauses (the driver does not wait).
  mutate_limits limits = {64 * 1024, 512, 0};
  byte_mutator bytes = nullptr;  ///< used on one write, one time in `bytes_one_in`; null: never
  unsigned bytes_one_in = 6;
};

/// libFuzzer's LLVMFuzzerMutate when linked with libFuzzer, else null.
[[nodiscard]] byte_mutator libfuzzer_byte_mutator() noexcept;

/// LLVMFuzzerCustomMutator's contract: the input in data[0, size) becomes
/// a mutated dialogue's transcript text of at most `max_size` octets
/// (returned size), which reads back as a transcript. Without a byte
/// mutator, one `seed` gives one result.
std::size_t custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const mutator_options& o = {});

/// LLVMFuzzerCustomCrossOver's contract: writes to `out` (at most
/// `max_out_size` octets) a dialogue made of the first writes of one input
/// and the last writes of the other; returns its size.
std::size_t custom_crossover(const std::uint8_t* data1, std::size_t size1, const std::uint8_t* data2, std::size_t size2,
                             std::uint8_t* out, std::size_t max_out_size, unsigned seed);

/// What SMTPKIT_FUZZ_SERVER's LLVMFuzzerCustomMutator and
/// LLVMFuzzerCustomCrossOver call: custom_mutate (with libFuzzer's byte
/// mutator on one write now and then) and custom_crossover; with
/// SMTPKIT_FUZZ_MUTATOR=bytes in the environment, libFuzzer's own byte
/// mutation of the whole input instead and no custom crossover (the
/// baseline: as if the harness defined neither).
std::size_t libfuzzer_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed);
std::size_t libfuzzer_crossover(const std::uint8_t* data1, std::size_t size1, const std::uint8_t* data2,
                                std::size_t size2, std::uint8_t* out, std::size_t max_out_size, unsigned seed);

}  // namespace smtpkit::fuzz

/// The whole harness: LLVMFuzzerTestOneInput (a fresh session from
/// `make_session_fn()` per input, checked with `options`, an
/// smtpkit::fuzz::oracle_options, and the environment's say: see
/// with_environment), LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver.
#define SMTPKIT_FUZZ_SERVER_WITH(make_session_fn, options)                                                          \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {                               \
    static const ::smtpkit::fuzz::oracle_options smtpkit_options = ::smtpkit::fuzz::with_environment(options);      \
    auto smtpkit_session = make_session_fn();                                                                       \
    ::smtpkit::fuzz::check_or_abort(*smtpkit_session, data, size, smtpkit_options);                                 \
    return 0;                                                                                                       \
  }                                                                                                                 \
  extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,        \
                                                 unsigned int seed) {                                               \
    return ::smtpkit::fuzz::libfuzzer_mutate(data, size, max_size, seed);                                           \
  }                                                                                                                 \
  extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,                    \
                                                   const std::uint8_t* data2, std::size_t size2, std::uint8_t* out, \
                                                   std::size_t max_out_size, unsigned int seed) {                   \
    return ::smtpkit::fuzz::libfuzzer_crossover(data1, size1, data2, size2, out, max_out_size, seed);               \
  }

/// The harness with the default oracle (violations at MUST, hangs).
#define SMTPKIT_FUZZ_SERVER(make_session_fn) \
  SMTPKIT_FUZZ_SERVER_WITH(make_session_fn, ::smtpkit::fuzz::oracle_options{})
