// fuzz/fuzz_differential.cpp — differential libFuzzer target: the fast
// parser and the reference grammar (fuzz/reference/smtp.abnf, read by the
// backtracking matcher of fuzz/reference/abnf.hpp) must accept exactly the
// same inputs, entry point by entry point, in strict mode.
//
// Byte 0 picks the entry point (byte % entry_count) and, for entry points
// that have one, SMTPUTF8 mode (bit 0 of byte / entry_count); the rest is the
// input. Line-level entry points get CRLF appended for the reference, as the
// RFC rules include it. Inputs over 1100 octets are skipped (the reference
// is slow and length limits decide there anyway).
//
// A disagreement traps unless it is one of the deliberate differences listed
// in docs/fuzzing.md, each checked here against the input itself — mostly
// with the reference matcher (a "too long" verdict must point at an element
// the reference matched and that is really over the limit). For parameter
// lists the parser's error class is also checked: a syntax error exactly
// when RFC 5321's generic esmtp-param grammar rejects. Every diagnostic's
// rule id must read back as its rule.
// Limits: lenient flags are not compared (they relax named rules on purpose);
// replies are compared without SMTPUTF8 (no RFC grammar for UTF-8 replies).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_support.hpp"
#include "reference/grammar.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/params.hpp"
#include "smtpkit/path.hpp"
#include "smtpkit/reply.hpp"

namespace {

using namespace smtpkit;

enum class entry : std::uint8_t {
  command,
  reverse_path,
  forward_path,
  mailbox,
  domain,
  host,
  address_literal,
  mail_params,
  rcpt_params,
  reply,
  reply_line,
  greeting,
  ehlo,
  enhanced,
  auth_response,
  xtext,
  base64,
  count_
};
constexpr unsigned entry_count = static_cast<unsigned>(entry::count_);

bool has_utf8_mode(entry e) { return e <= entry::rcpt_params; }

const char* const entry_names[] = {"command",    "reverse-path",    "forward-path", "mailbox",     "domain",
                                   "host",       "address-literal", "mail-params",  "rcpt-params", "reply",
                                   "reply-line", "greeting",        "ehlo",         "enhanced",    "auth-response",
                                   "xtext",      "base64"};

// Only on the way to a trap: say what disagreed, so a crash file explains
// itself (the input is printed with C escapes).
[[noreturn]] void disagree(entry e, bool utf8, std::string_view in, diagnostic d, bool ref_ok) {
  std::string shown;
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    char buf[8];
    if (c == '\\') shown += "\\\\";
    else if (c >= 0x20 && c < 0x7F) shown += ch;
    else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      shown += buf;
    }
  }
  std::fprintf(stderr, "differential: %s%s: parser %s%s at %u, reference %s: \"%s\"\n",
               entry_names[static_cast<unsigned>(e)], utf8 ? " (SMTPUTF8)" : "", d.ok() ? "accepts" : "rejects ",
               d.ok() ? "" : std::string(d.rule()).c_str(), static_cast<unsigned>(d.offset),
               ref_ok ? "accepts" : "rejects", shown.c_str());
  __builtin_trap();
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool longer_match(abnf::matcher& m, std::string_view rule, std::size_t at, std::size_t limit) {
  for (std::size_t e : m.ends_of(rule, at))
    if (e - at > limit) return true;
  return false;
}

// The esmtp-value starting at `at`: up to SP or the end.
std::string_view value_at(std::string_view in, std::size_t at) {
  std::string_view v = in.substr(at < in.size() ? at : in.size());
  return v.substr(0, v.find(' '));
}

bool whole_match(bool utf8, std::string_view text, std::string_view rule) {
  abnf::matcher m(reference::smtp_grammar(utf8), text);
  return m.matches(rule);
}

// Lines of a reply whose codes differ (RFC 5321 §4.2.1 prose, not ABNF).
bool codes_differ(std::string_view in) {
  reply_lines lines(in);
  std::string_view line, first;
  bool any = false;
  while (lines.next(line)) {
    if (!any) first = line.substr(0, 3);
    else if (line.substr(0, 3) != first) return true;
    any = true;
  }
  return false;
}

// A host the reference accepts but the parser may not: a Domain or label
// over its length limit, or "[IPv6:" before something that is only a
// General-address-literal.
bool host_difference(std::string_view in, std::size_t o, abnf::matcher& m) {
  if (longer_match(m, "Domain", o, max_domain) || longer_match(m, "sub-domain", o, max_label)) return true;
  const std::size_t open = in.rfind('[', o);
  if (open == std::string_view::npos || !iequal(in.substr(open + 1, 5), "IPv6:")) return false;
  for (std::size_t end : m.ends_of("General-address-literal", open + 1))
    if (end < in.size() && in[end] == ']') return true;
  return false;
}

// The parser rejected what the reference accepts: is it a listed difference?
bool explained_reject(entry e, std::string_view in, diagnostic d, abnf::matcher& m, bool utf8) {
  const std::size_t o = d.offset;
  switch (d.code) {
    // Length limits: RFC 5321 §4.5.3.1.1-3, RFC 1035 §2.3.4.
    case errc::local_part_too_long: return longer_match(m, "Local-part", o, max_local_part);
    case errc::path_too_long:
      return longer_match(m, "Reverse-path", o, max_path) || longer_match(m, "ref-forward-path", o, max_path);
    // Host errors, also as the greeting and EHLO response report them.
    case errc::domain_too_long:
    case errc::domain_label_too_long:
    case errc::ipv6_literal: return host_difference(in, o, m);
    case errc::greeting_domain: return e == entry::greeting && host_difference(in, o, m);
    case errc::ehlo_domain: return e == entry::ehlo && host_difference(in, o, m);
    // Uniqueness: RFC 5321 §4.1.1.11 / RFC 1870 §6 / RFC 6710 §4.1 prose.
    case errc::param_duplicate: {
      std::string_view kw = in.substr(o);
      kw = kw.substr(0, kw.find_first_of("= "));
      for (std::size_t p = in.find(' '); p != std::string_view::npos && p < o; p = in.find(' ', p + 1)) {
        std::string_view other = in.substr(p + 1);
        other = other.substr(0, other.find_first_of("= "));
        if (iequal(other, kw)) return true;
      }
      return (e == entry::mail_params || e == entry::rcpt_params) && o > 0 &&
             iequal(in.substr(0, in.find_first_of("= ")), kw);
    }
    // RFC 3461 length limits of ENVID (100) and ORCPT (500).
    case errc::param_envid: {
      std::string_view v = value_at(in, o);
      return v.size() > 100 && whole_match(utf8, v, "xtext");
    }
    // ORCPT: over 500 octets, or no address after "addr-type;" (the ABNF's
    // xtext may be empty; RFC 3461 §4.2 says it carries the address).
    case errc::param_orcpt: {
      std::string_view v = value_at(in, o);
      if (!whole_match(utf8, v, "original-recipient-address")) return false;
      return v.size() > 500 || v.find(';') + 1 == v.size();
    }
    // NOTIFY elements named twice ("DELAY,DELAY").
    case errc::param_notify: {
      std::string_view v = value_at(in, o);
      for (std::size_t a = 0; a < v.size();) {
        std::size_t ae = v.find(',', a);
        std::string_view item = v.substr(a, ae == std::string_view::npos ? std::string_view::npos : ae - a);
        for (std::size_t b = ae == std::string_view::npos ? v.size() : ae + 1; b < v.size();) {
          std::size_t be = v.find(',', b);
          if (iequal(item, v.substr(b, be == std::string_view::npos ? std::string_view::npos : be - b))) return true;
          b = be == std::string_view::npos ? v.size() : be + 1;
        }
        a = ae == std::string_view::npos ? v.size() : ae + 1;
      }
      return false;
    }
    // AUTH=: RFC 3461's upper-case hexchar, not RFC 4954 §8's HEXDIG.
    case errc::param_auth: {
      std::string_view v = value_at(in, o);
      for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] == '+')
          for (std::size_t k = i + 1; k <= i + 2 && k < v.size(); ++k)
            if (v[k] >= 'a' && v[k] <= 'f') return true;
      return false;
    }
    // chunk-size = 1*DIGIT, but it must fit 64 bits.
    case errc::bdat_size: {
      std::size_t end = o;
      while (end < in.size() && in[end] >= '0' && in[end] <= '9') ++end;
      std::string_view digits = in.substr(o, end - o);
      while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
      return digits.size() > 20 || (digits.size() == 20 && digits > "18446744073709551615");
    }
    case errc::reply_code_mismatch: return codes_differ(in);
    // ehlo-greet allows control octets that textstring (every reply line) does not.
    case errc::reply_text: {
      if (e != entry::ehlo || o >= in.size()) return false;
      const auto c = static_cast<unsigned char>(in[o]);
      return c <= 8 || c == 11 || c == 12 || (c >= 14 && c <= 31) || c == 127;
    }
    // EHLO SIZE parameter: RFC 1870 digits, not any ehlo-param.
    case errc::ehlo_param: {
      const std::size_t start = in.rfind("\r\n", o);
      const std::size_t line = start == std::string_view::npos ? 0 : start + 2;
      return iequal(in.substr(line + 4, 5), "SIZE ");
    }
    default: return false;
  }
}

std::string with_crlf(std::string_view in) {
  std::string s(in);
  if (s.size() < 2 || s.compare(s.size() - 2, 2, "\r\n") != 0) s += "\r\n";
  return s;
}

bool value_class(errc c) {
  switch (c) {
    case errc::param_duplicate:
    case errc::param_unknown:
    case errc::param_misplaced:
    case errc::param_value_missing:
    case errc::param_value_unexpected:
    case errc::param_size:
    case errc::param_body:
    case errc::param_ret:
    case errc::param_envid:
    case errc::param_notify:
    case errc::param_orcpt:
    case errc::param_auth:
    case errc::param_mt_priority: return true;
    default: return false;
  }
}

// A rejection names a rule whose id, reason and section print, and whose id
// reads back as the same rule (error.hpp). Checked here, where every entry
// point's diagnostics pass and the reference's cost hides this one.
void check_diagnostic(diagnostic d) {
  SMTPKIT_FUZZ_CHECK(d.code < errc::count_);
  SMTPKIT_FUZZ_CHECK(errc_from_rule_id(d.rule()) == d.code);
  SMTPKIT_FUZZ_CHECK(!d.why().empty() && !d.rfc().empty());
  const std::error_code ec = make_error_code(d.code);
  SMTPKIT_FUZZ_CHECK(std::string_view(ec.category().name()) == "smtpkit.grammar");
  SMTPKIT_FUZZ_CHECK(ec.message().compare(0, d.rule().size(), d.rule()) == 0);
  SMTPKIT_FUZZ_CHECK(errc_from_rule_id("no.such-rule") == errc::count_);
}

void compare(entry e, std::string_view in, bool utf8) {
  parse_options opts;
  opts.smtputf8 = utf8;
  const abnf::grammar& g = reference::smtp_grammar(utf8);
  // Line-level rules carry their CRLF; the matcher sees the same offsets.
  std::string ref_text(in);
  diagnostic d;
  bool ref_ok = false;
  bool skip = false;
  auto ref = [&](std::string_view rule) {
    abnf::matcher m(g, ref_text);
    return m.matches(rule);
  };
  switch (e) {
    case entry::command:
      d = parse_command(in, opts).diag;
      ref_text += "\r\n";
      ref_ok = ref("ref-command") && ref("ref-command-typed");
      break;
    case entry::reverse_path:
      d = parse_path(in, path_kind::reverse, opts).diag;
      ref_ok = ref("Reverse-path");
      break;
    case entry::forward_path:
      d = parse_path(in, path_kind::forward, opts).diag;
      ref_ok = ref("ref-forward-path");
      break;
    case entry::mailbox:
      d = parse_mailbox(in, opts).diag;
      ref_ok = ref("Mailbox");
      break;
    case entry::domain:
      d = parse_domain(in, opts).diag;
      ref_ok = ref("Domain");
      break;
    case entry::host:
      d = parse_host(in, opts).diag;
      ref_ok = ref("ref-host");
      break;
    case entry::address_literal:
      d = parse_address_literal(in, opts).diag;
      ref_ok = ref("address-literal");
      break;
    case entry::mail_params:
    case entry::rcpt_params: {
      const bool mail = e == entry::mail_params;
      mail_params out;
      d = parse_params(in, mail, opts, out);
      const bool generic = ref("Mail-parameters");
      ref_ok = generic && ref(mail ? "mail-parameters-typed" : "rcpt-parameters-typed");
      // Syntax errors exactly when the generic esmtp-param grammar rejects.
      if (!d.ok() && value_class(d.code) != generic) disagree(e, utf8, in, d, generic);
      break;
    }
    case entry::reply:
      d = parse_reply(in, opts).diag;
      ref_text = with_crlf(in);
      ref_ok = !in.empty() && ref("Reply-line");
      break;
    case entry::reply_line:
      d = parse_reply_line(in, opts).diag;
      ref_ok = ref("ref-reply-line");
      break;
    case entry::greeting:
      d = parse_greeting(in, opts).diag;
      ref_text = with_crlf(in);
      ref_ok = !in.empty() && ref(in.substr(0, 3) == "220" ? "Greeting" : "Reply-line");
      break;
    case entry::ehlo:
      d = parse_ehlo_reply(in, opts).diag;
      ref_text = with_crlf(in);
      ref_ok = !in.empty() && ref("ehlo-ok-rsp");
      break;
    case entry::enhanced: {
      auto r = parse_enhanced_status(in);
      skip = !r.value.present;
      d = r.diag;
      ref_ok = ref("ref-enhanced-text");
      break;
    }
    case entry::auth_response:
      d = parse_auth_response(in).diag;
      ref_ok = ref("ref-auth-response");
      break;
    case entry::xtext:
      d.code = is_xtext(in) ? errc::ok : errc::param_syntax;
      ref_ok = ref("xtext");
      break;
    case entry::base64:
      d.code = is_base64(in) ? errc::ok : errc::param_syntax;
      ref_ok = ref("base64");
      break;
    case entry::count_: return;
  }
  const bool flag_only = e == entry::xtext || e == entry::base64;  // a bool, not a diagnostic
  if (!d.ok() && !flag_only) check_diagnostic(d);
  if (skip || d.ok() == ref_ok) return;
  if (!d.ok()) {
    abnf::matcher m(g, ref_text);
    if (!explained_reject(e, in, d, m, utf8)) disagree(e, utf8, in, d, ref_ok);
    return;
  }
  // The parser accepts what the reference rejects: no listed difference.
  disagree(e, utf8, in, d, ref_ok);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 1101) return 0;
  const entry e = static_cast<entry>(data[0] % entry_count);
  const bool utf8 = has_utf8_mode(e) && ((data[0] / entry_count) & 1u) != 0;
  const fuzz::owned_input owned(data + 1, size - 1);
  compare(e, owned.view(), utf8);
  return 0;
}
