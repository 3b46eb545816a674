// error.cpp — the rule table behind smtpkit::errc: id, reason, RFC section.
// Rule ids are part of the public contract (reports, JSON, tests): add new
// ones, never rename.
#include "smtpkit/error.hpp"

#include <array>
#include <string>

namespace smtpkit {
namespace {

struct rule_row {
  errc code;
  std::string_view id;
  std::string_view reason;
  std::string_view rfc;
};

constexpr std::array<rule_row, static_cast<std::size_t>(errc::count_)> rows{{
    {errc::ok, "ok", "no error", ""},
    {errc::line_too_long, "line.too-long", "line exceeds the length limit", "RFC 5321 §4.5.3.1"},
    {errc::bare_cr, "line.bare-cr", "CR not followed by LF", "RFC 5321 §2.3.8"},
    {errc::bare_lf, "line.bare-lf", "LF not preceded by CR", "RFC 5321 §2.3.8"},
    {errc::nul_byte, "line.nul", "NUL octet in line", "RFC 5321 §4.1.2"},
    {errc::control_char, "line.control", "control character in line", "RFC 5321 §4.1.2"},
    {errc::empty_command, "command.empty", "empty command line", "RFC 5321 §4.1.1"},
    {errc::unknown_verb, "command.unknown", "command not recognised", "RFC 5321 §4.1.1"},
    {errc::missing_argument, "command.missing-argument", "expected SP and an argument", "RFC 5321 §4.1.1"},
    {errc::unexpected_argument, "command.unexpected-argument", "command takes no argument", "RFC 5321 §4.1.1"},
    {errc::trailing_whitespace, "command.trailing-space", "white space before CRLF", "RFC 5321 §4.1.1"},
    {errc::extra_space, "command.extra-space", "unexpected SP", "RFC 5321 §4.1.2"},
    {errc::mail_from_keyword, "mail.from", "expected \"MAIL FROM:\"", "RFC 5321 §4.1.1.2"},
    {errc::rcpt_to_keyword, "rcpt.to", "expected \"RCPT TO:\"", "RFC 5321 §4.1.1.3"},
    {errc::space_after_colon, "path.space-after-colon", "SP between ':' and the path", "RFC 5321 §4.1.1.2"},
    {errc::string_syntax, "command.string", "expected an Atom or a Quoted-string (VRFY, EXPN: a printable string)",
     "RFC 5321 §4.1.2"},
    {errc::helo_address_literal, "helo.address-literal", "HELO takes a Domain, not an address literal",
     "RFC 5321 §4.1.1.1"},
    {errc::path_open, "path.open", "expected '<'", "RFC 5321 §4.1.2"},
    {errc::path_close, "path.close", "expected '>'", "RFC 5321 §4.1.2"},
    {errc::path_brackets, "path.brackets", "path without angle brackets", "RFC 5321 §4.1.2"},
    {errc::source_route, "path.source-route", "malformed source route", "RFC 5321 §4.1.2"},
    {errc::path_too_long, "path.length", "path longer than 256 octets", "RFC 5321 §4.5.3.1.3"},
    {errc::missing_at, "mailbox.missing-at", "expected '@' after the local part", "RFC 5321 §4.1.2"},
    {errc::local_part_syntax, "local-part.syntax", "local part is not a Dot-string", "RFC 5321 §4.1.2"},
    {errc::quoted_string, "local-part.quoted", "malformed Quoted-string", "RFC 5321 §4.1.2"},
    {errc::local_part_too_long, "local-part.length", "local part longer than 64 octets", "RFC 5321 §4.5.3.1.1"},
    {errc::domain_empty, "domain.empty", "empty domain or label", "RFC 5321 §4.1.2"},
    {errc::domain_syntax, "domain.syntax", "character not allowed in a domain label", "RFC 5321 §4.1.2"},
    {errc::domain_hyphen, "domain.hyphen", "label starts or ends with '-'", "RFC 5321 §4.1.2"},
    {errc::domain_label_too_long, "domain.label-length", "label longer than 63 octets", "RFC 1035 §2.3.4"},
    {errc::domain_too_long, "domain.length", "domain longer than 255 octets", "RFC 5321 §4.5.3.1.2"},
    {errc::address_literal, "address-literal.syntax", "malformed address literal", "RFC 5321 §4.1.3"},
    {errc::ipv4_literal, "address-literal.ipv4", "malformed IPv4 address literal", "RFC 5321 §4.1.3"},
    {errc::ipv6_literal, "address-literal.ipv6", "malformed IPv6 address literal", "RFC 5321 §4.1.3"},
    {errc::general_literal, "address-literal.general", "malformed general address literal", "RFC 5321 §4.1.3"},
    {errc::eight_bit, "smtputf8.eight-bit", "8-bit octet without SMTPUTF8", "RFC 6531 §3.3"},
    {errc::invalid_utf8, "smtputf8.invalid-utf8", "ill-formed UTF-8", "RFC 6531 §3.3"},
    {errc::param_syntax, "param.syntax", "malformed esmtp-param", "RFC 5321 §4.1.2"},
    {errc::param_duplicate, "param.duplicate", "parameter given twice", "RFC 5321 §4.1.1.11"},
    {errc::param_unknown, "param.unknown", "parameter not recognised", "RFC 5321 §4.1.1.11"},
    {errc::param_misplaced, "param.misplaced", "parameter not allowed on this command", "RFC 5321 §4.1.1.11"},
    {errc::param_value_missing, "param.value-missing", "parameter needs a value", "RFC 5321 §4.1.2"},
    {errc::param_value_unexpected, "param.value-unexpected", "parameter takes no value", "RFC 5321 §4.1.2"},
    {errc::param_size, "param.size", "SIZE value is not 1*20DIGIT", "RFC 1870 §6"},
    {errc::param_body, "param.body", "BODY is not 7BIT, 8BITMIME or BINARYMIME", "RFC 6152 §2"},
    {errc::param_ret, "param.ret", "RET is not FULL or HDRS", "RFC 3461 §4.3"},
    {errc::param_envid, "param.envid", "ENVID is not xtext of at most 100 octets", "RFC 3461 §4.4"},
    {errc::param_notify, "param.notify", "NOTIFY is not NEVER or a list of SUCCESS, FAILURE, DELAY", "RFC 3461 §4.1"},
    {errc::param_orcpt, "param.orcpt", "ORCPT is not addr-type \";\" xtext", "RFC 3461 §4.2"},
    {errc::param_auth, "param.auth", "AUTH= is not xtext or <>", "RFC 4954 §5"},
    {errc::param_mt_priority, "param.mt-priority", "MT-PRIORITY is not an integer from -9 to 9", "RFC 6710 §7"},
    {errc::auth_mechanism, "auth.mechanism", "SASL mechanism is not 1*20 of A-Z 0-9 - _", "RFC 4954 §4"},
    {errc::auth_initial_response, "auth.initial-response", "initial response is not base64 or '='", "RFC 4954 §4"},
    {errc::auth_response, "auth.response", "response is not base64 or '*'", "RFC 4954 §4"},
    {errc::bdat_size, "bdat.size", "chunk size is not 1*DIGIT in range", "RFC 3030 §2"},
    {errc::bdat_last, "bdat.last", "expected \"LAST\"", "RFC 3030 §2"},
    {errc::reply_empty, "reply.empty", "empty reply", "RFC 5321 §4.2"},
    {errc::reply_code, "reply.code", "reply code is not %x32-35 %x30-35 %x30-39", "RFC 5321 §4.2"},
    {errc::reply_separator, "reply.separator", "expected SP, '-' or CRLF after the code", "RFC 5321 §4.2"},
    {errc::reply_text, "reply.text", "character not allowed in reply text", "RFC 5321 §4.2"},
    {errc::reply_code_mismatch, "reply.code-mismatch", "lines of a multi-line reply carry different codes",
     "RFC 5321 §4.2.1"},
    {errc::reply_incomplete, "reply.incomplete", "multi-line reply ends with a continuation line", "RFC 5321 §4.2.1"},
    {errc::reply_line_ending, "reply.line-ending", "reply line not terminated by CRLF", "RFC 5321 §2.3.8"},
    {errc::enhanced_code, "reply.enhanced-code", "malformed enhanced status code", "RFC 3463 §2"},
    {errc::enhanced_class, "reply.enhanced-class", "enhanced status class differs from the reply code", "RFC 2034 §4"},
    {errc::ehlo_domain, "ehlo-reply.domain", "EHLO reply must start with 250 and a Domain", "RFC 5321 §4.1.1.1"},
    {errc::ehlo_keyword, "ehlo-reply.keyword", "malformed EHLO keyword", "RFC 5321 §4.1.1.1"},
    {errc::ehlo_param, "ehlo-reply.param", "malformed EHLO parameter", "RFC 5321 §4.1.1.1"},
    {errc::greeting_domain, "greeting.domain", "220 greeting must start with a Domain or address literal",
     "RFC 5321 §4.2"},
    {errc::trailing_data, "input.trailing", "unexpected octets after the end of the element", "RFC 5321 §4.1.2"},
}};

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (static_cast<std::size_t>(rows[i].code) != i) return false;
  return true;
}
static_assert(rows_in_order(), "rule table must follow the order of enum errc");

const rule_row& row(errc e) noexcept {
  auto i = static_cast<std::size_t>(e);
  return rows[i < rows.size() ? i : 0];
}

class grammar_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smtpkit.grammar"; }
  std::string message(int ev) const override {
    const auto& r = row(static_cast<errc>(ev));
    return std::string(r.id) + ": " + std::string(r.reason) + " (" + std::string(r.rfc) + ")";
  }
};

}  // namespace

std::string_view rule_id(errc e) noexcept { return row(e).id; }
std::string_view reason(errc e) noexcept { return row(e).reason; }
std::string_view rfc_section(errc e) noexcept { return row(e).rfc; }

errc errc_from_rule_id(std::string_view id) noexcept {
  for (const auto& r : rows)
    if (r.id == id) return r.code;
  return errc::count_;
}

const std::error_category& grammar_category() noexcept {
  static const grammar_category_impl cat;
  return cat;
}

}  // namespace smtpkit
