// fuzz/fuzz_command.cpp — libFuzzer target for command lines:
// parse_command (RFC 5321 §4.1.1-4.1.2; AUTH RFC 4954 §4, BDAT RFC 3030 §2,
// STARTTLS RFC 3207 §4, the VRFY/EXPN SMTPUTF8 flag RFC 6531 §3.7.4) and the
// AUTH continuation line (parse_auth_response, is_base64).
//
// The input is one line without its CRLF. It is parsed four ways (strict,
// every lenient flag, with and without SMTPUTF8). Invariants: every view
// lies inside the input; offsets stay within it; a strict accept is also a
// lenient accept, and an ASCII-mode accept also holds under SMTPUTF8; the
// pieces of an accepted line re-parse alone to the same values (path,
// parameters, host); a BDAT line printed back from its fields parses to the
// same fields; and parse_command, with each set of MAIL/RCPT and EHLO/HELO
// fast paths this CPU runs (AVX-512 VBMI, AVX2) forced in turn, gives
// exactly what the general parser gives, diagnostic and every field.
// Limit: does not check which rule a rejection names — the differential
// target compares acceptance with the reference grammar.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/command.hpp"
#include "test_support.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

void check_host(const host& h, std::string_view in) {
  SMTPKIT_FUZZ_CHECK(inside(h.text, in));
  SMTPKIT_FUZZ_CHECK(inside(h.tag, in));
  SMTPKIT_FUZZ_CHECK(inside(h.address, in));
}

void check_views(const command& c, std::string_view in) {
  SMTPKIT_FUZZ_CHECK(inside(c.verb_text, in));
  SMTPKIT_FUZZ_CHECK(inside(c.argument, in));
  check_host(c.client, in);
  SMTPKIT_FUZZ_CHECK(inside(c.address.text, in));
  SMTPKIT_FUZZ_CHECK(inside(c.address.source_route, in));
  SMTPKIT_FUZZ_CHECK(inside(c.address.mbox.text, in));
  SMTPKIT_FUZZ_CHECK(inside(c.address.mbox.local_part, in));
  check_host(c.address.mbox.domain, in);
  SMTPKIT_FUZZ_CHECK(inside(c.params.text(), in));
  SMTPKIT_FUZZ_CHECK(inside(c.typed.envid, in));
  SMTPKIT_FUZZ_CHECK(inside(c.typed.auth, in));
  SMTPKIT_FUZZ_CHECK(inside(c.typed.orcpt_type, in));
  SMTPKIT_FUZZ_CHECK(inside(c.typed.orcpt, in));
  SMTPKIT_FUZZ_CHECK(inside(c.text, in));
  SMTPKIT_FUZZ_CHECK(inside(c.mechanism, in));
  SMTPKIT_FUZZ_CHECK(inside(c.initial_response, in));
}

// An accepted MAIL/RCPT: its path and parameter list stand on their own.
void check_mail_rcpt(const command& c, parse_options opts) {
  const path_kind kind = c.kind == verb::mail ? path_kind::reverse : path_kind::forward;
  auto p = parse_path(c.address.text, kind, opts);
  SMTPKIT_FUZZ_CHECK(p.ok());
  SMTPKIT_FUZZ_CHECK(p.value.null == c.address.null && p.value.postmaster == c.address.postmaster);
  SMTPKIT_FUZZ_CHECK(p.value.mbox.local_part == c.address.mbox.local_part);
  SMTPKIT_FUZZ_CHECK(p.value.mbox.domain.text == c.address.mbox.domain.text);
  SMTPKIT_FUZZ_CHECK(p.value.source_route == c.address.source_route);
  if (c.params.empty()) return;
  mail_params again;
  SMTPKIT_FUZZ_CHECK(parse_params(c.params.text(), c.kind == verb::mail, opts, again).ok());
  SMTPKIT_FUZZ_CHECK(detail::same_params(again, c.typed));
  // The iterated list prints back to the text it came from.
  std::string printed;
  std::size_t n = 0;
  for (const esmtp_param& e : c.params) {
    SMTPKIT_FUZZ_CHECK(inside(e.keyword, c.params.text()) && inside(e.value, c.params.text()));
    SMTPKIT_FUZZ_CHECK(!e.keyword.empty());
    if (n++) printed += ' ';
    printed.append(e.keyword);
    if (e.has_value) printed.append("=").append(e.value);
  }
  SMTPKIT_FUZZ_CHECK(printed == c.params.text());
  SMTPKIT_FUZZ_CHECK(n == c.params.size());
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

void check_accepted(const command& c, std::string_view in, parse_options opts) {
  SMTPKIT_FUZZ_CHECK(c.kind != verb::unknown);
  SMTPKIT_FUZZ_CHECK(c.verb_text.data() == in.data());
  SMTPKIT_FUZZ_CHECK(iequal(to_string(c.kind), c.verb_text));
  switch (c.kind) {
    case verb::ehlo:
    case verb::helo: {
      auto h = parse_host(c.client.text, opts);
      SMTPKIT_FUZZ_CHECK(h.ok() && h.value.kind == c.client.kind);
      break;
    }
    case verb::mail:
    case verb::rcpt: check_mail_rcpt(c, opts); break;
    case verb::vrfy:
    case verb::expn: SMTPKIT_FUZZ_CHECK(!c.text.empty()); break;
    case verb::auth:
      SMTPKIT_FUZZ_CHECK(!c.mechanism.empty() && c.mechanism.size() <= 20);
      if (c.has_initial_response) SMTPKIT_FUZZ_CHECK(c.initial_response == "=" || is_base64(c.initial_response));
      break;
    case verb::bdat: {
      // Printed back from its fields, a BDAT line parses to the same fields.
      std::string line = "BDAT " + std::to_string(c.chunk_size) + (c.last ? " LAST" : "");
      auto again = parse_command(line, opts);
      SMTPKIT_FUZZ_CHECK(again.ok() && again.cmd.chunk_size == c.chunk_size && again.cmd.last == c.last);
      break;
    }
    default: break;
  }
}

// The sets of fast paths this CPU runs, most capable (the default) first.
const std::vector<std::string_view> fast_sets = [] {
  std::vector<std::string_view> sets = detail::command_fast_path_choices();
  sets.pop_back();  // "none": the general parser itself
  return sets;
}();

// Whether parse_command asks a fast path about a line of this verb.
bool has_fast_path(verb v) { return v == verb::mail || v == verb::rcpt || v == verb::ehlo || v == verb::helo; }

bool run(std::string_view in, parse_options opts) {
  const command_result r = detail::parse_command_general(in, opts);
  // Each set gives what the general parser gives: the default set for
  // every verb, the others where they can differ from it (MAIL, RCPT, EHLO
  // and HELO; every other verb takes the same code whatever the set). The
  // default set last, in use again after the loop.
  for (std::size_t i = fast_sets.size(); i-- > 0;) {
    if (i != 0 && !has_fast_path(r.cmd.kind)) continue;
    SMTPKIT_FUZZ_CHECK(detail::use_command_fast_paths(fast_sets[i]));
    SMTPKIT_FUZZ_CHECK(detail::same_result(r, parse_command(in, opts)));
  }
  // Parsed into a command that held another one (the input's second half,
  // any verb or error), the result is the same as a fresh one.
  command kept;
  (void)parse_command(in.substr(in.size() / 2), kept, opts);
  command_result reused;
  reused.diag = parse_command(in, kept, opts);
  reused.cmd = kept;
  SMTPKIT_FUZZ_CHECK(detail::same_result(r, reused));
  SMTPKIT_FUZZ_CHECK(r.diag.offset <= in.size());
  check_views(r.cmd, in);
  if (r.ok()) check_accepted(r.cmd, in, opts);
  return r.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::owned_input owned(data, size);
  const std::string_view in = owned.view();

  parse_options strict;
  parse_options relaxed;
  relaxed.relax = lenient::all;
  const bool ok_strict = run(in, strict);
  const bool ok_relaxed = run(in, relaxed);
  SMTPKIT_FUZZ_CHECK(!ok_strict || ok_relaxed);

  parse_options utf8 = strict;
  utf8.smtputf8 = true;
  parse_options utf8_relaxed = relaxed;
  utf8_relaxed.smtputf8 = true;
  const bool ok_utf8 = run(in, utf8);
  const bool ok_utf8_relaxed = run(in, utf8_relaxed);
  SMTPKIT_FUZZ_CHECK(!ok_utf8 || ok_utf8_relaxed);
  SMTPKIT_FUZZ_CHECK(!ok_strict || ok_utf8);
  SMTPKIT_FUZZ_CHECK(!ok_relaxed || ok_utf8_relaxed);

  // AUTH continuation lines (RFC 4954 §4).
  auto a = parse_auth_response(in);
  SMTPKIT_FUZZ_CHECK(inside(a.value.base64, in));
  SMTPKIT_FUZZ_CHECK(a.diag.offset <= in.size());
  if (a.ok() && !a.value.cancel) SMTPKIT_FUZZ_CHECK(in.empty() || is_base64(in));
  if (a.value.cancel) SMTPKIT_FUZZ_CHECK(in == "*");
  return 0;
}
