// smtpkit/line.hpp — streaming line framer (RFC 5321 §2.3.8, §4.5.3.1).
//
// Bytes arrive in arbitrary pieces. The caller keeps one buffer of the bytes
// not yet consumed and calls next() with all of them; the framer remembers
// how far it has scanned, so each byte is examined once. A line comes out
// with its terminator classified: CRLF, bare LF, or bare CR (a CR followed by
// anything but LF). A CR at the very end of the buffer is not yet decidable
// and yields need_more.
//
// Limits: the limit counts the terminator (512 for command and reply lines,
// 1000 for text lines, §4.5.3.1.4-6). A line that grows past it is reported
// once as `overflow` with its head, then discarded up to its terminator
// (reported as `overflow_end` with its full length), so a peer can never make
// the caller buffer more than the limit.
//
// Every line also reports the octets a grammar cares about before it parses:
// NUL, other controls, 8-bit octets (first offset of each kind).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/options.hpp"

namespace smtpkit {

enum class line_ending : std::uint8_t {
  none,  ///< no terminator (yet): need_more, or the final piece at close
  crlf,
  lf,  ///< bare LF
  cr,  ///< bare CR
};

std::string_view to_string(line_ending e) noexcept;

enum class line_status : std::uint8_t {
  line,          ///< a complete line; see `ending` and `diag`
  need_more,     ///< no complete line yet; `consumed` is 0, except inside an
                 ///< over-long line, where the dropped octets are consumed
  overflow,      ///< the line passed the limit; `line` is its head, now dropped
  overflow_end,  ///< the end of an over-long line was reached; `length` is its size
};

/// Flags of octets seen in a line (before its terminator).
enum line_flags : std::uint8_t {
  has_nul = 1u << 0,
  has_control = 1u << 1,  ///< C0 control other than HT, CR, LF; or DEL
  has_8bit = 1u << 2,
  has_tab = 1u << 3,
};

struct line_result {
  line_status status = line_status::need_more;
  line_ending ending = line_ending::none;
  std::uint8_t flags = 0;
  /// Bytes to drop from the front of the caller's buffer.
  std::size_t consumed = 0;
  /// The line without its terminator (a view into the input).
  std::string_view line;
  /// overflow_end: the full length of the over-long line, terminator included.
  std::size_t length = 0;
  /// First problem with the line: bare terminator, NUL or control octet,
  /// or line_too_long; offset relative to the line's first byte.
  diagnostic diag;
};

class line_framer {
 public:
  /// `limit` counts the terminator (RFC 5321 §4.5.3.1).
  explicit line_framer(std::size_t limit = 512, parse_options opts = {}) noexcept
      : limit_(limit < 3 ? 3 : limit), opts_(opts) {}

  /// `buf` holds every byte given and not yet consumed, in order.
  [[nodiscard]] line_result next(std::string_view buf) noexcept;

  /// Every line at the front of `buf`, handed to `on_line(const
  /// line_result&)` exactly as a loop of next() would give them (need_more
  /// excepted), until `on_line` returns false or no complete line is left.
  /// Returns the octets consumed: drop them from the buffer, as after next().
  ///
  /// For pipelined input (RFC 2920) this is the faster way: one scan
  /// classifies 64 octets and serves every CRLF line that ends inside them,
  /// where next() scans again for each line. Any other line (a bare CR or
  /// LF, a control or 8-bit octet, one near the limit or the end of `buf`)
  /// is left to next() itself. `on_line` may change the limit or reset()
  /// the framer, but must not call next() or finish() on it.
  template <class OnLine>
  std::size_t each_line(std::string_view buf, OnLine&& on_line);

  /// At end of stream: whatever is left is a line without terminator.
  [[nodiscard]] line_result finish(std::string_view buf) noexcept;

  void set_limit(std::size_t limit) noexcept { limit_ = limit < 3 ? 3 : limit; }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
  [[nodiscard]] bool discarding() const noexcept { return discarding_; }
  void reset() noexcept {
    scanned_ = 0;
    flags_ = 0;
    first_bad_ = npos_;
    bad_code_ = errc::ok;
    discarding_ = false;
    discarded_ = 0;
  }

 private:
  static constexpr std::size_t npos_ = static_cast<std::size_t>(-1);
  line_result emit(std::string_view buf, std::size_t end, std::size_t term_len, line_ending e) noexcept;
  void note(std::size_t pos, unsigned char c) noexcept;
  // The specials (controls, DEL, 8-bit: CR and LF among them) of two
  // 64-octet blocks from p, as masks (bit i for p[i], p[64 + i]); `second`
  // is 0 when fewer than 128 octets are there (`avail`, at least 64). Out
  // of line, in line.cpp, so that its vector code stays out of the users'
  // code that instantiates each_line; two blocks a call, as a call per
  // block cost framing about 15 % (bench/README.md).
  struct specials_pair {
    std::uint64_t first, second;
  };
  static specials_pair block_specials(const char* p, std::size_t avail) noexcept;

  std::size_t limit_;
  parse_options opts_;
  std::size_t scanned_ = 0;  // bytes of the current line already examined
  std::uint8_t flags_ = 0;
  std::size_t first_bad_ = npos_;
  errc bad_code_ = errc::ok;
  bool discarding_ = false;  // inside an over-long line
  std::size_t discarded_ = 0;
};

template <class OnLine>
std::size_t line_framer::each_line(std::string_view buf, OnLine&& on_line) {
  const char* const base = buf.data();
  const std::size_t n = buf.size();
  std::size_t done = 0;
  // Handed out for every common line; only the line and its size change.
  line_result crlf;
  crlf.status = line_status::line;
  crlf.ending = line_ending::crlf;
  for (;;) {
    if (!discarding_ && scanned_ == 0 && n - done >= 64) {
      // The specials (controls, DEL, 8-bit: CR and LF among them) of the
      // 64 octets from `block`, those of lines already handed out cleared.
      // They come two blocks at a time: `pair` holds the next block's when
      // `second` is set. (The step to the next block is written out once,
      // not as a lambda: GCC kept the state a lambda captured in memory,
      // which cost the command stream up to 4 %.)
      std::size_t block = done;
      specials_pair pair = block_specials(base + block, n - block);
      bool second = true;
      std::uint64_t specials = pair.first;
      for (;;) {
        // What of the next block's specials to keep: all but an LF that
        // ended a line of this block.
        std::uint64_t keep = ~std::uint64_t{0};
        if (specials == 0) {
          // No terminator before the limit, or the next 64 octets are not
          // all there: next() takes the line.
          if (block + 64 - done >= limit_ || n - block < 128) break;
        } else {
          const std::size_t cr = block + static_cast<unsigned>(__builtin_ctzll(specials));
          // The common line: CR LF first, within the limit (§4.5.3.1).
          if (base[cr] != '\r' || cr + 1 == n || base[cr + 1] != '\n' || cr + 2 - done > limit_) break;
          crlf.line = std::string_view(base + done, cr - done);
          crlf.consumed = cr + 2 - done;
          done = cr + 2;
          if (!on_line(static_cast<const line_result&>(crlf))) return done;
          // Clear the CR and the LF; an LF past the block begins the next one.
          specials &= specials - 1;
          if (cr - block < 63) {
            specials &= specials - 1;
            continue;
          }
          if (n - block < 128) break;
          keep = ~std::uint64_t{1};
        }
        // On to the next block, whose 64 octets are there.
        block += 64;
        if (second) {
          specials = pair.second & keep;
          second = false;
        } else {
          pair = block_specials(base + block, n - block);
          specials = pair.first & keep;
          second = true;
        }
      }
    }
    const line_result r = next(buf.substr(done));
    done += r.consumed;
    if (r.status == line_status::need_more || !on_line(r)) return done;
  }
}

}  // namespace smtpkit
