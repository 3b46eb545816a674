// smtpkit/mock/probe/relay_probe.hpp — `smtpkit probe relay`: tests one
// hop of the mail system. The relay under test is set up (by its user) to
// send mail for a test domain to smtpkit's sink; the probe submits test
// messages to the relay, receives what it passes on, matches each copy to
// its submission by a token in the envelope and the header, and says, per
// check, what the hop did:
//
//   End of data    each end-of-data variant of the server probe inside a
//                  message: refused, normalised, or passed on raw (an
//                  outbound hop that makes SMTP smuggling possible), or
//                  taken as the end of the data by the relay itself;
//   Transparency   lines that start with ".", a 998-octet line, empty
//                  lines, a last line without CRLF (BDAT) arrive unchanged
//                  (RFC 5321 §4.5.2, §3.6.3);
//   8-bit          BODY=8BITMIME, SMTPUTF8 and BINARYMIME kept, or the mail
//                  converted or returned: never 8-bit undeclared (RFC 6152,
//                  6531, 3030), also to a hop that offers none of them;
//   Envelope       reverse-path, every recipient, the DSN parameters (RFC
//                  3461 §5.2.1), SIZE (RFC 1870);
//   Trace          a Received line on top, earlier ones kept in order, no
//                  Return-Path added (RFC 5321 §4.4);
//   Errors         a 5xx from the next hop comes back as a notification to
//                  the sender (§3.6.3, RFC 3464) from the null reverse-path,
//                  a 4xx is retried (§4.5.4.1), a loop stops (§6.3);
//   Client rules   everything the relay sent the sink judged by the engine's
//                  client rules (a relay is a client to its next hop).
// With the results of `probe server` on the next hop (`inbound`), the
// report adds the pairs: variants this hop passes raw that that hop takes
// as the end of the data.
//
// The sink is the mock server: first with every extension (8BITMIME,
// SMTPUTF8, DSN, CHUNKING, BINARYMIME, SIZE), then, on the same address,
// without the 8-bit ones, for the checks of a 7-bit next hop. Its rules
// answer RCPT for "reject-TOKEN" with 550 and the first RCPT for
// "defer-TOKEN" with 451.
//
// Limits: the checks run one after another (a relay that queues slowly
// makes the run as slow as `wait`); a relay that retries later than
// `retry_wait` gets an error, not a failure, for the retry check; what
// arrives more than `wait` after its submission is not seen.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "smtpkit/conformance/policy.hpp"
#include "smtpkit/conformance/report.hpp"
#include "smtpkit/mock/client/driver.hpp"

namespace smtpkit::mock {

struct relay_probe_options {
  client_target submit;  ///< the relay (implicit_tls, insecure as for the client driver)
  bool starttls = false;
  std::string user;  ///< AUTH PLAIN for each submission when not empty
  std::string password;
  std::string domain = "sink.test";  ///< mail for it goes to the sink
  std::string sink_listen = "127.0.0.1:0";
  std::string sink_hostname = "sink.probe.smtpkit.test";
  std::string sender;  ///< "" -> relay-probe@DOMAIN (notifications come back to the sink)
  std::string helo = "probe.example.test";
  std::vector<std::string> only;
  std::chrono::milliseconds wait{30000};        ///< for a message to come through
  std::chrono::milliseconds retry_wait{90000};  ///< for the retry after a 4xx
  std::chrono::milliseconds step_timeout{30000};
  /// Next hops' end-of-data results (escaped variant, result as in a
  /// `probe server` report), each under its name; empty: no pair view.
  struct inbound_results {
    std::string name;
    std::vector<std::pair<std::string, std::string>> eod;
  };
  std::vector<inbound_results> inbound;
  std::function<void(const std::string&)> on_sink;  ///< "HOST:PORT" once the sink listens
  std::function<void(const conformance::report_case&)> on_result;
  conformance::policy policy;
};

struct relay_check_info {
  std::string id;
  std::string group;
  std::string title;
  conformance::level lvl = conformance::level::must;
  std::string rfc;
};
/// The checks, in the order they run.
[[nodiscard]] std::vector<relay_check_info> relay_checks();

/// Runs the checks `only` selects (an ID or an ID prefix up to a dot;
/// empty: all). A sink that cannot listen, or a relay that cannot be
/// reached, makes the target unreachable (report.target).
[[nodiscard]] conformance::report run_relay_probe(const relay_probe_options& o,
                                                  std::string tool = "smtpkit probe relay");

/// The end-of-data results of a `probe server` JSON report (docs/probe.md):
/// (variant, result) pairs; false and why when the file is not one.
bool read_inbound_report(const std::string& path, std::vector<std::pair<std::string, std::string>>& out,
                         std::string& why);

}  // namespace smtpkit::mock
