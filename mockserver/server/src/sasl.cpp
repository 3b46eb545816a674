// sasl.cpp — PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 exchanges.
#include "sasl.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <chrono>

#include "smtpkit/ascii.hpp"

namespace smtpkit::mock {
namespace {

using kind = sasl_step::kind;

bool check(const std::vector<user_entry>& users, const std::string& name, const std::string& password) {
  if (users.empty()) return true;
  for (const auto& u : users)
    if (u.name == name && u.password == password) return true;
  return false;
}

const user_entry* find_user(const std::vector<user_entry>& users, const std::string& name) {
  for (const auto& u : users)
    if (u.name == name) return &u;
  return nullptr;
}

// RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
class plain final : public sasl_exchange {
 public:
  explicit plain(const std::vector<user_entry>& u) : users_(u) {}
  sasl_step start(const std::optional<std::string>& initial) override {
    if (!initial) return {kind::challenge, {}, {}};
    return next(*initial);
  }
  sasl_step next(const std::string& r) override {
    auto a = r.find('\0');
    auto b = a == std::string::npos ? a : r.find('\0', a + 1);
    if (b == std::string::npos) return {kind::malformed, {}, {}};
    std::string authcid = r.substr(a + 1, b - a - 1);
    std::string pass = r.substr(b + 1);
    if (authcid.empty()) return {kind::malformed, {}, {}};
    if (!check(users_, authcid, pass)) return {kind::failure, {}, {}};
    return {kind::success, {}, authcid};
  }

 private:
  const std::vector<user_entry>& users_;
};

class login final : public sasl_exchange {
 public:
  explicit login(const std::vector<user_entry>& u) : users_(u) {}
  sasl_step start(const std::optional<std::string>& initial) override {
    if (initial) {
      user_ = *initial;
      step_ = 1;
      return {kind::challenge, "Password:", {}};
    }
    return {kind::challenge, "Username:", {}};
  }
  sasl_step next(const std::string& r) override {
    if (step_ == 0) {
      user_ = r;
      step_ = 1;
      return {kind::challenge, "Password:", {}};
    }
    if (!check(users_, user_, r)) return {kind::failure, {}, {}};
    return {kind::success, {}, user_};
  }

 private:
  const std::vector<user_entry>& users_;
  std::string user_;
  int step_ = 0;
};

// RFC 2195: challenge "<unique@host>", response "user SP hex(HMAC-MD5(pass, challenge))".
class cram_md5 final : public sasl_exchange {
 public:
  cram_md5(const std::vector<user_entry>& u, const std::string& host) : users_(u) {
    unsigned char rnd[8];
    RAND_bytes(rnd, sizeof rnd);
    std::string hex;
    static constexpr char digits[] = "0123456789abcdef";
    for (unsigned char c : rnd) {
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    auto now = std::chrono::system_clock::now().time_since_epoch().count();
    challenge_ = "<" + hex + "." + std::to_string(now) + "@" + host + ">";
  }
  sasl_step start(const std::optional<std::string>& initial) override {
    if (initial) return {kind::malformed, {}, {}};  // the server goes first
    return {kind::challenge, challenge_, {}};
  }
  sasl_step next(const std::string& r) override {
    auto sp = r.rfind(' ');
    if (sp == std::string::npos || sp == 0 || r.size() - sp - 1 != 32) return {kind::malformed, {}, {}};
    std::string name = r.substr(0, sp);
    std::string digest = r.substr(sp + 1);
    if (users_.empty()) return {kind::success, {}, name};
    const user_entry* u = find_user(users_, name);
    if (u == nullptr) return {kind::failure, {}, {}};
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_md5(), u->password.data(), static_cast<int>(u->password.size()),
         reinterpret_cast<const unsigned char*>(challenge_.data()), challenge_.size(), mac, &len);
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
      hex += digits[mac[i] >> 4];
      hex += digits[mac[i] & 15];
    }
    if (!iequals(hex, digest)) return {kind::failure, {}, {}};
    return {kind::success, {}, name};
  }

 private:
  const std::vector<user_entry>& users_;
  std::string challenge_;
};

// XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A
class xoauth2 final : public sasl_exchange {
 public:
  explicit xoauth2(const std::vector<user_entry>& u) : users_(u) {}
  sasl_step start(const std::optional<std::string>& initial) override {
    if (!initial) return {kind::challenge, {}, {}};
    return next(*initial);
  }
  sasl_step next(const std::string& r) override {
    if (r.rfind("user=", 0) != 0) return {kind::malformed, {}, {}};
    auto a = r.find('\x01');
    if (a == std::string::npos) return {kind::malformed, {}, {}};
    std::string name = r.substr(5, a - 5);
    std::string rest = r.substr(a + 1);
    constexpr std::string_view bearer = "auth=Bearer ";
    if (rest.compare(0, bearer.size(), bearer) != 0) return {kind::malformed, {}, {}};
    auto b = rest.find('\x01');
    if (b == std::string::npos) return {kind::malformed, {}, {}};
    std::string token = rest.substr(bearer.size(), b - bearer.size());
    if (!check(users_, name, token)) return {kind::failure, {}, {}};
    return {kind::success, {}, name};
  }

 private:
  const std::vector<user_entry>& users_;
};

}  // namespace

std::unique_ptr<sasl_exchange> make_sasl(std::string_view m, const std::vector<user_entry>& users,
                                         const std::string& host) {
  if (iequals(m, "PLAIN")) return std::make_unique<plain>(users);
  if (iequals(m, "LOGIN")) return std::make_unique<login>(users);
  if (iequals(m, "CRAM-MD5")) return std::make_unique<cram_md5>(users, host);
  if (iequals(m, "XOAUTH2")) return std::make_unique<xoauth2>(users);
  return nullptr;
}

}  // namespace smtpkit::mock
