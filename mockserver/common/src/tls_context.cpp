// tls_context.cpp — certificate loading and in-memory self-signed certificates.
#include "smtpkit/mock/common/tls_context.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ctime>
#include <stdexcept>

namespace smtpkit::mock {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    if (i) out += ':';
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_deleter {
  void operator()(X509* p) const { X509_free(p); }
};

using key_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using cert_ptr = std::unique_ptr<X509, x509_deleter>;

/// The names a test server's certificate is valid for.
std::string server_names(const std::string& hostname) {
  std::string san = "DNS:" + hostname;
  if (hostname != "localhost") san += ",DNS:localhost";
  return san + ",IP:127.0.0.1,IP:::1";
}

key_ptr new_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("cannot generate a TLS key: " + openssl_error());
  return key;
}

/// A certificate for `key` named `cn` with subjectAltName `san` (empty: none),
/// signed by `issuer`/`issuer_key`, or self-signed when they are null.
cert_ptr issue(EVP_PKEY* key, const std::string& cn, const std::string& san, X509* issuer, EVP_PKEY* issuer_key,
               bool ca) {
  static std::atomic<long> serial{static_cast<long>(std::time(nullptr))};
  cert_ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("smtpkit mock server"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto ext = [&](int nid, const std::string& value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (e == nullptr) throw std::runtime_error("cannot make certificate extension: " + openssl_error());
    X509_add_ext(cert.get(), e, -1);
    X509_EXTENSION_free(e);
  };
  if (!san.empty()) ext(NID_subject_alt_name, san);
  ext(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) ext(NID_key_usage, "critical,keyCertSign,cRLSign");
  ext(NID_subject_key_identifier, "hash");
  if (issuer != nullptr) ext(NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0)
    throw std::runtime_error("cannot sign certificate: " + openssl_error());
  return cert;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw std::runtime_error("cannot write " + path);
  if ((cert != nullptr && PEM_write_X509(f.get(), cert) != 1) ||
      (key != nullptr && PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1))
    throw std::runtime_error("cannot write " + path + ": " + openssl_error());
}

}  // namespace

test_pki write_test_pki(const std::string& folder, const std::string& hostname) {
  test_pki out;
  auto ca_key = new_key();
  auto ca = issue(ca_key.get(), "smtpkit test CA", "", nullptr, nullptr, true);
  out.ca = folder + "/ca.pem";
  write_pem(out.ca, ca.get(), nullptr);
  const std::string san = server_names(hostname);
  auto leaf = [&](const char* name, const std::string& cn, const std::string& alt, bool signed_by_ca) {
    auto key = new_key();
    auto cert = signed_by_ca ? issue(key.get(), cn, alt, ca.get(), ca_key.get(), false)
                             : issue(key.get(), cn, alt, nullptr, nullptr, false);
    test_pki::pair p{folder + "/" + name + ".pem", folder + "/" + name + ".key"};
    write_pem(p.cert, cert.get(), nullptr);
    write_pem(p.key, nullptr, key.get());
    return p;
  };
  out.good = leaf("good", hostname, san, true);
  out.mismatch = leaf("mismatch", "wrong-name.invalid", "DNS:wrong-name.invalid", true);
  out.untrusted = leaf("untrusted", hostname, san, false);
  return out;
}

tls_setup make_tls(const std::string& cert_file, const std::string& key_file, const std::string& hostname) {
  namespace ssl = boost::asio::ssl;
  tls_setup t;
  t.ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  t.ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::single_dh_use);
  SSL_CTX* raw = t.ctx->native_handle();
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);

  if (!cert_file.empty() || !key_file.empty()) {
    if (cert_file.empty() || key_file.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    for (const auto& f : {cert_file, key_file})
      if (!std::ifstream(f)) throw std::runtime_error("cannot read " + f);
    if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1)
      throw std::runtime_error("cannot use certificate " + cert_file + ": " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("cannot use key " + key_file + ": " + openssl_error());
    if (SSL_CTX_check_private_key(raw) != 1)
      throw std::runtime_error("key " + key_file + " does not match certificate " + cert_file);
    t.fingerprint = fingerprint_of(SSL_CTX_get0_certificate(raw));
    return t;
  }

  const std::string san = server_names(hostname);
  auto key = new_key();
  auto cert = issue(key.get(), hostname, san, nullptr, nullptr, false);
  if (SSL_CTX_use_certificate(raw, cert.get()) != 1 || SSL_CTX_use_PrivateKey(raw, key.get()) != 1)
    throw std::runtime_error("cannot use the generated certificate: " + openssl_error());
  t.fingerprint = fingerprint_of(cert.get());
  t.self_signed = true;
  return t;
}

}  // namespace smtpkit::mock
