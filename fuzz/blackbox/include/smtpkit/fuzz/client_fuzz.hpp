// smtpkit/fuzz/client_fuzz.hpp — `smtpkit fuzz client`: black-box fuzzing of
// someone else's SMTP client. A mock server answers the client with mutated
// replies; the client is started once per session (docs/fuzzing.md,
// "Fuzzing your client").
//
// What is mutated is a server plan: a few reply rules of the script
// language (docs/dialogue-format.md, "Rules"), each answering one kind of
// client line (the greeting, EHLO, MAIL, RCPT, DATA, the end of data,
// STARTTLS, QUIT, ...), every other line answered by the reference server,
// so a client goes as deep as the plan lets it. Rule bodies are generated
// from the well-formed reply and bent: multi-line replies cut (continuation
// lines and no final line), stretched and interleaved; codes at the edges
// (000, 199, 600, 999, 2xx to DATA, 354 to RCPT); enhanced status codes
// broken; EHLO keyword lists huge and malformed; octets injected right after
// the 220 to STARTTLS (the response-injection class, RFC 3207 §4.2); replies
// ended by a bare LF or CR, with NUL or 8-bit octets; the greeting delayed
// or sent an octet at a time; the connection closed or reset at any step.
//
// Oracles, for each session:
//   crash      the client died by a signal it raises when it breaks
//              (SIGSEGV, SIGABRT...) or printed a sanitizer report;
//   hang       the client neither sent, closed nor exited within the hang
//              timeout although the server had answered every command with
//              a complete, well-formed reply (a code 200-599 line ended by
//              CRLF; not a 220 to STARTTLS, a 221 or a 421, after which the
//              client may wait for the handshake or the close) and all our
//              replies so far had one reading only (see below); or it was
//              still running the hang timeout after its connection closed;
//   violation  the engine's first finding on the client's side at or above
//              --fail-on (mail data without a 354, RFC 5321 §3.3; pipelining
//              without PIPELINING, §4.3.1; commands after QUIT, §4.1.4;
//              acting on replies injected before TLS, RFC 3207 §4.2). Only
//              the first: what follows it is the dialogue coming apart.
//              With PIPELINING advertised, no client.sequence.* verdict
//              but after-quit: the order the server read pipelined
//              commands in is not the order the client knew replies in.
//              Only before the first reply that could be read two ways:
//              a line not ended by CRLF (§2.3.8), not a reply line (three
//              digits 2-5, then SP, "-" or its end, §4.2), one reply with
//              two codes (§4.2.1), a line past the 64 KiB the engine reads
//              of one, an EHLO keyword outside the grammar (§4.1.1.1),
//              a reply after our own 421 or 221 (§3.8),
//              a reply unasked, a success or intermediate code
//              §4.3.2 does not list for the command (a first-digit reader
//              and an exact-code reader part ways; 4yz and 5yz are
//              failures either way). After it only client.starttls.
//              injected-reply, the rule made for injected replies, counts.
//              Findings the client has on an unmutated session (the
//              baseline) are not the fuzzer's: `smtpkit probe client`
//              reports those.
// Replies that make a client give up (an exit status other than 0) are
// expected: a client may refuse anything malformed.
//
// Reproducers are server scripts: `smtpkit serve --script FILE` gives the
// same replies to the client run by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "smtpkit/conformance/report.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"

namespace smtpkit::fuzz {

/// One rule of a server plan: its trigger ("@connect", "@data", or a
/// pattern such as "{re:(?i)MAIL FROM:.*}"), the match it answers (nth, 0:
/// every match) and its body as script records ("S= 250 ok\r\n", "@close S").
struct reply_rule {
  std::string trigger;
  unsigned nth = 0;
  std::vector<std::string> body;
  friend bool operator==(const reply_rule&, const reply_rule&) = default;
};

struct server_plan {
  std::vector<reply_rule> rules;
  [[nodiscard]] std::size_t size() const noexcept;  ///< octets over all bodies
};

/// The plan as a server script (rules only; the reference server answers the rest).
[[nodiscard]] std::string to_script(const server_plan& p);
/// A script written by to_script back as a plan; false when `text` is not one.
bool plan_from_script(std::string_view text, server_plan& out);

/// Adds, replaces, retimes or removes a rule (one to three stacked
/// changes). `verbs` are the commands the client was seen to send
/// ("EHLO", "MAIL", ...), which rules are aimed at.
void mutate_plan(server_plan& p, const std::vector<std::string>& verbs, std::mt19937_64& rng);

struct client_options {
  std::vector<std::string>
      command;  ///< argv, with {host} {port} {message} {from} {rcpt} {rcpt2} {ca} {user} {password}
  bool message_on_stdin = false;
  std::string from = "sender@example.test";
  std::string rcpt = "rcpt@example.test";
  std::string rcpt2 = "rcpt2@example.test";
  std::pair<std::string, std::string> auth{"fuzz-user", "fuzz-password"};
  bool implicit_tls = false;  ///< the server speaks TLS from the first octet (RFC 8314)
  std::chrono::milliseconds hang_timeout{3000};
  std::chrono::milliseconds session_timeout{20000};  ///< the client is killed after this
  fail_level fail_on = fail_level::must;
};

struct client_fuzz_options {
  client_options client;
  std::string out_dir;
  std::uint64_t seed = 0;
  std::chrono::seconds max_time{0};
  std::uint64_t max_sessions = 0;
  unsigned jobs = 1;
  bool minimise = true;
  std::chrono::seconds minimise_time{60};
  bool progress = false;
  const std::atomic<bool>* stop = nullptr;
};

/// Runs the fuzzer; errors that stop it before it starts come back in `error`.
fuzz_stats fuzz_client(const client_fuzz_options& o, std::string& error);

/// What the reports and DIR/stats.json say about the run.
[[nodiscard]] run_info describe_run(const client_fuzz_options& o);

}  // namespace smtpkit::fuzz
