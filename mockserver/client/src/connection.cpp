// connection.cpp — poll(2)-bounded TCP, command pipes and OpenSSL for the
// client driver (see connection.hpp for why not Asio).
#include "smtpkit/mock/client/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace smtpkit::mock::detail {
namespace {

constexpr std::size_t stderr_keep = 4096;

void ignore_sigpipe() {
  static const bool done = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

bool set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

int ms_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  if (left <= 0) return 0;
  return left > 60000 ? 60000 : static_cast<int>(left);
}

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return std::strerror(errno);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

std::shared_ptr<SSL_CTX> make_client_tls(bool insecure, std::string& err) {
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) {
    err = "cannot make a TLS context: " + ssl_error_text();
    return nullptr;
  }
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  // A server that closes without close_notify has still closed: EOF, not an error.
  SSL_CTX_set_options(raw, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  if (insecure) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(raw) != 1) {
      err = "cannot load the system's CA certificates: " + ssl_error_text();
      return nullptr;
    }
  }
  return ctx;
}

client_conn::~client_conn() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (wfd_ >= 0 && wfd_ != rfd_) ::close(wfd_);
  if (rfd_ >= 0) ::close(rfd_);
  wfd_ = rfd_ = -1;
  if (pid_ > 0) reap();
  if (errfd_ >= 0) ::close(errfd_);
}

std::unique_ptr<client_conn> client_conn::dial(const std::string& host, std::uint16_t port,
                                               clock_type::time_point deadline, std::string& err) {
  ignore_sigpipe();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    err = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return nullptr;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(list, ::freeaddrinfo);
  err.clear();
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      err = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, ms_left(deadline));
      int so = 0;
      socklen_t len = sizeof so;
      if (n <= 0) {
        so = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) != 0) {
        so = errno;
      }
      rc = so == 0 ? 0 : -1;
      errno = so;
    }
    if (rc != 0) {
      err = std::strerror(errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // @split pieces leave as they are written
    std::unique_ptr<client_conn> c(new client_conn());
    c->rfd_ = c->wfd_ = fd;
    return c;
  }
  err = "cannot connect to " + host + ":" + service + ": " + (err.empty() ? "no address" : err);
  return nullptr;
}

std::unique_ptr<client_conn> client_conn::spawn(const std::string& command, std::string& err) {
  ignore_sigpipe();
  int in[2], out[2], er[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    err = std::strerror(errno);
    return nullptr;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    err = std::strerror(errno);
    ::close(in[0]), ::close(in[1]);
    return nullptr;
  }
  if (::pipe2(er, O_CLOEXEC) != 0) {
    err = std::strerror(errno);
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return nullptr;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    err = std::string("cannot fork: ") + std::strerror(errno);
    for (int fd : {in[0], in[1], out[0], out[1], er[0], er[1]}) ::close(fd);
    return nullptr;
  }
  if (pid == 0) {
    // Child: its own process group, so the whole pipeline can be ended.
    ::setsid();
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(er[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(er[1]);
  std::unique_ptr<client_conn> c(new client_conn());
  c->pid_ = pid;
  c->wfd_ = in[1];
  c->rfd_ = out[0];
  c->errfd_ = er[0];
  set_nonblocking(c->wfd_);
  set_nonblocking(c->rfd_);
  set_nonblocking(c->errfd_);
  return c;
}

void client_conn::drain_stderr() {
  if (errfd_ < 0) return;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(errfd_, buf, sizeof buf);
    if (n > 0) {
      err_tail_.append(buf, static_cast<std::size_t>(n));
      if (err_tail_.size() > stderr_keep) err_tail_.erase(0, err_tail_.size() - stderr_keep);
      continue;
    }
    if (n == 0) {
      ::close(errfd_);
      errfd_ = -1;
    }
    return;
  }
}

bool client_conn::wait(int fd, short events, clock_type::time_point deadline) {
  for (;;) {
    pollfd p[2] = {{fd, events, 0}, {errfd_, POLLIN, 0}};
    const nfds_t n = errfd_ >= 0 ? 2 : 1;
    int rc = ::poll(p, n, ms_left(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    if (n == 2 && p[1].revents != 0) drain_stderr();
    if (p[0].revents != 0) return true;
    if (clock_type::now() >= deadline) return false;
  }
}

// After an SSL_* call returned rc <= 0: wait for what OpenSSL needs.
io_status client_conn::tls_io(int rc, clock_type::time_point deadline, bool& retry) {
  retry = false;
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      if (!wait(rfd_, POLLIN, deadline)) return io_status::timeout;
      retry = true;
      return io_status::ok;
    case SSL_ERROR_WANT_WRITE:
      if (!wait(wfd_, POLLOUT, deadline)) return io_status::timeout;
      retry = true;
      return io_status::ok;
    case SSL_ERROR_ZERO_RETURN: return io_status::eof;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) return io_status::eof;  // closed without close_notify
      [[fallthrough]];
    default: ERR_clear_error(); return io_status::error;
  }
}

io_status client_conn::read_some(std::string& out, std::size_t max, clock_type::time_point deadline) {
  char buf[16384];
  const std::size_t want = max < sizeof buf ? max : sizeof buf;
  if (rfd_ < 0) return io_status::eof;
  for (;;) {
    if (ssl_ != nullptr) {
      int n = SSL_read(ssl_, buf, static_cast<int>(want));
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        return io_status::ok;
      }
      bool retry = false;
      io_status s = tls_io(n, deadline, retry);
      if (!retry) return s;
      continue;
    }
    ssize_t n = ::read(rfd_, buf, want);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      return io_status::ok;
    }
    if (n == 0) return io_status::eof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno == ECONNRESET ? io_status::eof : io_status::error;
    if (!wait(rfd_, POLLIN, deadline)) return io_status::timeout;
  }
}

io_status client_conn::read_ready(std::string& out, std::size_t max) {
  // A deadline already past: one attempt, no waiting.
  return read_some(out, max, clock_type::now() - std::chrono::milliseconds(1));
}

io_status client_conn::write_all(std::string_view bytes, clock_type::time_point deadline) {
  if (wfd_ < 0 || write_shut_) return io_status::error;
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size() > (1u << 30) ? (1u << 30) : bytes.size()));
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      bool retry = false;
      io_status s = tls_io(n, deadline, retry);
      if (!retry) return s == io_status::eof ? io_status::error : s;
      continue;
    }
    ssize_t n =
        pid_ > 0 ? ::write(wfd_, bytes.data(), bytes.size()) : ::send(wfd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait(wfd_, POLLOUT, deadline)) return io_status::timeout;
      continue;
    }
    return io_status::error;
  }
  return io_status::ok;
}

io_status client_conn::start_tls(SSL_CTX* ctx, const std::string& name, clock_type::time_point deadline,
                                 std::string& err) {
  if (ssl_ != nullptr) {
    err = "TLS is already active";
    return io_status::error;
  }
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    err = ssl_error_text();
    return io_status::error;
  }
  if (pid_ > 0) {
    SSL_set_rfd(ssl_, rfd_);
    SSL_set_wfd(ssl_, wfd_);
  } else {
    SSL_set_fd(ssl_, rfd_);
  }
  if (!name.empty()) {
    if (is_ip_literal(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, name.c_str());
      SSL_set1_host(ssl_, name.c_str());
    }
  }
  for (;;) {
    int rc = SSL_connect(ssl_);
    if (rc == 1) return io_status::ok;
    bool retry = false;
    if (SSL_get_error(ssl_, rc) == SSL_ERROR_SSL) {
      long v = SSL_get_verify_result(ssl_);
      err = v != X509_V_OK ? std::string("certificate not accepted: ") + X509_verify_cert_error_string(v) +
                                 " (--insecure accepts any certificate)"
                           : "TLS handshake failed: " + ssl_error_text();
      return io_status::error;
    }
    io_status s = tls_io(rc, deadline, retry);
    if (retry) continue;
    if (s == io_status::timeout) err = "TLS handshake timed out";
    else if (s == io_status::eof) err = "the server closed the connection during the TLS handshake";
    else err = "TLS handshake failed: " + ssl_error_text();
    return s == io_status::eof ? io_status::error : s;
  }
}

std::string client_conn::tls_info() const {
  if (ssl_ == nullptr) return {};
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

void client_conn::shutdown_write() {
  if (write_shut_) return;
  write_shut_ = true;
  if (ssl_ != nullptr) {
    (void)SSL_shutdown(ssl_);  // close_notify, without waiting for the peer's
    ERR_clear_error();
  }
  if (pid_ > 0) {
    if (wfd_ >= 0) ::close(wfd_);
    wfd_ = -1;
  } else if (rfd_ >= 0) {
    ::shutdown(rfd_, SHUT_WR);
  }
}

void client_conn::abort() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    return;
  }
  if (rfd_ < 0) return;
  linger l{1, 0};  // close() now sends RST
  ::setsockopt(rfd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  ::close(rfd_);
  rfd_ = wfd_ = -1;
}

int client_conn::wait_exit(std::chrono::milliseconds within) {
  if (exited_) return exit_status_;
  if (pid_ <= 0) return -1;
  // Polled with a growing sleep: most commands are gone within a
  // millisecond of their stdin closing, and a fuzzer runs thousands.
  const auto until = clock_type::now() + within;
  auto nap = std::chrono::microseconds(50);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      exited_ = true;
      exit_status_ = r == pid_ ? status : -1;
      drain_stderr();
      ::kill(-pid_, SIGKILL);  // children of the command in its group (a shell pipeline) go too
      pid_ = -1;
      return exit_status_;
    }
    drain_stderr();
    if (clock_type::now() >= until) return -1;
    std::this_thread::sleep_for(nap);
    if (nap < std::chrono::milliseconds(5)) nap *= 2;
  }
}

// The command had its stdin closed: give it a moment to finish (exim -bs
// delivers on QUIT), then end its process group. Bounded: about 3 s.
void client_conn::reap() {
  if (wait_exit(std::chrono::milliseconds(2000)) != -1 || pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  if (wait_exit(std::chrono::milliseconds(1000)) != -1 || pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
}

}  // namespace smtpkit::mock::detail
