// smtpkit/mock/probe/replay.hpp — `smtpkit replay` as the report model: a
// recording's client side played live by the client driver, each reply
// compared with the recorded one (by code, RFC 5321 §4.2, or line by line),
// and the server's side of the live dialogue judged by the engine.
#pragma once

#include <string>

#include "smtpkit/conformance/report.hpp"
#include "smtpkit/mock/client/driver.hpp"

namespace smtpkit::mock {

struct replay_report_options {
  std::string recording;  ///< the recording's path, as the user gave it
  bool exact = false;     ///< replies were compared line by line
  bool saved = false;     ///< the live dialogue was saved to the file its findings name
};

/// One suite for the live dialogue (a case per rule, as `check` has), and
/// one for the replies ("RECORDING (replies)", case `replay.replies`).
[[nodiscard]] conformance::report make_replay_report(driver_result r, const client_target& target,
                                                     const replay_report_options& o);

}  // namespace smtpkit::mock
