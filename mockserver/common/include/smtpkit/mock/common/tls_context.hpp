// smtpkit/mock/common/tls_context.hpp — the server's TLS context (OpenSSL through Boost.Asio): STARTTLS
// (RFC 3207) and implicit TLS (RFC 8314). Loads a certificate and key from
// PEM files, or makes a self-signed certificate in memory at start (EC
// P-256, valid for the configured host name, localhost and 127.0.0.1).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace smtpkit::mock {

struct tls_setup {
  std::unique_ptr<boost::asio::ssl::context> ctx;
  std::string fingerprint;  ///< SHA-256 of the certificate, "AB:CD:..."
  bool self_signed = false;
};

/// Throws std::runtime_error with a message a user can act on.
tls_setup make_tls(const std::string& cert_file, const std::string& key_file, const std::string& hostname);

/// Certificates for testing TLS clients (`smtpkit probe client`), written
/// as PEM files into a folder: a CA the client is told to trust, and three
/// server certificates with their keys: `good` (signed by the CA, valid for
/// `hostname`, localhost, 127.0.0.1 and ::1), `mismatch` (signed by the CA
/// for another name only: a client that checks names refuses it, RFC 6125
/// §6) and `untrusted` (self-signed, valid names: a client that checks the
/// chain refuses it). Throws std::runtime_error.
struct test_pki {
  std::string ca;
  struct pair {
    std::string cert, key;
  } good, mismatch, untrusted;
};
test_pki write_test_pki(const std::string& folder, const std::string& hostname);

}  // namespace smtpkit::mock
