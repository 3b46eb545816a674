// fuzz/fuzz_line_framer.cpp — libFuzzer target for the streaming line framer
// (RFC 5321 §2.3.8 line endings, §4.5.3.1.4-6 line limits).
//
// Split scheme of fuzz_support.hpp. Option bits 0-2 pick the limit (small
// ones reach the overflow paths quickly), bit 3 the lenient bare-LF flag.
// Invariants: the framer reads from a heap block that ends exactly where the
// unconsumed bytes end; consumed <= buffer; lines are views at the buffer's
// start; a line plus its terminator is what was consumed and fits the limit;
// the flags name exactly the octets the line holds; the whole stream is
// consumed by the end; and the stream cut into pieces gives the same lines,
// endings, flags, lengths and diagnostics as the stream given whole to the
// same framer after reset(); line_framer::each_line, given the same pieces
// or the whole stream, gives the same again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/line.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

constexpr std::size_t limits[8] = {3, 4, 5, 16, 78, 512, 1000, 2000};

struct event {
  line_status status;
  line_ending ending;
  std::uint8_t flags;
  std::size_t at;    // stream offset of the line (or head)
  std::size_t size;  // octets of the line (or head)
  std::size_t length;
  errc code;
  std::uint32_t offset;
  bool operator==(const event&) const = default;
};

std::string_view terminator(line_ending e) {
  switch (e) {
    case line_ending::crlf: return "\r\n";
    case line_ending::lf: return "\n";
    case line_ending::cr: return "\r";
    case line_ending::none: break;
  }
  return "";
}

std::uint8_t flags_of(std::string_view line) {
  std::uint8_t f = 0;
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0) f |= has_nul;
    else if (c == '\t') f |= has_tab;
    else if (c >= 0x80) f |= has_8bit;
    else if (c < 0x20 || c == 0x7F) f |= has_control;
  }
  return f;
}

void check(const line_result& r, std::string_view b, std::size_t limit) {
  SMTPKIT_FUZZ_CHECK(r.consumed <= b.size());
  SMTPKIT_FUZZ_CHECK(inside(r.line, b));
  switch (r.status) {
    case line_status::line: {
      SMTPKIT_FUZZ_CHECK(r.line.data() == b.data());
      const std::string_view term = terminator(r.ending);
      SMTPKIT_FUZZ_CHECK(r.consumed == r.line.size() + term.size());
      SMTPKIT_FUZZ_CHECK(b.substr(r.line.size(), term.size()) == term);
      SMTPKIT_FUZZ_CHECK(!to_string(r.ending).empty());
      SMTPKIT_FUZZ_CHECK(r.consumed <= limit);
      SMTPKIT_FUZZ_CHECK(r.line.find_first_of("\r\n") == std::string_view::npos);
      SMTPKIT_FUZZ_CHECK(r.flags == flags_of(r.line));
      SMTPKIT_FUZZ_CHECK(r.diag.offset <= r.line.size());
      break;
    }
    case line_status::overflow:
      SMTPKIT_FUZZ_CHECK(r.line.data() == b.data() && r.consumed == r.line.size());
      SMTPKIT_FUZZ_CHECK(r.line.size() <= limit && r.line.size() + 1 >= limit);
      SMTPKIT_FUZZ_CHECK(r.diag.code == errc::line_too_long);
      break;
    case line_status::overflow_end: SMTPKIT_FUZZ_CHECK(r.length >= limit && r.diag.code == errc::line_too_long); break;
    case line_status::need_more: SMTPKIT_FUZZ_CHECK(r.line.empty()); break;
  }
}

// Lines are recorded by stream offset and checked against `stream`, the
// payload, so events compare without copies.
// `each`: lines taken with line_framer::each_line rather than next().
std::vector<event> frame(line_framer& f, std::string_view stream, const std::vector<std::string_view>& pieces,
                         bool each = false) {
  std::string buf;
  std::vector<event> out;
  std::size_t pos = 0;  // stream offset of buf[0]
  // One exact block per arrival: the framer sees the unconsumed tail of it,
  // so a read past the buffer still traps, without a copy per line.
  auto drain = [&](bool eof) {
    const fuzz::owned_input block(buf);
    std::size_t done = 0;
    auto take = [&](const line_result& r) {
      const std::string_view b = block.view().substr(done);
      check(r, b, f.limit());
      SMTPKIT_FUZZ_CHECK(stream.substr(pos + done, r.consumed) == b.substr(0, r.consumed));
      // Where an over-long line's discarded tail ends depends on the pieces;
      // its total length does not.
      const bool tail = r.status == line_status::overflow_end;
      if (r.status != line_status::need_more)
        out.push_back({r.status, r.ending, r.status == line_status::line ? r.flags : std::uint8_t{0},
                       tail ? 0 : pos + done, r.line.size(), r.length, r.diag.code, r.diag.offset});
      done += r.consumed;
      return true;
    };
    if (each && !eof) {
      const std::size_t used = f.each_line(block.view(), take);
      // Past the last line handed out it may drop octets of an over-long line.
      SMTPKIT_FUZZ_CHECK(used >= done && used <= block.view().size());
      done = used;
    } else {
      for (;;) {
        const std::string_view b = block.view().substr(done);
        line_result r = eof ? f.finish(b) : f.next(b);
        take(r);
        if (r.status == line_status::need_more) break;
      }
    }
    buf.erase(0, done);
    pos += done;
  };
  for (auto p : pieces) {
    const fuzz::owned_input piece(p);
    buf.append(piece.view());
    drain(false);
  }
  drain(true);
  SMTPKIT_FUZZ_CHECK(buf.empty() && !f.discarding() && pos == stream.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::owned_input owned(data, size);
  const fuzz::split_input s = fuzz::split(owned.view());
  const std::size_t limit = limits[s.options & 7u];
  parse_options opts;
  if (s.options & 8u) opts.relax = lenient::bare_lf;
  SMTPKIT_FUZZ_CHECK(((opts.relax & lenient::bare_lf) == lenient::bare_lf) == opts.allows(lenient::bare_lf));
  line_framer f(512, opts);
  f.set_limit(limit);
  SMTPKIT_FUZZ_CHECK(f.limit() == limit);
  auto pieces = frame(f, s.payload, s.pieces);
  // reset() gives back a framer that behaves like a new one.
  f.reset();
  auto whole = frame(f, s.payload, {s.payload});
  SMTPKIT_FUZZ_CHECK(whole == pieces);
  // each_line gives what next() gives, in pieces and whole.
  f.reset();
  SMTPKIT_FUZZ_CHECK(frame(f, s.payload, s.pieces, true) == pieces);
  f.reset();
  SMTPKIT_FUZZ_CHECK(frame(f, s.payload, {s.payload}, true) == pieces);
  return 0;
}
