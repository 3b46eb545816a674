// event_log.cpp — buffered JSON lines to a file descriptor, never waiting
// on a reader (see event_log.hpp).
#include "smtpkit/mock/common/event_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace smtpkit::mock {
namespace {

std::string mib(std::size_t n) { return std::to_string((n + (1u << 19)) >> 20) + " MiB"; }

// "ts" (Unix time in seconds, with microseconds) first, then the fields.
event_log::json stamped(event_log::json j) {
  using namespace std::chrono;
  double ts = static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
  event_log::json out;
  out["ts"] = ts;
  for (auto& [k, v] : j.items()) out[k] = std::move(v);
  return out;
}

}  // namespace

event_log::event_log(const std::string& target, std::size_t backlog_limit, std::string who)
    : target_(target), who_(std::move(who)), limit_(backlog_limit) {
  if (target.empty()) return;
  if (target == "-") {
    fd_ = STDOUT_FILENO;
    target_ = "standard output";
  } else {
    fd_ = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot write events to " + target + ": " + std::strerror(errno));
    own_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || S_ISREG(st.st_mode)) {
    regular_ = true;
    return;
  }
  if (S_ISSOCK(st.st_mode)) {
    socket_ = pollable_ = true;  // send(MSG_DONTWAIT) leaves the socket's flags alone
    return;
  }
  // A pipe, FIFO or terminal: O_NONBLOCK belongs to the open file
  // description, which standard output shares with whoever started us. Open
  // the same pipe again (Linux: a description of our own) and make that one
  // non-blocking.
  if (!own_) {
    int fd = ::open("/proc/self/fd/1", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      say("events: cannot reopen standard output (" + std::string(std::strerror(errno)) +
          "); a reader that stops reading will stall the server");
      return;
    }
    fd_ = fd;
    own_ = true;
  }
  int fl = ::fcntl(fd_, F_GETFL);
  if (fl >= 0 && ::fcntl(fd_, F_SETFL, fl | O_NONBLOCK) == 0) pollable_ = true;
}

event_log::~event_log() {
  if (fd_ < 0) return;
  drain(std::chrono::seconds(2));
  if (own_) ::close(fd_);
}

event_log& event_log::operator=(event_log&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(own_, o.own_);
  std::swap(pollable_, o.pollable_);
  std::swap(socket_, o.socket_);
  std::swap(regular_, o.regular_);
  std::swap(target_, o.target_);
  std::swap(who_, o.who_);
  std::swap(limit_, o.limit_);
  std::swap(buf_, o.buf_);
  std::swap(pos_, o.pos_);
  std::swap(blocked_, o.blocked_);
  std::swap(dropping_, o.dropping_);
  std::swap(dropped_, o.dropped_);
  std::swap(dropped_total_, o.dropped_total_);
  std::swap(failed_, o.failed_);
  std::swap(failed_total_, o.failed_total_);
  std::swap(error_, o.error_);
  std::swap(notice_, o.notice_);
  std::swap(tap_, o.tap_);
  std::swap(tapping_, o.tapping_);
  return *this;
}

void event_log::say(const std::string& line) {
  if (notice_) notice_(line);
  else std::cerr << who_ << ": " << line << "\n";
}

void event_log::append_line(const json& j) {
  buf_ += j.dump(-1, ' ', false, json::error_handler_t::replace);
  buf_ += '\n';
}

void event_log::emit(json j) {
  if (!enabled()) return;
  json out = stamped(std::move(j));
  if (tapping_) tap_(out);
  if (fd_ < 0) return;
  // Once the backlog overflowed, everything is dropped until the reader has
  // taken all of it: the gap then sits exactly where "events-dropped" says.
  if (dropping_) {
    ++dropped_;
    ++dropped_total_;
    return;
  }
  const std::size_t before = buf_.size();
  append_line(out);
  if (buf_.size() - pos_ > limit_) {
    buf_.resize(before);
    dropping_ = true;
    dropped_ = 1;
    ++dropped_total_;
    say("events: the reader of " + target_ + " is " + mib(backlog()) + " behind; dropping events until it catches up");
    return;
  }
  if (buf_.size() - pos_ > (1u << 16) && !blocked_) flush();
}

void event_log::write_error(int err, std::size_t partial) {
  // `partial` octets of the first unwritten line went out: in a regular file
  // that nobody wrote after, cut them off so the file ends with a whole line.
  if (regular_ && partial > 0) {
    off_t at = ::lseek(fd_, 0, SEEK_CUR);
    struct stat st {};
    if (at >= static_cast<off_t>(partial) && ::fstat(fd_, &st) == 0 && st.st_size == at &&
        ::ftruncate(fd_, at - static_cast<off_t>(partial)) == 0)
      ::lseek(fd_, at - static_cast<off_t>(partial), SEEK_SET);
  }
  const auto lines =
      static_cast<std::uint64_t>(std::count(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.end(), '\n'));
  std::string why = std::strerror(err);
  if (failed_ == 0 || why != error_)
    say("events: cannot write to " + target_ + ": " + why + "; events are lost until writing works again");
  failed_ += lines;
  failed_total_ += lines;
  error_ = std::move(why);
  buf_.clear();
  pos_ = 0;
  blocked_ = false;
}

void event_log::flush() {
  if (fd_ < 0) return;
  for (int round = 0; round < 2; ++round) {
    bool wrote = false;
    std::size_t line_start = pos_;  // where the line being written began
    while (pos_ < buf_.size()) {
      const char* p = buf_.data() + pos_;
      const std::size_t len = buf_.size() - pos_;
      ssize_t n = socket_ ? ::send(fd_, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) : ::write(fd_, p, len);
      if (n > 0) {
        wrote = true;
        pos_ += static_cast<std::size_t>(n);
        auto nl = buf_.rfind('\n', pos_ - 1);
        if (nl != std::string::npos && nl + 1 > line_start) line_start = nl + 1;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        blocked_ = true;
        if (pos_ > (1u << 20) && pos_ * 2 > buf_.size()) {
          buf_.erase(0, pos_);
          pos_ = 0;
        }
        return;
      }
      write_error(n < 0 ? errno : EIO, pos_ - line_start);
      return;
    }
    blocked_ = false;
    buf_.clear();
    pos_ = 0;
    // Say what was lost, in the stream itself, once it works again.
    if (failed_ > 0 && wrote) {
      say("events: writing to " + target_ + " works again; " + std::to_string(failed_) + " events were lost (" +
          error_ + ")");
      append_line(stamped({{"event", "events-dropped"}, {"count", failed_}, {"why", error_}}));
      failed_ = 0;
    }
    if (dropping_) {
      say("events: " + std::to_string(dropped_) + " events dropped while the reader of " + target_ + " was behind");
      append_line(stamped({{"event", "events-dropped"}, {"count", dropped_}, {"why", "the reader fell behind"}}));
      dropping_ = false;
      dropped_ = 0;
    }
    if (buf_.empty()) return;
  }
}

void event_log::drain(std::chrono::milliseconds budget) {
  if (fd_ < 0) return;
  const auto end = std::chrono::steady_clock::now() + budget;
  flush();
  while (backlog() > 0 && pollable_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) break;
    flush();
  }
  if (backlog() == 0) return;
  const auto lines =
      static_cast<std::uint64_t>(std::count(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.end(), '\n'));
  dropped_total_ += lines;
  say("events: the reader of " + target_ + " did not take the last " + std::to_string(lines) + " events in " +
      std::to_string(budget.count() / 1000) + " s; they are dropped");
  buf_.clear();
  pos_ = 0;
}

std::string event_log::loss_summary() const {
  if (lost() == 0) return {};
  std::string s = std::to_string(lost()) + " events were not written to " + target_;
  if (dropped_total_ > 0) s += " (" + std::to_string(dropped_total_) + " dropped: the reader fell behind)";
  if (failed_total_ > 0) s += " (" + std::to_string(failed_total_) + " lost: " + error_ + ")";
  return s;
}

}  // namespace smtpkit::mock
