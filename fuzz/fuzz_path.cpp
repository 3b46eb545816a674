// fuzz/fuzz_path.cpp — libFuzzer target for paths, mailboxes, domains and
// address literals (RFC 5321 §4.1.2, §4.1.3, §4.5.3.1.1-3; RFC 6531 §3.3).
//
// Byte 0 selects the options (bit 0 SMTPUTF8, bit 1 every lenient flag, bit 2
// only the flags that touch paths);
// the rest is given whole to each of parse_domain, parse_host,
// parse_address_literal, parse_mailbox and parse_path (both kinds).
// Invariants: views inside the input; offsets within it; an accepted
// element's parts re-parse alone (a path's mailbox, a mailbox's domain); the
// entry points agree with each other (a Domain is a host, a forward path
// that is not <Postmaster> is also a reverse path, a mailbox in brackets is
// a path); a path printed back from its parts is the input again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "smtpkit/path.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

void check_host(const host& h, std::string_view in) {
  SMTPKIT_FUZZ_CHECK(inside(h.text, in) && inside(h.tag, in) && inside(h.address, in));
  SMTPKIT_FUZZ_CHECK(!to_string(h.kind).empty());
}

void check_mailbox(const mailbox& m, std::string_view in) {
  SMTPKIT_FUZZ_CHECK(inside(m.text, in) && inside(m.local_part, in));
  check_host(m.domain, in);
}

void check_path(const parse_result<path>& r, std::string_view in, path_kind kind, parse_options opts) {
  SMTPKIT_FUZZ_CHECK(r.diag.offset <= in.size());
  const path& p = r.value;
  SMTPKIT_FUZZ_CHECK(inside(p.text, in) && inside(p.source_route, in));
  check_mailbox(p.mbox, in);
  if (!r.ok()) return;
  SMTPKIT_FUZZ_CHECK(p.text == in);
  SMTPKIT_FUZZ_CHECK(p.text.size() <= max_path);
  if (p.null) {
    SMTPKIT_FUZZ_CHECK(kind == path_kind::reverse && in == "<>");
    return;
  }
  if (p.postmaster) {
    SMTPKIT_FUZZ_CHECK(kind == path_kind::forward && p.mbox.local_part.size() == 10);
    return;
  }
  // Printed back from its parts, the path is the input.
  std::string printed;
  if (p.bracketed) printed += '<';
  if (!p.source_route.empty()) printed.append(p.source_route).append(":");
  printed.append(p.mbox.text);
  if (p.bracketed) printed += '>';
  SMTPKIT_FUZZ_CHECK(printed == in);
  auto m = parse_mailbox(p.mbox.text, opts);
  SMTPKIT_FUZZ_CHECK(m.ok() && m.value.local_part == p.mbox.local_part && m.value.quoted == p.mbox.quoted);
  SMTPKIT_FUZZ_CHECK(m.value.domain.kind == p.mbox.domain.kind && m.value.utf8 == p.mbox.utf8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::flagged_input input(data, size);
  const std::string_view in = input.view();
  parse_options opts = input.opts;
  if (input.flags & 4) opts.relax = lenient::path_brackets | lenient::trailing_whitespace;

  auto d = parse_domain(in, opts);
  SMTPKIT_FUZZ_CHECK(d.diag.offset <= in.size());
  check_host(d.value, in);
  auto h = parse_host(in, opts);
  SMTPKIT_FUZZ_CHECK(h.diag.offset <= in.size());
  check_host(h.value, in);
  auto l = parse_address_literal(in, opts);
  SMTPKIT_FUZZ_CHECK(l.diag.offset <= in.size());
  check_host(l.value, in);
  if (d.ok()) {
    SMTPKIT_FUZZ_CHECK(d.value.text == in && d.value.kind == host_kind::domain);
    SMTPKIT_FUZZ_CHECK(in.size() <= max_domain);
    SMTPKIT_FUZZ_CHECK(h.ok() && h.value.kind == host_kind::domain);
  }
  if (l.ok()) {
    SMTPKIT_FUZZ_CHECK(l.value.kind != host_kind::domain && l.value.text == in);
    SMTPKIT_FUZZ_CHECK(h.ok() && h.value.kind == l.value.kind && h.value.address == l.value.address);
  }
  if (h.ok()) SMTPKIT_FUZZ_CHECK(d.ok() || l.ok());

  auto m = parse_mailbox(in, opts);
  SMTPKIT_FUZZ_CHECK(m.diag.offset <= in.size());
  check_mailbox(m.value, in);
  if (m.ok()) {
    SMTPKIT_FUZZ_CHECK(m.value.text == in && m.value.local_part.size() <= max_local_part);
    auto dom = parse_host(m.value.domain.text, opts);
    SMTPKIT_FUZZ_CHECK(dom.ok() && dom.value.kind == m.value.domain.kind);
    // In angle brackets a mailbox is a path, unless that passes the limit.
    std::string bracketed = "<" + std::string(in) + ">";
    if (bracketed.size() <= max_path) {
      SMTPKIT_FUZZ_CHECK(parse_path(bracketed, path_kind::forward, opts).ok());
      SMTPKIT_FUZZ_CHECK(parse_path(bracketed, path_kind::reverse, opts).ok());
    }
  }

  auto rev = parse_path(in, path_kind::reverse, opts);
  check_path(rev, in, path_kind::reverse, opts);
  auto fwd = parse_path(in, path_kind::forward, opts);
  check_path(fwd, in, path_kind::forward, opts);
  if (fwd.ok() && !fwd.value.postmaster) SMTPKIT_FUZZ_CHECK(rev.ok());
  if (rev.ok() && !rev.value.null) SMTPKIT_FUZZ_CHECK(fwd.ok());
  return 0;
}
