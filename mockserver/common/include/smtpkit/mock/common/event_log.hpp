// smtpkit/mock/common/event_log.hpp — the JSON-lines event stream of `smtpkit serve --events`
// (schema in docs/serve.md). Test drivers read it to learn the real port,
// each command and reply, each stored message and each finding. Events are
// buffered and written out at the end of each I/O step, so a pipelined
// group of commands costs one write, and a reader never waits long.
// A tap (the web view's event stream) may take every event as well; while
// it is tapping, events are built even without a file.
#pragma once

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace smtpkit::mock {

class event_log {
 public:
  using json = nlohmann::ordered_json;
  event_log() = default;
  /// "" disables, "-" writes to standard output, anything else is a file.
  explicit event_log(const std::string& target);
  ~event_log();
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;
  event_log& operator=(event_log&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(own_, o.own_);
    std::swap(buf_, o.buf_);
    std::swap(tap_, o.tap_);
    std::swap(tapping_, o.tapping_);
    return *this;
  }

  /// True when events are wanted: by a file, or by the tap while it taps.
  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0 || tapping_; }
  /// Every event (with "ts") also goes to `tap` while tapping(true).
  void set_tap(std::function<void(const json&)> tap) { tap_ = std::move(tap); }
  void tapping(bool on) noexcept { tapping_ = on && tap_; }
  /// Adds "ts" (Unix time, seconds) and queues the line.
  void emit(json j);
  void flush();

 private:
  int fd_ = -1;
  bool own_ = false;
  std::string buf_;
  std::function<void(const json&)> tap_;
  bool tapping_ = false;
};

}  // namespace smtpkit::mock
