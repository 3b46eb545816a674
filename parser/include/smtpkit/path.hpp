// smtpkit/path.hpp — domains, address literals, mailboxes and paths
// (RFC 5321 §4.1.2, §4.1.3, size limits §4.5.3.1.1-3; RFC 6531 §3.3).
//
// Results are views into the caller's input; nothing allocates.
// Known limits: U-labels under SMTPUTF8 are checked for well-formed UTF-8
// and LDH-or-non-ASCII content only, not for IDNA2008 validity (RFC 5891).
// A general address literal whose tag is "IPv6" must be a valid IPv6 literal
// (the ABNF alone would also accept it as General-address-literal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/options.hpp"

namespace smtpkit {

/// §4.5.3.1: size limits.
inline constexpr std::size_t max_local_part = 64;
inline constexpr std::size_t max_domain = 255;
inline constexpr std::size_t max_label = 63;
inline constexpr std::size_t max_path = 256;

enum class host_kind : std::uint8_t {
  domain,   ///< Domain (sub-domain *("." sub-domain))
  ipv4,     ///< [IPv4-address-literal]
  ipv6,     ///< [IPv6:IPv6-addr]
  general,  ///< [Standardized-tag:dcontent]
};
std::string_view to_string(host_kind k) noexcept;

struct host {
  std::string_view text;  ///< as written, brackets included for literals
  host_kind kind = host_kind::domain;
  std::string_view tag;      ///< literal tag ("IPv6" or the Standardized-tag)
  std::string_view address;  ///< literal content after the tag, or the domain
  bool utf8 = false;         ///< contains a U-label (SMTPUTF8)
};

struct mailbox {
  std::string_view text;        ///< local-part "@" host
  std::string_view local_part;  ///< as written (quotes included when quoted)
  bool quoted = false;
  bool utf8 = false;  ///< non-ASCII local part or domain
  host domain;
};

enum class path_kind : std::uint8_t {
  reverse,  ///< MAIL FROM: Reverse-path = Path / "<>"
  forward,  ///< RCPT TO: Forward-path, plus "<Postmaster>"
};

struct path {
  std::string_view text;          ///< as written, brackets included
  std::string_view source_route;  ///< A-d-l without the ':' (deprecated, §4.1.2)
  mailbox mbox;
  bool null = false;        ///< "<>"
  bool postmaster = false;  ///< "<Postmaster>" without a domain (§4.1.1.3)
  bool bracketed = true;    ///< false only under lenient::path_brackets
};

template <class T>
struct parse_result {
  diagnostic diag;
  T value{};
  [[nodiscard]] bool ok() const noexcept { return diag.ok(); }
};

/// The whole input must be a Domain.
[[nodiscard]] parse_result<host> parse_domain(std::string_view in, parse_options opts = {}) noexcept;
/// The whole input must be a Domain or an address literal.
[[nodiscard]] parse_result<host> parse_host(std::string_view in, parse_options opts = {}) noexcept;
/// The whole input must be an address literal ("[...]").
[[nodiscard]] parse_result<host> parse_address_literal(std::string_view in, parse_options opts = {}) noexcept;
/// The whole input must be a Mailbox.
[[nodiscard]] parse_result<mailbox> parse_mailbox(std::string_view in, parse_options opts = {}) noexcept;
/// The whole input must be a Reverse-path or a Forward-path.
[[nodiscard]] parse_result<path> parse_path(std::string_view in, path_kind kind, parse_options opts = {}) noexcept;

}  // namespace smtpkit
