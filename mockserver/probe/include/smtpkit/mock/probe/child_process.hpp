// smtpkit/mock/probe/child_process.hpp — the client under test as a child process (`smtpkit
// probe client -- CMD ARGS...`): started without a shell, in its own process
// group, stdin from a file or /dev/null, stdout and stderr to files; waited for with a
// deadline, and killed with its whole group when the caller gives up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace smtpkit::mock {

/// `s` with every "{name}" replaced by its value: the placeholders of a
/// client's command line ({host}, {port}, {message}, ...).
[[nodiscard]] std::string substitute(std::string s, const std::vector<std::pair<std::string, std::string>>& values);

/// The last `keep` octets of a file (all of it by default; "" when it
/// cannot be read): a child's output, a message it delivered.
[[nodiscard]] std::string read_tail(const std::string& path, std::size_t keep = std::string::npos);

class child_process {
 public:
  /// Starts argv[0] (looked up in PATH) with `env` added to the inherited
  /// environment; its input comes from `in_file` (empty: /dev/null), its
  /// output goes to `out_file` and `err_file`. On failure `error()` says why
  /// and the child is not running.
  child_process(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
                const std::string& in_file, const std::string& out_file, const std::string& err_file);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] bool started() const noexcept { return pid_ > 0; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  /// True once it exited (non-blocking).
  bool poll();
  /// Waits until it exits or `deadline` passes. True when it exited; else it still runs (kill() it).
  bool wait_until(std::chrono::steady_clock::time_point deadline);
  /// Kills the process group (SIGKILL) and reaps the child.
  void kill();

  [[nodiscard]] bool exited() const noexcept { return done_; }
  [[nodiscard]] bool killed() const noexcept { return killed_; }
  /// Exit status, or -N for death by signal N; meaningful once exited().
  [[nodiscard]] int status() const noexcept { return status_; }
  /// "exit 0", "exit 3", "killed by signal 9", "killed at the deadline".
  [[nodiscard]] std::string describe() const;

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  bool killed_ = false;
  int status_ = 0;
  std::string error_;
};

}  // namespace smtpkit::mock
