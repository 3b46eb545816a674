// client_expect.hpp — what a client scenario expects of the client beyond
// its dialogue and the engine's rules (client_probe.hpp, "@forbid" and
// "@expect"), judged from what the scenario's server saw.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/conformance/report.hpp"
#include "smtpkit/mock/probe/client_probe.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::mock {

/// A command line the client sent (as the server's "command" event shows it).
struct sent_command {
  std::string line;
  bool tls = false;  ///< inside TLS (of the first session)
};

/// A message the server stored: its file and recipients.
struct stored_copy {
  std::string path;
  std::vector<std::string> rcpts;
};

/// Everything a scenario's expectations are judged on.
struct client_evidence {
  std::vector<conformance::mismatch> mismatches;
  std::string mismatch_reason;
  std::vector<sent_command> commands;
  std::vector<stored_copy> messages;
  const transcript* dialogue = nullptr;  ///< the first session, when it could be read
  const client_run* run = nullptr;
  bool listening = false;  ///< --listen: no message given, no exit status seen
  std::chrono::milliseconds timeout{0};
  std::string given_message;
};

/// Why the client did not do what the scenario expects, the first first;
/// empty when it did.
std::vector<std::string> expectation_failures(const script_meta& m, const client_evidence& e);

/// The body of a message (after the first empty line), its line ends made CRLF.
std::string body_of(std::string_view msg);

/// The body as compared with the given one: decoded when the message has a
/// transfer encoding the given one (`given_encoding`) had not, without
/// empty lines at the end.
std::string comparable_body(std::string_view msg, std::string_view given_encoding);

/// The message's top-level Content-Transfer-Encoding, lower case ("" when none).
std::string encoding_of(std::string_view msg);

}  // namespace smtpkit::mock
