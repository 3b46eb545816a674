// smtpkit/error.hpp — why the grammar rejected a piece of SMTP.
//
// One enumerator per grammar rule that can fail. Each carries a stable rule
// id (used in reports, JSON and tests), a fixed short reason, and the RFC
// section that defines the rule. A `diagnostic` adds the byte offset.
// The enum is hooked into std::error_code through smtpkit::grammar_category().
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace smtpkit {

enum class errc : std::uint8_t {
  ok = 0,

  // --- line framing (RFC 5321 §2.3.8, §4.5.3.1) ---
  /// Line longer than its limit (512 command, 512 reply, 1000 text, CRLF included).
  line_too_long,
  /// CR not followed by LF.
  bare_cr,
  /// LF not preceded by CR.
  bare_lf,
  /// NUL octet inside a line.
  nul_byte,
  /// Other control octet (0x01-0x1F except HT, or 0x7F) inside a line.
  control_char,

  // --- commands (RFC 5321 §4.1.1) ---
  /// Empty command line.
  empty_command,
  /// Verb not known to the grammar (recognised; fields still filled).
  unknown_verb,
  /// Verb not followed by SP where an argument is required.
  missing_argument,
  /// Argument given to a command that takes none (DATA, RSET, QUIT, STARTTLS).
  unexpected_argument,
  /// White space before CRLF (§4.1.1: receivers SHOULD tolerate it).
  trailing_whitespace,
  /// More than one SP between tokens, or SP where none is allowed.
  extra_space,
  /// "MAIL" not followed by " FROM:".
  mail_from_keyword,
  /// "RCPT" not followed by " TO:".
  rcpt_to_keyword,
  /// SP between "FROM:"/"TO:" and the path.
  space_after_colon,
  /// Argument of HELP/NOOP is not an Atom or Quoted-string; of VRFY/EXPN,
  /// not a printable string (RFC 5321 §3.5.1 widens String for them).
  string_syntax,
  /// HELO argument is an address literal (ABNF allows only Domain).
  helo_address_literal,

  // --- paths and mailboxes (§4.1.2) ---
  /// Path does not start with "<".
  path_open,
  /// Path does not end with ">" where expected.
  path_close,
  /// Path given without angle brackets.
  path_brackets,
  /// Malformed source route (A-d-l).
  source_route,
  /// Path longer than 256 octets (§4.5.3.1.3).
  path_too_long,
  /// Mailbox without "@".
  missing_at,
  /// Local-part is not a Dot-string (empty atom, leading/trailing/double dot, bad char).
  local_part_syntax,
  /// Quoted-string local part malformed (bad qtext, bad quoted-pair, unterminated).
  quoted_string,
  /// Local-part longer than 64 octets (§4.5.3.1.1).
  local_part_too_long,
  /// Empty domain or empty label.
  domain_empty,
  /// Character not allowed in a domain label (letters, digits, hyphen only).
  domain_syntax,
  /// Label starts or ends with a hyphen.
  domain_hyphen,
  /// Label longer than 63 octets (RFC 1035 §2.3.4).
  domain_label_too_long,
  /// Domain longer than 255 octets (§4.5.3.1.2).
  domain_too_long,
  /// Address literal missing "]" or empty.
  address_literal,
  /// Malformed IPv4 address literal (Snum 0-255, four parts).
  ipv4_literal,
  /// Malformed IPv6 address literal (§4.1.3, all four forms).
  ipv6_literal,
  /// Malformed general address literal (Standardized-tag ":" 1*dcontent).
  general_literal,
  /// Octet >= 0x80 while SMTPUTF8 is not in force (RFC 6531 §3.3).
  eight_bit,
  /// Ill-formed UTF-8 sequence (RFC 6531 §3.3, RFC 3629).
  invalid_utf8,

  // --- ESMTP parameters (§4.1.2, extension RFCs) ---
  /// Malformed esmtp-keyword or esmtp-value.
  param_syntax,
  /// Same parameter given twice.
  param_duplicate,
  /// Parameter not defined by any extension the grammar knows.
  param_unknown,
  /// Known parameter used on the wrong command (e.g. NOTIFY on MAIL).
  param_misplaced,
  /// Parameter that needs a value given without one.
  param_value_missing,
  /// Parameter that takes no value given one.
  param_value_unexpected,
  /// SIZE value not 1*20DIGIT (RFC 1870 §6).
  param_size,
  /// BODY value not 7BIT / 8BITMIME / BINARYMIME (RFC 6152 §2, RFC 3030 §3).
  param_body,
  /// RET value not FULL / HDRS (RFC 3461 §4.3).
  param_ret,
  /// ENVID not xtext or over 100 octets (RFC 3461 §4.4).
  param_envid,
  /// NOTIFY not NEVER or a list of SUCCESS/FAILURE/DELAY (RFC 3461 §4.1).
  param_notify,
  /// ORCPT not addr-type ";" xtext, or over 500 octets (RFC 3461 §4.2).
  param_orcpt,
  /// AUTH= not xtext or "<>" (RFC 4954 §5).
  param_auth,
  /// MT-PRIORITY not an integer from -9 to 9 (RFC 6710 §6).
  param_mt_priority,

  // --- AUTH and BDAT (RFC 4954 §4, RFC 3030 §2) ---
  /// SASL mechanism name not 1*20 of A-Z 0-9 - _.
  auth_mechanism,
  /// Initial response not base64 or "=".
  auth_initial_response,
  /// AUTH continuation line not base64 or "*".
  auth_response,
  /// BDAT chunk-size not 1*DIGIT or out of range.
  bdat_size,
  /// BDAT end marker not "LAST".
  bdat_last,

  // --- replies (§4.2, RFC 2034, RFC 3463) ---
  /// Empty reply.
  reply_empty,
  /// Reply code not %x32-35 %x30-35 %x30-39.
  reply_code,
  /// Code not followed by SP, "-" or CRLF.
  reply_separator,
  /// Reply text contains a character outside textstring.
  reply_text,
  /// Lines of a multi-line reply carry different codes (§4.2.1).
  reply_code_mismatch,
  /// Multi-line reply whose last line is a continuation line.
  reply_incomplete,
  /// Line of a reply not terminated by CRLF.
  reply_line_ending,
  /// Enhanced status code not class "." subject "." detail (RFC 3463 §2).
  enhanced_code,
  /// Enhanced status code class differs from the reply code's first digit (RFC 2034 §4).
  enhanced_class,
  /// EHLO reply does not begin with 250 and a Domain (§4.1.1.1).
  ehlo_domain,
  /// EHLO keyword malformed (§4.1.1.1).
  ehlo_keyword,
  /// EHLO parameter malformed (§4.1.1.1).
  ehlo_param,
  /// Greeting does not carry a Domain or address literal (§4.2).
  greeting_domain,
  /// Octets after the end of a complete element (standalone parses).
  trailing_data,

  count_
};

/// Stable id of a rule ("path.local-part.length" ...). Never changes once published.
[[nodiscard]] std::string_view rule_id(errc e) noexcept;
/// Fixed one-line reason.
[[nodiscard]] std::string_view reason(errc e) noexcept;
/// "RFC 5321 §4.1.2" and the like.
[[nodiscard]] std::string_view rfc_section(errc e) noexcept;
/// Reverse lookup for tools and tests; errc::count_ when unknown.
[[nodiscard]] errc errc_from_rule_id(std::string_view id) noexcept;

const std::error_category& grammar_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), grammar_category()}; }

/// Why and where a parse failed. `offset` is relative to the start of the
/// input given to the parse call.
struct diagnostic {
  errc code = errc::ok;
  std::uint32_t offset = 0;

  [[nodiscard]] explicit operator bool() const noexcept { return code != errc::ok; }
  [[nodiscard]] bool ok() const noexcept { return code == errc::ok; }
  [[nodiscard]] std::string_view rule() const noexcept { return rule_id(code); }
  [[nodiscard]] std::string_view why() const noexcept { return reason(code); }
  [[nodiscard]] std::string_view rfc() const noexcept { return rfc_section(code); }
};

}  // namespace smtpkit

template <>
struct std::is_error_code_enum<smtpkit::errc> : std::true_type {};
