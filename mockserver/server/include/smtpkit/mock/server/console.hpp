// smtpkit/mock/server/console.hpp — what `smtpkit serve` says on its console
// (stderr) while it runs: one line per message it accepted (`250 ID from →
// to, size, findings`), one per finding (rule, level, RFC section), and with
// verbosity 2 each session's opening, dialogue (C:/S: records, RFC 5321
// Appendix D notation) and close. At exit with --fail-on, why it fails.
//
// Limits: lines are gathered and written at most every 100 ms, and never
// block the server: when stderr is a pipe nobody reads, lines are dropped
// (and counted) instead of stalling SMTP sessions. A script's own findings
// (script.mismatch) reach the console through the event stream, which the
// console then asks the server to build.
#pragma once

#include <memory>

#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock {

class console {
 public:
  /// Watches `srv` (before srv.run()). Writes to file descriptor `fd`.
  explicit console(server& srv, int fd = 2);
  ~console();
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  /// After run(): writes what is left and, when run() returned 1 for
  /// --fail-on, the findings that made it fail, by rule.
  void finish(int exit_status);

  struct state;

 private:
  std::shared_ptr<state> p_;
};

}  // namespace smtpkit::mock
