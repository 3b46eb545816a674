// fuzz/fuzz_greeting.cpp — libFuzzer target for the server greeting
// (RFC 5321 §4.2 Greeting, §4.3.1).
//
// Byte 0: bit 0 SMTPUTF8, bit 1 every lenient flag; the rest is the reply,
// lines separated by CRLF. Invariants: views inside the input; a greeting
// that is not a reply fails with the reply's diagnostic; an accepted 220
// names its server as a host that parses alone and stands right after
// "220" and its separator, followed by the end of the line or by SP and
// some text (textstring is 1*, so "220 mx.example " is a Greeting only when
// trailing white space is tolerated).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "smtpkit/reply.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::flagged_input input(data, size);
  const std::string_view in = input.view();
  parse_options opts = input.opts;

  auto g = parse_greeting(in, opts);
  SMTPKIT_FUZZ_CHECK(g.diag.offset <= in.size());
  const host& h = g.value.server;
  SMTPKIT_FUZZ_CHECK(inside(h.text, in) && inside(h.tag, in) && inside(h.address, in));
  SMTPKIT_FUZZ_CHECK(inside(g.value.rep.first_text, in) && inside(g.value.rep.last_text, in));

  auto rep = parse_reply(in, opts);
  if (!rep.ok()) {
    SMTPKIT_FUZZ_CHECK(!g.ok() && g.diag.code == rep.diag.code);
    return 0;
  }
  SMTPKIT_FUZZ_CHECK(g.value.rep.code == rep.value.code && g.value.rep.lines == rep.value.lines);
  if (!g.ok() || rep.value.code != 220) return 0;
  SMTPKIT_FUZZ_CHECK(!h.text.empty() && h.text.data() == in.data() + 4);
  auto again = parse_host(h.text, opts);
  SMTPKIT_FUZZ_CHECK(again.ok() && again.value.kind == h.kind);
  std::string_view first = rep.value.first_text;
  std::string_view rest = first.substr(h.text.size());
  SMTPKIT_FUZZ_CHECK(rest.empty() ||
                     (rest[0] == ' ' && (rest.size() > 1 || opts.allows(lenient::trailing_whitespace))));
  return 0;
}
