// fuzz/fuzz_reply.cpp — libFuzzer target for replies given whole:
// parse_reply (RFC 5321 §4.2, §4.2.1 multi-line), parse_reply_line,
// reply_lines and parse_enhanced_status (RFC 3463 §2, RFC 2034 §4).
//
// Byte 0: bit 0 SMTPUTF8, bit 1 every lenient flag; the rest is the reply
// text, lines separated by CRLF. Invariants: views inside the input; an
// accepted reply's lines each parse alone with the same code, their count
// is `lines`, and with the CRLFs between them they tile the input; a rejected
// reply has a line that does not parse, codes that differ, or a last line
// that continues (or text after the last line); an enhanced status code's
// fields print back to its text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "smtpkit/reply.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

void check_enhanced(std::string_view text) {
  auto e = parse_enhanced_status(text);
  SMTPKIT_FUZZ_CHECK(e.diag.offset <= text.size());
  SMTPKIT_FUZZ_CHECK(inside(e.value.code, text));
  if (!e.ok() || !e.value.present) return;
  SMTPKIT_FUZZ_CHECK(e.value.code.data() == text.data());
  std::string printed =
      std::to_string(e.value.cls) + "." + std::to_string(e.value.subject) + "." + std::to_string(e.value.detail);
  SMTPKIT_FUZZ_CHECK(printed == e.value.code);
  SMTPKIT_FUZZ_CHECK(e.value.cls == 2 || e.value.cls == 4 || e.value.cls == 5);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::flagged_input input(data, size);
  const std::string_view in = input.view();
  parse_options opts = input.opts;

  auto r = parse_reply(in, opts);
  SMTPKIT_FUZZ_CHECK(r.diag.offset <= in.size());
  SMTPKIT_FUZZ_CHECK(r.value.raw.data() == in.data() && r.value.raw.size() == in.size());
  SMTPKIT_FUZZ_CHECK(inside(r.value.first_text, in) && inside(r.value.last_text, in));

  // Line by line, the verdict must be reachable from the lines alone.
  reply_lines lines(in);
  std::string_view line;
  std::size_t next_at = 0;  // where the next line must start: lines and CRLFs tile the input
  std::size_t count = 0;
  bool all_parse = true;
  bool codes_agree = true;
  bool last_continues = false;
  bool after_last = false;
  std::uint16_t code = 0;
  while (lines.next(line)) {
    SMTPKIT_FUZZ_CHECK(inside(line, in));
    if (count && !last_continues) after_last = true;
    auto l = parse_reply_line(line, opts);
    SMTPKIT_FUZZ_CHECK(l.diag.offset <= line.size() && inside(l.value.text, line));
    if (!l.ok()) all_parse = false;
    if (count == 0) code = l.value.code;
    else if (l.value.code != code) codes_agree = false;
    last_continues = l.value.continues();
    if (l.ok()) {
      SMTPKIT_FUZZ_CHECK(l.value.code >= 200 && l.value.code <= 559);
      check_enhanced(l.value.text);
    }
    SMTPKIT_FUZZ_CHECK(line.data() == in.data() + next_at);
    next_at += line.size();
    if (next_at < in.size()) {
      SMTPKIT_FUZZ_CHECK(in.substr(next_at, 2) == "\r\n");
      next_at += 2;
    }
    ++count;
  }
  if (r.ok()) {
    SMTPKIT_FUZZ_CHECK(all_parse && codes_agree && !last_continues && !after_last);
    SMTPKIT_FUZZ_CHECK(count == r.value.lines && code == r.value.code);
    SMTPKIT_FUZZ_CHECK(next_at == in.size());
  } else if (!in.empty()) {
    SMTPKIT_FUZZ_CHECK(!all_parse || !codes_agree || last_continues || after_last);
  }
  return 0;
}
