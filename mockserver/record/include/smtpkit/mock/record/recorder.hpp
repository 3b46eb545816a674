// smtpkit/mock/record/recorder.hpp — `smtpkit record`: a proxy between an SMTP
// client and a real server that forwards every octet unchanged, both ways,
// and writes one transcript per session in the dialogue format (exact to
// the byte: bare LF and partial lines become C=/S= records).
//
// STARTTLS (RFC 3207): by default the proxy terminates TLS on both legs —
// a TLS server towards the client (--tls-cert/--tls-key, or a self-signed
// certificate made at start) and a TLS client towards the server (not
// verifying it unless asked) — so the dialogue inside TLS is recorded too,
// after an @tls record. With tls_passthrough it relays the encrypted octets
// and records only that TLS started.
//
// Implicit TLS (RFC 8314, implicit_tls): both legs start with TLS, terminated
// the same way (or relayed with tls_passthrough), and the transcript starts
// with @tls.
//
// With generalize, each transcript is made a reusable script when its
// session ends: what a client varies between runs becomes C~ patterns
// (smtpkit/mock/script/generalize.hpp), the recorded lines kept as comments.
//
// Limits: which reply answers
// STARTTLS is found by counting replies (RFC 2920 §3.1), so a server that
// sends an unsolicited reply before it confuses the switch; a close is
// passed on to the other side (half-close) and the session ends when that
// side closes too, or a grace period (2 s) later.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "smtpkit/mock/common/endpoint.hpp"

namespace smtpkit::mock {

struct recorder_config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  ///< 0: any free port (reported)
  std::string upstream_host;
  std::uint16_t upstream_port = 25;
  std::string out_dir;   ///< one transcript per session: <out_dir>/<run>-sNNNNNN.smtp, never replacing a file
  std::string tls_cert;  ///< client leg; empty: self-signed
  std::string tls_key;
  std::string hostname = "localhost";        ///< name in the self-signed certificate
  bool tls_passthrough = false;              ///< relay TLS without terminating it
  bool upstream_verify = false;              ///< verify the server's certificate and name
  bool implicit_tls = false;                 ///< both legs speak TLS from the first octet (RFC 8314)
  bool timing = false;                       ///< write @pause records for gaps
  bool generalize = false;                   ///< at the session's end, C~ patterns for what varies (generalize.hpp)
  std::chrono::milliseconds timing_min{20};  ///< shorter gaps are not written
  std::string events;                        ///< "" none, "-" standard output, else a file
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds connect_timeout{10};
  std::size_t max_sessions = 1000;
};

class recorder {
 public:
  /// Binds the listener, prepares TLS and the output folder; throws setup_error.
  explicit recorder(recorder_config cfg);
  ~recorder();
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;

  [[nodiscard]] const bound_endpoint& endpoint() const;
  /// Proxy until stop() or SIGINT/SIGTERM; returns 0.
  int run();
  /// Thread-safe: ask run() to stop (sessions are cut, transcripts written).
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> p_;
};

}  // namespace smtpkit::mock
