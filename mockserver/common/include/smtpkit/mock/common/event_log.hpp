// smtpkit/mock/common/event_log.hpp — the JSON-lines event stream of `smtpkit serve --events`
// (schema in docs/serve.md). Test drivers read it to learn the real port,
// each command and reply, each stored message and each finding. Events are
// buffered and written out at the end of each I/O step, so a pipelined
// group of commands costs one write.
// A tap (the web view's event stream) may take every event as well; while
// it is tapping, events are built even without a file.
//
// An observer never holds up the server: a pipe, FIFO, terminal or socket
// is written without blocking (a description of our own, never the
// caller's, is made non-blocking). What the reader has not taken waits in a
// backlog of at most `backlog_limit` octets; beyond it events are dropped
// and counted, and once the reader catches up an "events-dropped" event says
// how many. A write error (disk full, reader gone) loses the events of that
// write, is counted the same way, and a regular file is cut back to its last
// whole line. Notices (one line each) go to the `notice` callback.
// Limits: a regular file is written with plain blocking write(2), which a
// slow disk can still stall.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace smtpkit::mock {

class event_log {
 public:
  using json = nlohmann::ordered_json;
  static constexpr std::size_t default_backlog = 8u << 20;

  event_log() = default;
  /// "" disables, "-" writes to standard output, anything else is a file.
  /// `who` prefixes notices ("smtpkit serve").
  explicit event_log(const std::string& target, std::size_t backlog_limit = default_backlog,
                     std::string who = "smtpkit");
  ~event_log();
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;
  event_log& operator=(event_log&& o) noexcept;

  /// True when events are wanted: by a file, or by the tap while it taps.
  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0 || tapping_; }
  /// Every event (with "ts") also goes to `tap` while tapping(true).
  void set_tap(std::function<void(const json&)> tap) { tap_ = std::move(tap); }
  void tapping(bool on) noexcept { tapping_ = on && tap_; }
  /// Adds "ts" (Unix time, seconds) and queues the line (or drops it when
  /// the backlog is full).
  void emit(json j);
  /// Writes what can be written without waiting; the rest stays queued.
  void flush();
  /// Waits up to `budget` for the backlog to be written (at exit); what is
  /// left then is dropped and counted.
  void drain(std::chrono::milliseconds budget);

  /// The descriptor to wait on for writability while blocked(), or -1 when
  /// writes never wait (a regular file, or disabled).
  [[nodiscard]] int poll_fd() const noexcept { return pollable_ ? fd_ : -1; }
  /// The last write would have blocked: events wait until poll_fd() is writable.
  [[nodiscard]] bool blocked() const noexcept { return blocked_; }
  [[nodiscard]] std::size_t backlog() const noexcept { return buf_.size() - pos_; }
  /// Events not written: dropped on a full backlog or lost to write errors.
  [[nodiscard]] std::uint64_t lost() const noexcept { return dropped_total_ + failed_total_; }
  /// "N events not written to TARGET (why)", or "" when none was lost.
  [[nodiscard]] std::string loss_summary() const;

  void set_notice(std::function<void(std::string_view)> f) { notice_ = std::move(f); }

 private:
  void say(const std::string& line);
  void append_line(const json& j);
  void write_error(int err, std::size_t written_of_line);
  void recovered();

  int fd_ = -1;
  bool own_ = false;
  bool pollable_ = false;  // not a regular file: writes are non-blocking
  bool socket_ = false;    // send(MSG_DONTWAIT) instead of write()
  bool regular_ = false;
  std::string target_;
  std::string who_ = "smtpkit";
  std::size_t limit_ = default_backlog;
  std::string buf_;
  std::function<void(const json&)> tap_;
  bool tapping_ = false;
  std::size_t pos_ = 0;         // first octet of buf_ not yet written
  std::uint64_t file_end_ = 0;  // regular file: octets of whole lines written
  bool blocked_ = false;
  bool dropping_ = false;      // the backlog overflowed and has not drained yet
  std::uint64_t dropped_ = 0;  // in this overflow
  std::uint64_t dropped_total_ = 0;
  std::uint64_t failed_ = 0;  // lost to write errors since the last good write
  std::uint64_t failed_total_ = 0;
  std::string error_;  // the last write error
  std::function<void(std::string_view)> notice_;
};

}  // namespace smtpkit::mock
