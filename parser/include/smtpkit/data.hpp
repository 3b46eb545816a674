// smtpkit/data.hpp — the mail data stream after DATA (RFC 5321 §4.1.1.4,
// §4.5.2 transparency, §4.5.3.1.6 text lines) and BDAT chunks (RFC 3030 §2).
//
// data_decoder is resumable: feed it the stream in any pieces. It removes
// the stuffed dot at the start of each line, finds <CRLF>.<CRLF>, and hands
// out the message as views into the pieces given (plus a few constant
// octets when a held-back CR or dot turns out to be content). It reports
// every oddity that matters for SMTP smuggling: each way a "." line can be
// framed by something other than CRLF on both sides, NUL before the dot,
// bare CR and bare LF in the body, NUL, 8-bit octets, over-long lines.
//
// Strict by default: only <CRLF>.<CRLF> ends the data. A caller may name
// other sequences that also end it (accept_as_end), to emulate a receiver
// that is vulnerable to smuggling on purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smtpkit {

/// What the decoder saw. Offsets are positions in the whole DATA stream.
enum class data_anomaly : std::uint8_t {
  bare_cr,        ///< CR not followed by LF
  bare_lf,        ///< LF not preceded by CR
  nul,            ///< NUL octet
  eight_bit,      ///< octet >= 0x80 (first one only)
  line_too_long,  ///< text line over 1000 octets, CRLF included (§4.5.3.1.6)
  // "." lines framed by something other than CRLF "." CRLF:
  lf_dot_lf,    ///< <LF>.<LF>
  lf_dot_crlf,  ///< <LF>.<CR><LF>
  lf_dot_cr,    ///< <LF>.<CR> (CR not followed by LF)
  crlf_dot_lf,  ///< <CR><LF>.<LF>
  crlf_dot_cr,  ///< <CR><LF>.<CR> (CR not followed by LF)
  cr_dot_cr,    ///< <CR>.<CR>
  cr_dot_lf,    ///< <CR>.<LF>
  cr_dot_crlf,  ///< <CR>.<CR><LF>
  nul_dot,      ///< <CR><LF><NUL>.<CR><LF> (a receiver that drops NUL sees the end)
  count_
};
std::string_view to_string(data_anomaly a) noexcept;
/// Stable rule id ("data.bare-lf", "data.eod.lf-dot-lf", ...).
std::string_view rule_id(data_anomaly a) noexcept;
std::string_view rfc_section(data_anomaly a) noexcept;
/// True for the "." line variants (smuggling candidates).
constexpr bool is_end_variant(data_anomaly a) noexcept {
  return a >= data_anomaly::lf_dot_lf && a <= data_anomaly::nul_dot;
}
constexpr std::uint32_t anomaly_bit(data_anomaly a) noexcept { return 1u << static_cast<unsigned>(a); }

struct data_result {
  std::size_t consumed = 0;                      ///< octets of this piece used (all of it unless done)
  bool done = false;                             ///< end of data seen; the rest of the piece is not DATA
  data_anomaly ended_by = data_anomaly::count_;  ///< when done by an accepted variant
};

/// Handler concept:
///   void body(std::string_view octets);                  // message content, in order
///   void anomaly(data_anomaly a, std::uint64_t offset);  // each oddity
class data_decoder {
 public:
  /// `accept_as_end`: bits (anomaly_bit) of "." variants that also end the data.
  explicit data_decoder(std::uint32_t accept_as_end = 0) noexcept : accept_(accept_as_end) {}

  template <class Handler>
  data_result feed(std::string_view piece, Handler& h);

  void reset() noexcept { *this = data_decoder(accept_); }
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  /// Octets of content handed out so far (dot-unstuffed).
  [[nodiscard]] std::uint64_t content_size() const noexcept { return content_; }
  [[nodiscard]] bool done() const noexcept { return state_ == st::done; }
  [[nodiscard]] std::uint32_t seen() const noexcept { return seen_; }

 private:
  enum class st : std::uint8_t {
    bol_crlf,     // at the start of a line that followed CRLF (or the start)
    bol_lf,       // just after a bare LF
    bol_cr,       // just after a bare CR
    mid,          // inside a line
    cr,           // CR seen inside a line, LF not yet known
    dot_crlf,     // "." right after CRLF
    dot_crlf_cr,  // ".<CR>" right after CRLF
    dot_lf,       // "." after a bare LF
    dot_lf_cr,    // ".<CR>" after a bare LF
    dot_cr,       // "." after a bare CR
    dot_cr_cr,    // ".<CR>" after a bare CR
    nul_crlf,     // NUL right after CRLF
    nul_dot,      // NUL "." after CRLF
    nul_dot_cr,   // NUL ".<CR>" after CRLF
    done,
  };
  // Where one feed() call stands in its piece.
  struct cursor {
    std::string_view piece;
    std::size_t i = 0;    // the next octet
    std::size_t run = 0;  // start of content not yet handed out
    bool end = false;     // the data ended before i
    data_anomaly ended_by = data_anomaly::count_;
  };
  // One step of the state machine from c.i, by group of states: inside a
  // line; at a line's start; holding back a "." (or NUL ".") sequence.
  template <class Handler>
  void step_mid(cursor& c, Handler& h);
  template <class Handler>
  void step_line_start(cursor& c, Handler& h);
  template <class Handler>
  void step_held(cursor& c, Handler& h);
  template <class Handler>
  void flush(cursor& c, Handler& h, std::size_t end);
  // A held-back sequence turned out to be content.
  template <class Handler>
  void release(cursor& c, Handler& h, std::string_view held);
  // A "." variant at c.i: reported; ends the data (at `end`) when the
  // caller asked to treat it as the end. True when it did.
  template <class Handler>
  bool variant(cursor& c, Handler& h, data_anomaly a, std::size_t end);
  void new_line() noexcept {
    line_len_ = 0;
    long_reported_ = false;
  }
  template <class Handler>
  void report(Handler& h, data_anomaly a, std::uint64_t at);
  template <class Handler>
  void emit(Handler& h, std::string_view s);
  bool accepts(data_anomaly a) const noexcept { return (accept_ >> static_cast<unsigned>(a)) & 1u; }
  // In state mid at p[i]: passes every ordinary line that needs no report
  // (its content, then CRLF and a next line that starts with neither "."
  // nor NUL), moving i to the start of the first content it does not
  // pass, and returns where that content stops: its first CR, LF or NUL,
  // or n; `high` says whether an 8-bit octet came before the stop. Out of
  // line, in data.cpp, so that its vector scan stays out of the users'
  // code that instantiates feed(), and a call serves many lines.
  std::size_t pass_lines(const char* p, std::size_t& i, std::size_t n, bool& high) noexcept;

  std::uint32_t accept_;
  st state_ = st::bol_crlf;
  std::uint64_t offset_ = 0;  // stream offset of the next octet
  std::uint64_t content_ = 0;
  std::uint64_t line_len_ = 0;  // octets of the current line so far
  bool long_reported_ = false;
  bool eight_bit_reported_ = false;
  std::uint32_t seen_ = 0;
};

/// BDAT chunk framing (RFC 3030 §2): exactly chunk-size octets follow the
/// command line, with no dot-stuffing and no end marker.
class bdat_reader {
 public:
  void start(std::uint64_t chunk_size) noexcept { remaining_ = chunk_size; }
  /// The part of `piece` that belongs to the chunk.
  [[nodiscard]] std::string_view take(std::string_view piece) noexcept {
    std::size_t n = piece.size() < remaining_ ? piece.size() : static_cast<std::size_t>(remaining_);
    remaining_ -= n;
    return piece.substr(0, n);
  }
  [[nodiscard]] std::uint64_t remaining() const noexcept { return remaining_; }
  [[nodiscard]] bool done() const noexcept { return remaining_ == 0; }

 private:
  std::uint64_t remaining_ = 0;
};

}  // namespace smtpkit

#include "smtpkit/detail/data_impl.hpp"
