// smtpkit/mock/server/actions.hpp — what a server behaviour asks its connection to
// do. A behaviour (the reference ESMTP server, or a script) never touches a
// socket: it turns client octets into a list of actions, and the session
// carries them out in order. Faults (pauses, slow or split writes, resets,
// hangs) are actions too, so any behaviour can inject them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace smtpkit::mock {

struct commit_ticket;  // a message in a group commit (--durable; storage.hpp)

enum class act : std::uint8_t {
  write,      ///< send `bytes`
  pause,      ///< wait `delay` before the next action
  throttle,   ///< send `bytes` at `rate` octets per second
  start_tls,  ///< TLS handshake now (server side)
  stall_tls,  ///< accept TLS but never complete the handshake for `delay`
  close,      ///< close after what was written
  reset,      ///< abort the connection (RST)
  hang,       ///< stop answering; keep the connection open until timeouts
  commit,     ///< wait until the message of `ticket` is on disk (group commit); if it is not, 421 and close
};

struct action {
  action(act k = act::write, std::string b = {}, std::chrono::milliseconds d = {}, std::uint64_t r = 0,
         std::shared_ptr<commit_ticket> t = {})
      : kind(k), bytes(std::move(b)), delay(d), rate(r), ticket(std::move(t)) {}
  act kind;
  std::string bytes;
  std::chrono::milliseconds delay;
  std::uint64_t rate;
  std::shared_ptr<commit_ticket> ticket;
};

/// Appends actions; consecutive writes are merged so a pipelined group of
/// replies goes out in one write (RFC 2920 §3.2: flush when input is empty).
class actions {
 public:
  void write(std::string_view bytes) {
    if (!list_.empty() && list_.back().kind == act::write) {
      list_.back().bytes.append(bytes);
      return;
    }
    list_.push_back({act::write, std::string(bytes), {}, 0});
  }
  void push(action a) { list_.push_back(std::move(a)); }
  void close() { list_.push_back({act::close, {}, {}, 0}); }
  void start_tls() { list_.push_back({act::start_tls, {}, {}, 0}); }
  [[nodiscard]] bool empty() const noexcept { return list_.empty(); }
  [[nodiscard]] const std::vector<action>& list() const noexcept { return list_; }
  std::vector<action> take() { return std::move(list_); }
  void clear() { list_.clear(); }

 private:
  std::vector<action> list_;
};

}  // namespace smtpkit::mock
