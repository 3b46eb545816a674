// fuzz/fuzz_bdat.cpp — libFuzzer target for BDAT chunk framing
// (RFC 3030 §2) inside a client byte stream, with the hand-offs between
// command lines (RFC 5321 §4.1.1, line limit §4.5.3.1.4), BDAT chunks
// (bdat_reader) and DATA content (data_decoder, §4.1.1.4).
//
// Split scheme of fuzz_support.hpp; option bit 0 SMTPUTF8. The payload is
// what a client sends: after an accepted "BDAT n [LAST]" exactly n octets
// are chunk data; after an accepted "DATA" the data decoder reads up to
// <CRLF>.<CRLF>; everything else is framed into command lines.
// Invariants: take() hands out a prefix of the piece and counts it off
// remaining(); the data decoder's consumed stops where commands resume;
// every piece sits in its own heap block; and the stream cut into pieces
// gives the same commands, chunk octets and message content as the stream
// given whole. Limit: no reply side — the session is not checked for order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/line.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

enum class kind : std::uint8_t { line, overflow, chunk, message, end_of_data };

// Lines and chunks are named by stream offset and size (no copies); message
// content, which dot-unstuffing changes, is kept as octets.
struct event {
  kind what;
  std::size_t at = 0;
  std::size_t size = 0;
  std::string bytes;
  errc code = errc::ok;
  bool operator==(const event&) const = default;
};

class client_stream {
 public:
  explicit client_stream(parse_options opts) : framer_(512, opts), opts_(opts) {}

  void feed(std::string_view piece, bool eof) {
    buf_.append(piece);
    // A block that ends where the unconsumed bytes end, so reads past them trap.
    const fuzz::owned_input block(buf_);
    std::size_t done = 0;
    for (;;) {
      const std::string_view b = block.view().substr(done);
      here_ = pos_ + done;
      std::size_t used = 0;
      bool more = false;
      if (mode_ == mode::chunk) more = take_chunk(b, used);
      else if (mode_ == mode::data) more = take_data(b, used);
      else more = take_line(b, eof, used);
      SMTPKIT_FUZZ_CHECK(used <= b.size());
      done += used;
      if (!more) break;
    }
    buf_.erase(0, done);
    pos_ += done;
  }
  [[nodiscard]] const std::vector<event>& events() const noexcept { return events_; }

 private:
  enum class mode : std::uint8_t { lines, chunk, data };

  // Adjacent chunk octets and message content merge into one event, so
  // pieces and whole compare equal.
  void add_chunk(std::size_t n) {
    if (!events_.empty() && events_.back().what == kind::chunk && events_.back().at + events_.back().size == here_)
      events_.back().size += n;
    else events_.push_back({kind::chunk, here_, n, {}, errc::ok});
  }
  void add_message(std::string_view bytes) {
    if (events_.empty() || events_.back().what != kind::message) events_.push_back({kind::message, 0, 0, {}, errc::ok});
    events_.back().bytes.append(bytes);
  }

  bool take_chunk(std::string_view b, std::size_t& used) {
    const std::uint64_t before = reader_.remaining();
    std::string_view got = reader_.take(b);
    SMTPKIT_FUZZ_CHECK(got.data() == b.data() && inside(got, b));
    SMTPKIT_FUZZ_CHECK(reader_.remaining() == before - got.size());
    SMTPKIT_FUZZ_CHECK(got.size() == b.size() || reader_.done());
    if (!got.empty()) add_chunk(got.size());
    used = got.size();
    if (reader_.done()) mode_ = mode::lines;
    return reader_.done() && used < b.size();
  }

  struct sink {
    client_stream* self;
    std::string_view piece;
    void body(std::string_view s) {
      SMTPKIT_FUZZ_CHECK(inside(s, piece) || s.size() <= 3);
      self->add_message(s);
    }
    void anomaly(data_anomaly, std::uint64_t) {}
  };

  bool take_data(std::string_view b, std::size_t& used) {
    sink k{this, b};
    data_result r = decoder_.feed(b, k);
    SMTPKIT_FUZZ_CHECK(r.consumed <= b.size());
    used = r.consumed;
    if (!r.done) {
      SMTPKIT_FUZZ_CHECK(used == b.size());
      return false;
    }
    events_.push_back({kind::end_of_data, 0, 0, {}, errc::ok});
    mode_ = mode::lines;
    return used < b.size();
  }

  bool take_line(std::string_view b, bool eof, std::size_t& used) {
    line_result r = eof ? framer_.finish(b) : framer_.next(b);
    SMTPKIT_FUZZ_CHECK(r.consumed <= b.size() && inside(r.line, b));
    used = r.consumed;
    if (r.status == line_status::need_more) return false;
    if (r.status != line_status::line) {
      // An over-long line's discarded tail ends where the pieces let it; only
      // its total length is the same.
      if (r.status == line_status::overflow_end) events_.push_back({kind::overflow, 0, r.length, {}, r.diag.code});
      else events_.push_back({kind::overflow, here_, r.line.size(), {}, r.diag.code});
      return true;
    }
    command_result c = parse_command(r.line, opts_);
    events_.push_back({kind::line, here_, r.line.size(), {}, c.diag.code});
    if (!c.ok() || !r.diag.ok() || r.ending != line_ending::crlf) return true;
    if (c.cmd.kind == verb::bdat) {
      reader_.start(c.cmd.chunk_size);
      SMTPKIT_FUZZ_CHECK(reader_.remaining() == c.cmd.chunk_size);
      if (!reader_.done()) mode_ = mode::chunk;
    } else if (c.cmd.kind == verb::data) {
      decoder_.reset();
      SMTPKIT_FUZZ_CHECK(decoder_.offset() == 0 && !decoder_.done());
      mode_ = mode::data;
    }
    return true;
  }

  line_framer framer_;
  bdat_reader reader_;
  data_decoder decoder_;
  parse_options opts_;
  mode mode_ = mode::lines;
  std::string buf_;
  std::size_t pos_ = 0;   // stream offset of buf_[0]
  std::size_t here_ = 0;  // stream offset of the octets being taken
  std::vector<event> events_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::owned_input owned(data, size);
  const fuzz::split_input s = fuzz::split(owned.view());
  parse_options opts;
  opts.smtputf8 = (s.options & 1) != 0;

  client_stream whole(opts);
  whole.feed(s.payload, false);
  whole.feed({}, true);
  client_stream pieces(opts);
  for (auto p : s.pieces) {
    const fuzz::owned_input piece(p);
    pieces.feed(piece.view(), false);
  }
  pieces.feed({}, true);
  SMTPKIT_FUZZ_CHECK(whole.events() == pieces.events());
  return 0;
}
