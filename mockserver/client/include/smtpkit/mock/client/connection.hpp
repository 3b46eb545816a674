// smtpkit/mock/client/connection.hpp — the client driver's connection (also
// the black-box fuzzers'): TCP (RFC 5321 §4.5.3.2
// timeouts are the caller's), or a command run with its stdin/stdout as the
// connection (`exim -bs`); STARTTLS (RFC 3207) or implicit TLS (RFC 8314)
// over either, with OpenSSL.
//
// Why not Boost.Asio like the server: a driver plays one script on one
// connection, in order, so each wait is a poll(2) with a deadline; and TLS
// over a command's two pipes needs OpenSSL's separate read and write
// descriptors (SSL_set_rfd/SSL_set_wfd), which Asio's ssl::stream (one
// duplex stream) does not offer.
//
// Limits: every call is bounded by the deadline it is given; a command is
// run by /bin/sh in its own process group and ended (SIGTERM, then SIGKILL)
// within a few seconds of the connection's end; SIGPIPE is ignored in the
// process (a peer that goes away must not kill the driver); what a command
// writes on stderr is kept up to 4 KiB.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace smtpkit::mock::detail {

using clock_type = std::chrono::steady_clock;

enum class io_status : std::uint8_t { ok, eof, timeout, error };

class client_conn {
 public:
  ~client_conn();
  client_conn(const client_conn&) = delete;
  client_conn& operator=(const client_conn&) = delete;

  /// TCP to host:port; the name is resolved by the system (blocking), the
  /// connect is bounded. nullptr and `err` when it fails.
  static std::unique_ptr<client_conn> dial(const std::string& host, std::uint16_t port, clock_type::time_point deadline,
                                           std::string& err);
  /// `/bin/sh -c command`; its stdin and stdout are the connection.
  static std::unique_ptr<client_conn> spawn(const std::string& command, std::string& err);

  /// Appends what arrived (at most `max` octets) to `out`.
  io_status read_some(std::string& out, std::size_t max, clock_type::time_point deadline);
  /// Without waiting: appends what has already arrived (ok), or nothing (timeout).
  io_status read_ready(std::string& out, std::size_t max);
  io_status write_all(std::string_view bytes, clock_type::time_point deadline);
  /// TLS client handshake; `name` is checked against the certificate
  /// (unless the context does not verify) and sent as SNI when it is a name.
  io_status start_tls(SSL_CTX* ctx, const std::string& name, clock_type::time_point deadline, std::string& err);
  /// Half-close: TLS close_notify, then no more octets from us.
  void shutdown_write();
  /// Abort: TCP RST, or the command killed.
  void abort();

  [[nodiscard]] bool tls() const noexcept { return ssl_ != nullptr; }
  [[nodiscard]] std::string tls_info() const;
  [[nodiscard]] const std::string& stderr_tail() const noexcept { return err_tail_; }
  [[nodiscard]] bool is_command() const noexcept { return pid_ > 0 || exited_; }

  /// A command: waits up to `within` for it to exit by itself (after its
  /// stdin was closed, shutdown_write()), and gives its wait status
  /// (waitpid(2): WIFSIGNALED, WEXITSTATUS...). -1 when it is still running
  /// then (it is ended as usual when the connection goes) or is not a command.
  int wait_exit(std::chrono::milliseconds within);
  /// Reads what is left on the command's stderr (after it exited).
  void collect_stderr() { drain_stderr(); }

 private:
  client_conn() = default;
  // poll() one descriptor until `events` or the deadline; drains the
  // command's stderr meanwhile. False on timeout.
  bool wait(int fd, short events, clock_type::time_point deadline);
  void drain_stderr();
  io_status tls_io(int rc, clock_type::time_point deadline, bool& retry);
  void reap();

  int rfd_ = -1;
  int wfd_ = -1;  // == rfd_ for TCP
  int errfd_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
  SSL* ssl_ = nullptr;
  bool write_shut_ = false;
  std::string err_tail_;
};

/// A client TLS context: certificates verified against the system's CAs,
/// or not at all when `insecure`. nullptr and `err` on failure.
std::shared_ptr<SSL_CTX> make_client_tls(bool insecure, std::string& err);

}  // namespace smtpkit::mock::detail
