// smtpkit/mock/probe/client_probe.hpp — `smtpkit probe client`: a suite of
// scenario scripts (conformance/client/, and users' own folders) served to
// an SMTP client, one mock server per scenario, and a verdict on what the
// client did.
//
// A client scenario is the server side of one test dialogue (S: records are
// sent, C:/C~ records are what the client must send), or only @rule blocks
// over the reference server, with the metadata of server scenarios
// (probe.hpp) and these (docs/probe.md, "Client scenarios"):
//   @message TEXT     the message the client is given ({message}); repeatable, concatenated
//   @rcpt ADDR [ADDR] the recipients the client is given ({rcpt}, {rcpt2}) instead of --rcpt
//   @client [!]NAME   applies only to a client set up so: requires-tls, auth,
//                     implicit-tls, verifies-cert (the --client-* flags)
//   @serve OPTION...  the scenario's server: size=N, max-recipients=N,
//                     no-KEYWORD (pipelining, size, 8bitmime, smtputf8,
//                     enhancedstatuscodes, dsn, chunking, binarymime,
//                     starttls, auth), auth-required, cert=good|mismatch|untrusted
//   @forbid PATTERN   a client command line that fails the scenario
//   @expect WHAT...   body: a message that arrives carries the given body
//                     (its line ends made CRLF); delivered: every recipient
//                     the client named got the message; reported: each did,
//                     or the client exited with a failure status; exit-failure;
//                     exit-success
// and @checks names client rules: the engine judges the whole session's
// client side, and the findings of those rules fail the scenario.
//
// Verdicts: pass; fail (an expectation of the dialogue, @forbid, @expect or
// a finding of a @checks rule); not applicable (the client is not set up as
// @client says); error (the client could not be started, did not connect,
// or did not exit within the scenario's time).
//
// The client under test is started once per scenario, never through a
// shell, with {host}, {port}, {message}, {ca}, {from}, {rcpt}, {rcpt2},
// {user} and {password} replaced in its arguments and SMTP_HOST, SMTP_PORT,
// SMTP_MESSAGE, SMTP_CA, SMTP_FROM, SMTP_RCPT, SMTP_USER, SMTP_PASSWORD in
// its environment (and, with message_on_stdin, the message on its standard
// input, for sendmail-like clients); or, with `listen`, the suite waits for sessions on one
// address and gives each the next scenario.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "smtpkit/conformance/check.hpp"
#include "smtpkit/conformance/policy.hpp"
#include "smtpkit/conformance/report.hpp"
#include "smtpkit/mock/probe/probe.hpp"

namespace smtpkit::mock {

struct client_probe_options {
  std::vector<std::string> command;  ///< argv of the client; empty with `listen`
  bool message_on_stdin = false;     ///< the client reads {message} on its standard input (sendmail-like)
  /// "HOST:PORT": wait for sessions instead of starting a client. Every
  /// scenario's server binds it in turn (port 0: the first picks, the rest
  /// keep it); between two scenarios it is closed for a moment.
  std::string listen;
  std::size_t sessions = 0;  ///< listen: stop after N sessions (0: one per scenario)
  /// How the client is set up: "requires-tls", "auth", "implicit-tls", "verifies-cert".
  std::set<std::string> policy_flags;
  std::string hostname = "mx.probe.smtpkit.test";  ///< the servers' name (greeting, certificate)
  std::string from = "sender@example.test";
  std::vector<std::string> rcpts{"rcpt@example.test", "rcpt2@example.test"};
  std::pair<std::string, std::string> auth{"probe-user", "probe-password"};
  std::vector<std::string> only;
  std::chrono::milliseconds timeout{20000};  ///< per scenario, unless its @timeout says otherwise
  std::size_t jobs = 2;
  std::string work_dir;  ///< where scenario folders go; empty: a fresh one under $TMPDIR
  bool keep = false;     ///< keep the scenario folders (messages, client output)
  std::function<void(const struct client_scenario_result&)> on_result;
  /// listen: "HOST:PORT" once it is known (port 0 is resolved by the first scenario's server)
  std::function<void(const std::string&)> on_listening;
  conformance::policy policy;
};

/// How the client process ended, and what it said.
struct client_run {
  std::string describe;  ///< "exit 0", "killed at the deadline", "cannot start ..."
  int status = 0;
  bool exited = false;
  bool started = false;
  bool connected = false;
  std::string out_tail;  ///< last few KiB of stdout and stderr
  std::string err_tail;
};

struct client_scenario_result {
  std::string group;
  conformance::report_case verdict;
  conformance::session_report dialogue;  ///< the session's transcript and client findings
  client_run client;
  std::chrono::milliseconds elapsed{0};
};

struct client_probe_result {
  std::string target;  ///< the command line, or "listen 127.0.0.1:2525"
  std::vector<client_scenario_result> results;
  std::chrono::milliseconds elapsed{0};
  bool setup_failed = false;
  std::string setup_error;
};

/// Checks the suite's metadata for client scenarios (@checks name client rules).
suite load_client_suite(const std::vector<std::string>& paths);

client_probe_result run_client_probe(const suite& s, const client_probe_options& o);

[[nodiscard]] conformance::report make_report(client_probe_result r, std::string tool = "smtpkit probe client");

}  // namespace smtpkit::mock
