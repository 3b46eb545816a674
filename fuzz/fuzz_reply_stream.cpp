// fuzz/fuzz_reply_stream.cpp — libFuzzer target for replies as they arrive:
// line_framer (RFC 5321 §2.3.8, §4.5.3.1.5 reply line limit) feeding
// reply_assembler (§4.2, §4.2.1).
//
// Split scheme of fuzz_support.hpp; option bit 0 SMTPUTF8, bit 1 lenient
// bare LF, bit 2 reset() the assembler between replies. Invariants: the stream cut into pieces (each piece in its own
// heap block) gives exactly the steps the whole stream gives; every line is
// a view into the buffer it was framed from; each reply the assembler
// completes from CRLF lines gets the same verdict from parse_reply when its
// lines are joined again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/reply.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

struct event {
  line_status status;
  line_ending ending;
  std::string line;
  errc frame_diag;
  errc step_diag;
  bool complete;
  std::uint16_t code;
  bool operator==(const event&) const = default;
};

class replay {
 public:
  replay(parse_options opts, bool reset_each) : framer_(512, opts), opts_(opts), reset_each_(reset_each) {}

  void feed(std::string_view piece, bool eof) {
    buf_.append(piece);
    // A block that ends where the unconsumed bytes end, so reads past them trap.
    const fuzz::owned_input block(buf_);
    std::size_t done = 0;
    for (;;) {
      const std::string_view b = block.view().substr(done);
      line_result r = eof ? framer_.finish(b) : framer_.next(b);
      SMTPKIT_FUZZ_CHECK(r.consumed <= b.size());
      SMTPKIT_FUZZ_CHECK(inside(r.line, b));
      if (r.status == line_status::line) on_line(r);
      else if (r.status != line_status::need_more)
        events_.push_back({r.status, r.ending, std::string(r.line), r.diag.code, errc::ok, false, 0});
      done += r.consumed;
      if (r.status == line_status::need_more) break;
    }
    buf_.erase(0, done);
  }
  [[nodiscard]] const std::vector<event>& events() const noexcept { return events_; }

 private:
  void on_line(const line_result& r) {
    auto s = asm_.feed(r.line, r.ending, opts_);
    SMTPKIT_FUZZ_CHECK(s.diag.offset <= r.line.size());
    SMTPKIT_FUZZ_CHECK(inside(s.line.text, r.line));
    lines_.emplace_back(r.line);
    all_crlf_ = all_crlf_ && r.ending == line_ending::crlf && r.diag.ok();
    if (!s.diag.ok() && first_ == errc::ok) first_ = s.diag.code;
    events_.push_back(
        {line_status::line, r.ending, std::string(r.line), r.diag.code, s.diag.code, s.complete, asm_.code()});
    if (!s.complete) {
      SMTPKIT_FUZZ_CHECK(asm_.in_progress() && asm_.lines() == lines_.size());
      return;
    }
    SMTPKIT_FUZZ_CHECK(!asm_.in_progress() && asm_.lines() == 0);
    if (reset_each_) asm_.reset();  // a no-op between replies
    if (all_crlf_) {
      // The whole reply, joined again, gets the verdict it got line by line.
      std::string joined;
      for (const auto& l : lines_) joined.append(l).append("\r\n");
      auto whole = parse_reply(joined, opts_);
      SMTPKIT_FUZZ_CHECK(whole.ok() == (first_ == errc::ok));
      if (!whole.ok()) SMTPKIT_FUZZ_CHECK(whole.diag.code == first_);
      else SMTPKIT_FUZZ_CHECK(whole.value.lines == lines_.size());
    }
    lines_.clear();
    all_crlf_ = true;
    first_ = errc::ok;
  }

  line_framer framer_;
  reply_assembler asm_;
  parse_options opts_;
  bool reset_each_;
  std::string buf_;
  std::vector<event> events_;
  std::vector<std::string> lines_;
  bool all_crlf_ = true;
  errc first_ = errc::ok;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::owned_input owned(data, size);
  const fuzz::split_input s = fuzz::split(owned.view());
  parse_options opts;
  opts.smtputf8 = (s.options & 1) != 0;
  if (s.options & 2) opts.relax = lenient::bare_lf;

  const bool reset_each = (s.options & 4) != 0;
  replay whole(opts, reset_each);
  whole.feed(s.payload, false);
  whole.feed({}, true);
  replay pieces(opts, reset_each);
  for (auto p : s.pieces) {
    const fuzz::owned_input piece(p);
    pieces.feed(piece.view(), false);
  }
  pieces.feed({}, true);
  SMTPKIT_FUZZ_CHECK(whole.events() == pieces.events());
  return 0;
}
