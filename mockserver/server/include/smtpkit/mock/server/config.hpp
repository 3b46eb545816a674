// smtpkit/mock/server/config.hpp — everything `smtpkit serve` can be told.
// Defaults give a correct ESMTP server that accepts every message, with the
// limits RFC 5321 §4.5.3 requires as minimums and timeouts of §4.5.3.2.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smtpkit/conformance/policy.hpp"
#include "smtpkit/conformance/rules.hpp"

namespace smtpkit::mock {

struct listen_spec {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2525;
  bool implicit_tls = false;  ///< RFC 8314: TLS from the first octet
};

struct user_entry {
  std::string name;
  std::string password;
};

struct extensions_config {
  bool pipelining = true;
  bool size = true;
  bool eightbitmime = true;
  bool smtputf8 = true;
  bool enhancedstatuscodes = true;
  bool dsn = true;
  bool chunking = true;
  bool binarymime = true;
  bool starttls = true;
  bool auth = true;
};

struct server_config {
  std::vector<listen_spec> listens;
  std::string hostname = "localhost";
  extensions_config ext;
  std::uint64_t max_size = 32u << 20;  ///< SIZE advertised and enforced (octets)
  std::vector<std::string> auth_mechanisms{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};
  std::vector<user_entry> users;  ///< empty: any credentials are accepted
  bool auth_required = false;     ///< MAIL needs a successful AUTH first (530)

  std::string tls_cert;  ///< PEM; empty: a self-signed certificate is made at start
  std::string tls_key;

  /// Where accepted messages go; empty: a fresh folder under $TMPDIR (or
  /// /tmp), made at start, named on stderr and in the "ready" event.
  std::string maildir;
  bool discard = false;
  bool durable = false;  ///< fsync message, envelope and folder before 250

  std::string events;  ///< "" none, "-" standard output, else a file
  /// Octets of events a slow reader may leave unread before events are
  /// dropped (and counted); the server never waits for the reader.
  std::size_t events_backlog = 8u << 20;
  std::string transcripts;  ///< folder for one transcript per session

  std::size_t max_line = 2048;  ///< command line (512 + extension increments, §4.5.3.1.4)
  std::size_t max_recipients = 1000;
  std::size_t max_sessions = 20000;
  std::size_t max_errors = 50;
  std::chrono::seconds idle_timeout{300};  ///< §4.5.3.2.7
  std::chrono::seconds session_timeout{3600};
  /// A command line (or a TLS handshake) must arrive whole within this
  /// time of its first octet, whatever trickles in meanwhile; message data
  /// gets it too, plus a second for every `min_data_rate` octets (up to
  /// max_size), like Postfix's smtpd_per_record_deadline and
  /// smtpd_min_data_rate. 0: off (the idle timeout only).
  std::chrono::seconds line_deadline{60};
  std::uint64_t min_data_rate = 1000;  ///< octets per second; 0: no credit for data
  std::chrono::seconds shutdown_grace{10};

  /// Emulate lenient servers: take a bare LF as the end of a command line.
  bool lenient_bare_lf = false;
  /// Emulate a smuggling-prone server: these "." variants (anomaly_bit of
  /// smtpkit::data_anomaly) also end the data.
  std::uint32_t accept_eod = 0;

  bool check_client = true;  ///< run the conformance engine on each client
  /// Console (stderr): 0 errors only, 1 start lines, messages and findings,
  /// 2 also sessions and their dialogue.
  int verbosity = 1;
  /// SIGINT/SIGTERM stop the server. Off for a server inside a tool that
  /// handles them itself (`smtpkit fuzz client` runs one per session).
  bool handle_signals = true;
  std::optional<conformance::level> fail_on;
  /// Waivers and levels: a waived finding is still an event, marked waived,
  /// and never counts toward fail_on; a re-levelled one counts at its level.
  conformance::policy policy;
};

}  // namespace smtpkit::mock
