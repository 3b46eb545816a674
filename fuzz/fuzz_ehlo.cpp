// fuzz/fuzz_ehlo.cpp — libFuzzer target for the EHLO response
// (RFC 5321 §4.1.1.1 ehlo-ok-rsp; SIZE RFC 1870 §4; the keywords of
// extension.hpp's table).
//
// Byte 0: bit 0 SMTPUTF8, bit 1 every lenient flag; the rest is the reply,
// lines separated by CRLF. Invariants: views inside the input; a reply that
// is not a reply is not an EHLO response, with the same diagnostic; for any
// well-formed 250 reply — even one with a bad keyword, since the parser
// keeps going — the advertised extensions and the keyword count are those
// the keyword iterator yields; an accepted response has a Domain, LDH
// keywords, and the SIZE limit its parameter states (saturated at 2^64-1).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "smtpkit/reply.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

bool ldh_keyword(std::string_view k) {
  if (k.empty() || k[0] == '-') return false;
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::flagged_input input(data, size);
  const std::string_view in = input.view();
  parse_options opts = input.opts;

  auto e = parse_ehlo_reply(in, opts);
  const ehlo_info& info = e.value;
  SMTPKIT_FUZZ_CHECK(e.diag.offset <= in.size());
  SMTPKIT_FUZZ_CHECK(inside(info.domain, in) && inside(info.greet, in) && inside(info.auth_mechanisms, in));
  SMTPKIT_FUZZ_CHECK(info.raw.data() == in.data() && info.raw.size() == in.size());

  auto rep = parse_reply(in, opts);
  if (!rep.ok()) {
    SMTPKIT_FUZZ_CHECK(!e.ok() && e.diag.code == rep.diag.code && e.diag.offset == rep.diag.offset);
    return 0;
  }
  if (rep.value.code != 250) {
    SMTPKIT_FUZZ_CHECK(e.diag.code == errc::ehlo_domain);
    return 0;
  }
  std::uint32_t bits = 0;
  std::size_t count = 0;
  bool keywords_ok = true;
  std::string_view size_param;
  ehlo_keywords kws(in);
  ehlo_keyword kw;
  while (kws.next(kw)) {
    SMTPKIT_FUZZ_CHECK(inside(kw.keyword, in) && inside(kw.params, in));
    ++count;
    if (!ldh_keyword(kw.keyword)) keywords_ok = false;
    extension x = extension_from_keyword(kw.keyword);
    if (x != extension::count_) {
      bits |= 1u << static_cast<unsigned>(x);
      SMTPKIT_FUZZ_CHECK(info.has(x));
      SMTPKIT_FUZZ_CHECK(x < extension::count_ && extension_from_keyword(to_string(x)) == x);
    }
    if (x == extension::size && !kw.params.empty()) size_param = kw.params;
  }
  if (e.ok() && !size_param.empty()) {
    // The last SIZE line wins; its value saturates at 2^64-1.
    std::uint64_t n = 0;
    for (char c : size_param) {
      const auto d = static_cast<std::uint64_t>(c - '0');
      n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
    }
    SMTPKIT_FUZZ_CHECK(info.size_declared && info.size_limit == n);
  }
  SMTPKIT_FUZZ_CHECK(count + 1 == rep.value.lines && count == info.keywords);
  SMTPKIT_FUZZ_CHECK(bits == info.extensions);
  if (e.ok()) {
    SMTPKIT_FUZZ_CHECK(keywords_ok);
    auto d = parse_domain(info.domain, opts);
    SMTPKIT_FUZZ_CHECK(d.ok());
    SMTPKIT_FUZZ_CHECK(info.domain.data() == in.data() + 4);
  }
  return 0;
}
