// smtpkit/mock/client/driver.hpp — the client driver: plays the client side
// of a script (or a recorded transcript) against a live server, over TCP,
// STARTTLS (RFC 3207, the script's @tls after a 220), implicit TLS
// (RFC 8314), or a command speaking SMTP on stdin/stdout (`exim -bs`).
//
// It sends the C records (captured values substituted), reads the server's
// replies and matches the S records against them, honours @pause, @rate and
// @split, runs the @smuggle end-of-data probe, and feeds every octet in
// both directions to the conformance engine, judging the server only (we
// are the client). The result says, per expectation, what was expected and
// what came; it carries the dialogue as a transcript and the engine's
// findings, mapped to the transcript's lines.
//
// Matching replies (docs/dialogue-format.md, "Playing the client side"):
//   S: TEXT      one reply line, exactly;
//   S~ PATTERN   a whole reply: its last line must match (so `S~ 250 {*}`
//                takes an EHLO response of any length), unless the pattern
//                begins "NNN-", which matches one continuation line;
//   S= OCTETS    exactly these octets.
// Replay compares recorded replies by code, or line by line (`exact`).
//
// Limits: one connection per play; every wait is bounded by the step
// timeout and the session timeout; a reply line over 64 KiB, or more than
// 1 MiB of replies nobody asked for, ends the play with an error; the
// transcript keeps at most 8 MiB.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smtpkit/conformance/check.hpp"
#include "smtpkit/mock/script/pattern.hpp"
#include "smtpkit/mock/script/script.hpp"

namespace smtpkit::mock {

/// Where the driver connects.
struct client_target {
  std::string host;
  std::uint16_t port = 0;
  std::string command;        ///< non-empty: run it (/bin/sh -c); SMTP on its stdin/stdout
  bool implicit_tls = false;  ///< TLS from the first octet (RFC 8314)
  bool insecure = false;      ///< accept any certificate (self-signed test servers)
  std::string tls_name;       ///< name checked in the certificate and sent as SNI (default: host)

  /// "127.0.0.1:2525" or "exec: exim -bs".
  [[nodiscard]] std::string describe() const;
};

/// "HOST:PORT" or "[IPv6]:PORT"; false (and why) when malformed or the
/// port is out of range.
bool parse_target(std::string_view text, client_target& out, std::string* why = nullptr);

enum class reply_compare : std::uint8_t {
  script,  ///< S: exact lines, S~ patterns, S= octets
  code,    ///< replay: each recorded reply against the received one, by reply code
  exact,   ///< replay: each recorded reply line against the received one, exactly
};

struct driver_options {
  client_target target;
  reply_compare compare = reply_compare::script;
  std::chrono::milliseconds step_timeout{10000};
  /// The whole play; a script's @timeout overrides it.
  std::chrono::milliseconds session_timeout{60000};
  /// Values a script may send as {name} before any pattern captured them.
  captures variables;
  /// Names a script may use that have no value, with the reason: a script
  /// that sends one of them is not applicable (e.g. {auth_plain} without credentials).
  std::vector<std::pair<std::string, std::string>> unavailable;
  /// EHLO and STARTTLS after the greeting, before the script's own first
  /// command (skipped by scripts that start TLS themselves or talk first).
  bool starttls_first = false;
  std::string helo = "probe.example.test";
  /// Replay: keep comparing after a reply that differs, unless what follows
  /// would be read differently (a missing 354, 334 or 220 to STARTTLS).
  bool continue_after_mismatch = false;
  /// Name of the played script in the report and the transcript's header.
  std::string source;
};

enum class run_status : std::uint8_t {
  completed,       ///< every expectation met
  failed,          ///< an expectation was not met
  not_applicable,  ///< @requires not met, or a needed value is missing
  error,           ///< no connection, timeout, TLS failure, I/O error
};
std::string_view to_string(run_status s) noexcept;

/// One reply (or close) compared with what the script expected.
struct expectation_result {
  std::size_t line = 0;  ///< the expectation's line in the script
  std::string expected;  ///< as written: "S~ 250 {*}", "S: 221 bye", "reply 250", "close"
  std::string received;  ///< the reply lines (escaped, "\n"-joined), or "(connection closed)", ...
  bool ok = true;
  /// The lines the script or recording has there (escaped, "\n"-joined; a
  /// pattern as its text), to show beside `received`; "" when not a reply.
  std::string recorded = {};
};

/// What a server did with mail data holding an end-of-data variant (@smuggle).
enum class eod_outcome : std::uint8_t {
  ended_data,  ///< it took the variant as the end of the data (SMTP smuggling)
  kept,        ///< it kept the variant in the message
  rejected,    ///< it refused the message (or closed the connection)
};
/// "accepted-as-end-of-data", "kept-in-message", "rejected".
std::string_view to_string(eod_outcome o) noexcept;

struct smuggle_result {
  std::string variant;  ///< the octets probed, escaped
  eod_outcome outcome = eod_outcome::kept;
  std::vector<std::uint16_t> codes;  ///< replies after the data, up to the reply to QUIT
  std::string detail;                ///< one sentence for the report
};

struct driver_result {
  run_status status = run_status::completed;
  std::string reason;  ///< why: error, not applicable, or the first mismatch
  std::vector<expectation_result> expectations;
  std::optional<smuggle_result> smuggle;
  /// The connection was set up: TCP (or the command started), and TLS when
  /// it comes before the dialogue (implicit TLS, --starttls).
  bool connected = false;
  std::string greeting;                ///< first line of the server's greeting
  std::vector<std::string> ehlo;       ///< keyword lines of the last EHLO response
  std::string tls;                     ///< "TLSv1.3 TLS_AES_256_GCM_SHA384" once TLS ran
  std::string transcript;              ///< the dialogue, docs/dialogue-format.md
  conformance::session_report report;  ///< the engine's findings, lines of `transcript`
  std::chrono::milliseconds elapsed{0};

  [[nodiscard]] std::size_t mismatches() const noexcept;
};

/// Plays the client side of `s` (loaded with side::client).
[[nodiscard]] driver_result play(const script& s, const driver_options& o);

}  // namespace smtpkit::mock
