// smtpkit/params.hpp — ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2)
// and the typed values of the extensions the grammar knows:
//   SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531),
//   RET / ENVID / NOTIFY / ORCPT (RFC 3461), AUTH= (RFC 4954 §5),
//   MT-PRIORITY (RFC 6710), REQUIRETLS (RFC 8689).
//
// The generic esmtp-param list is kept as a view and iterated on demand, so
// a command with parameters still parses without allocating. Typed values
// are decoded into `mail_params` while parsing. xtext values are kept
// encoded (decode with xtext_decode when needed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/options.hpp"

namespace smtpkit {

/// esmtp-param = esmtp-keyword ["=" esmtp-value]
struct esmtp_param {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
  std::uint32_t offset = 0;  ///< of the keyword, relative to the params text
};

/// Iterates over a validated Mail-parameters / Rcpt-parameters text.
class param_list {
 public:
  constexpr param_list() = default;
  explicit constexpr param_list(std::string_view text) noexcept : text_(text) {}

  class iterator {
   public:
    using value_type = esmtp_param;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(std::string_view text, std::size_t pos) noexcept : text_(text), pos_(pos) { load(); }
    const esmtp_param& operator*() const noexcept { return cur_; }
    const esmtp_param* operator->() const noexcept { return &cur_; }
    iterator& operator++() noexcept {
      pos_ = next_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      auto t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.pos_ == b.pos_; }

   private:
    void load() noexcept;
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t next_ = 0;
    esmtp_param cur_;
  };

  [[nodiscard]] iterator begin() const noexcept { return {text_, text_.empty() ? npos : 0}; }
  [[nodiscard]] iterator end() const noexcept { return {text_, npos}; }
  [[nodiscard]] bool empty() const noexcept { return text_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  /// First parameter whose keyword matches (case-insensitive).
  [[nodiscard]] const esmtp_param* find(std::string_view keyword, esmtp_param& out) const noexcept;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  std::string_view text_;
};

/// Parameters the grammar knows, as bits of mail_params::present.
enum class param_id : std::uint8_t {
  size,
  body,
  smtputf8,
  ret,
  envid,
  auth,
  mt_priority,
  requiretls,  // MAIL
  notify,
  orcpt,  // RCPT
  count_
};
std::string_view to_string(param_id p) noexcept;
/// The param_id of a keyword (case-insensitive); param_id::count_ if unknown.
param_id param_from_keyword(std::string_view keyword) noexcept;
/// True when the parameter belongs to MAIL (false: RCPT).
bool is_mail_param(param_id p) noexcept;

enum class body_type : std::uint8_t { none, seven_bit, eight_bit_mime, binary_mime };
enum class dsn_ret : std::uint8_t { none, full, hdrs };
enum notify_flags : std::uint8_t {
  notify_never = 1u << 0,
  notify_success = 1u << 1,
  notify_failure = 1u << 2,
  notify_delay = 1u << 3,
};
std::string_view to_string(body_type b) noexcept;
std::string_view to_string(dsn_ret r) noexcept;

struct mail_params {
  std::uint32_t present = 0;  ///< bit (1 << param_id) for each known parameter seen
  std::uint16_t unknown = 0;  ///< count of unknown parameters
  std::uint64_t size = 0;
  body_type body = body_type::none;
  dsn_ret ret = dsn_ret::none;
  std::int8_t mt_priority = 0;
  std::uint8_t notify = 0;
  std::string_view envid;       ///< xtext, encoded
  std::string_view auth;        ///< xtext or "<>", encoded
  std::string_view orcpt_type;  ///< addr-type ("rfc822", "utf-8", ...)
  std::string_view orcpt;       ///< xtext, encoded

  [[nodiscard]] bool has(param_id p) const noexcept { return (present >> static_cast<unsigned>(p)) & 1u; }
};

/// Validate a Mail-parameters or Rcpt-parameters text (the part after the
/// path and its SP) and decode the known parameters. Syntax errors come
/// first; then duplicates, misplaced, unknown and badly typed values, in the
/// order they appear. Offsets are relative to `text`.
[[nodiscard]] diagnostic parse_params(std::string_view text, bool for_mail, parse_options opts,
                                      mail_params& out) noexcept;

/// RFC 3461 §4: xtext = *( xchar / hexchar ).
[[nodiscard]] bool is_xtext(std::string_view s) noexcept;
/// Decode xtext ("+2B" → "+"); returns false on malformed input.
[[nodiscard]] bool xtext_decode(std::string_view s, std::string& out);
/// Encode octets as xtext.
[[nodiscard]] std::string xtext_encode(std::string_view s);

}  // namespace smtpkit
