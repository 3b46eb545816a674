// event_log.cpp — buffered JSON lines to a file descriptor.
#include "smtpkit/mock/common/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace smtpkit::mock {

event_log::event_log(const std::string& target) {
  if (target.empty()) return;
  if (target == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  fd_ = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot write events to " + target + ": " + std::strerror(errno));
  own_ = true;
}

event_log::~event_log() {
  flush();
  if (own_) ::close(fd_);
}

void event_log::emit(json j) {
  if (!enabled()) return;
  using namespace std::chrono;
  double ts = static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
  json out;
  out["ts"] = ts;
  for (auto& [k, v] : j.items()) out[k] = std::move(v);
  if (tapping_) tap_(out);
  if (fd_ < 0) return;
  buf_ += out.dump(-1, ' ', false, json::error_handler_t::replace);
  buf_ += '\n';
  if (buf_.size() > (1u << 16)) flush();
}

void event_log::flush() {
  std::size_t off = 0;
  while (off < buf_.size() && fd_ >= 0) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a reader that went away must not stop the server
    }
    off += static_cast<std::size_t>(n);
  }
  buf_.clear();
}

}  // namespace smtpkit::mock
