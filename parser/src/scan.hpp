// scan.hpp — vectorised search for the octets a line or DATA scanner must
// stop at (RFC 5321 §2.3.8 line ends, §4.5.2 the DATA stream), and for the
// end of a run of one ABNF character class (§4.1.2, §4.1.3).
// SSE2 is baseline on x86-64; other targets use the scalar loops and the
// tables of rfc5321.hpp, which stay the definition of every class.
//
// Internal to the library, as are its intrinsics: the public headers'
// inline code (line_framer::each_line, data_decoder::feed) calls the
// out-of-line functions of line.cpp and data.cpp that use it.
//
// Limits: nothing here reads outside the view it is given (the fuzz
// targets run under ASan), so a run that reaches the last 16 octets of a
// short input falls back to a shifted block or to the table loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "rfc5321.hpp"

namespace smtpkit::detail {

#if defined(__SSE2__)
// Octets < 0x20, DEL and 8-bit in one 16-octet block, as a bit mask.
// One signed compare of octet + 1 with 0x21 takes all three: 0x00-0x1F
// become 0x01-0x20, DEL and 0x80-0xFE become negative, 0xFF becomes 0x00,
// and only the printable 0x20-0x7E reach 0x21-0x7F.
[[gnu::always_inline]] inline unsigned line_special_mask(const char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i next = _mm_add_epi8(v, _mm_set1_epi8(1));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_set1_epi8(0x21), next)));
}
#endif

/// The octets of p[0, 64) that are controls (< 0x20), DEL or 8-bit, as a
/// mask: bit i stands for p[i]. The caller makes sure 64 octets are there.
[[gnu::always_inline]] inline std::uint64_t line_special_mask64(const char* p) noexcept {
#if defined(__SSE2__)
  return static_cast<std::uint64_t>(line_special_mask(p)) |
         static_cast<std::uint64_t>(line_special_mask(p + 16)) << 16 |
         static_cast<std::uint64_t>(line_special_mask(p + 32)) << 32 |
         static_cast<std::uint64_t>(line_special_mask(p + 48)) << 48;
#else
  std::uint64_t m = 0;
  for (unsigned i = 0; i < 64; ++i)
    if (line_special[static_cast<unsigned char>(p[i])]) m |= std::uint64_t{1} << i;
  return m;
#endif
}

/// First octet in [p, end) that is a control (< 0x20), DEL, or 8-bit.
inline const char* find_line_special(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  // 64 octets per step while they last: most SMTP lines end within the
  // first step, so the loop exit is predictable, unlike a 16-octet loop
  // that leaves after a varying number of rounds.
  while (end - p >= 64) {
    if (const std::uint64_t mask = line_special_mask64(p)) return p + __builtin_ctzll(mask);
    p += 64;
  }
  while (end - p >= 16) {
    if (unsigned mask = line_special_mask(p)) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && !line_special[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

#if defined(__SSE2__)
// Character classes, 16 octets at once: each gives 0xFF in the lanes of the
// octets IN the class and must agree with the table of the same name in
// rfc5321.hpp (scan_test.cpp checks every octet). No ASCII range below
// ever takes an 8-bit octet in (in_range counts from lo up, modulo 256).
namespace simd {

inline __m128i load(const char* p) noexcept { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline __m128i is(__m128i v, char c) noexcept { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); }
// lo <= v <= hi, for 0 <= lo <= hi < 128, in one signed compare: adding
// 0x80 - lo moves lo..hi to the bottom of the signed range, -128..hi-lo-128.
inline __m128i in_range(__m128i v, char lo, char hi) noexcept {
  const __m128i moved = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - lo)));
  return _mm_cmplt_epi8(moved, _mm_set1_epi8(static_cast<char>(hi - lo - 127)));
}
inline unsigned bits(__m128i lanes) noexcept { return static_cast<unsigned>(_mm_movemask_epi8(lanes)); }

inline __m128i let_dig(__m128i v) noexcept {
  const __m128i alpha = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
  return _mm_or_si128(alpha, in_range(v, '0', '9'));
}

inline __m128i ldh(__m128i v) noexcept { return _mm_or_si128(let_dig(v), is(v, '-')); }

// atext is every printable octet but the specials " ( ) , . : ; < > @ [ \ ]
inline __m128i atext(__m128i v) noexcept {
  __m128i special = _mm_or_si128(is(v, '"'), in_range(v, '(', ')'));
  special = _mm_or_si128(special, _mm_or_si128(is(v, ','), is(v, '.')));
  special = _mm_or_si128(special, _mm_or_si128(in_range(v, ':', '<'), is(v, '>')));
  special = _mm_or_si128(special, _mm_or_si128(is(v, '@'), in_range(v, '[', ']')));
  return _mm_andnot_si128(special, in_range(v, '!', '~'));
}

inline __m128i esmtp_value_char(__m128i v) noexcept { return _mm_andnot_si128(is(v, '='), in_range(v, '!', '~')); }

inline __m128i xchar(__m128i v) noexcept {
  return _mm_andnot_si128(_mm_or_si128(is(v, '+'), is(v, '=')), in_range(v, '!', '~'));
}

inline __m128i base64_char(__m128i v) noexcept {
  return _mm_or_si128(let_dig(v), _mm_or_si128(is(v, '+'), is(v, '/')));
}

inline __m128i text_char(__m128i v) noexcept { return _mm_or_si128(is(v, '\t'), in_range(v, ' ', '~')); }

}  // namespace simd
#else
namespace simd {
// Placeholders, so the span_* functions below read the same on every target.
inline constexpr int ldh = 0, atext = 0, esmtp_value_char = 0, xchar = 0, base64_char = 0, text_char = 0;
}  // namespace simd
#endif

/// Offset of the first octet at or after `pos` outside the class (s.size()
/// when there is none). `table` is the class; `block` the same class from
/// namespace simd.
///
/// A run shorter than 16 octets costs one block test and no branch per
/// octet, so where it ends is never mispredicted: that is what makes the
/// short tokens of SMTP (labels, atoms, keywords, values) cheap.
template <class Block>
inline std::size_t span(std::string_view s, std::size_t pos, const char_table& table,
                        [[maybe_unused]] Block block) noexcept {
  const char* const begin = s.data();
  const char* const end = begin + s.size();
  const char* p = begin + pos;
#if defined(__SSE2__)
  while (end - p >= 16) {
    if (unsigned m = ~simd::bits(block(simd::load(p))) & 0xFFFFu)
      return static_cast<std::size_t>(p - begin) + static_cast<unsigned>(__builtin_ctz(m));
    p += 16;
  }
  if (p < end && end - begin >= 16) {
    // Fewer than 16 octets left: test the input's last 16 instead, which
    // overlap octets already passed; shift those away and stop at the end.
    const char* const last = end - 16;
    const unsigned outside = ~simd::bits(block(simd::load(last))) & 0xFFFFu;
    const unsigned m = (outside >> (p - last)) | (1u << (end - p));
    return static_cast<std::size_t>(p - begin) + static_cast<unsigned>(__builtin_ctz(m));
  }
#endif
  while (p < end && table[static_cast<unsigned char>(*p)]) ++p;
  return static_cast<std::size_t>(p - begin);
}

inline std::size_t span_ldh(std::string_view s, std::size_t pos) noexcept { return span(s, pos, ldh, simd::ldh); }
inline std::size_t span_atext(std::string_view s, std::size_t pos) noexcept { return span(s, pos, atext, simd::atext); }
inline std::size_t span_esmtp_value(std::string_view s, std::size_t pos) noexcept {
  return span(s, pos, esmtp_value_char, simd::esmtp_value_char);
}
inline std::size_t span_xchar(std::string_view s, std::size_t pos) noexcept { return span(s, pos, xchar, simd::xchar); }
inline std::size_t span_base64(std::string_view s, std::size_t pos) noexcept {
  return span(s, pos, base64_char, simd::base64_char);
}
inline std::size_t span_text(std::string_view s, std::size_t pos) noexcept {
  return span(s, pos, text_char, simd::text_char);
}

#if defined(__SSE2__)
/// A dotted run (Domain, Dot-string) as bit masks: bit i stands for the
/// octet at start + i.
struct run_masks {
  std::size_t size = 0;     ///< octets in the run
  std::uint64_t dots = 0;   ///< its "." octets
  std::uint64_t marks = 0;  ///< its octets the classifier marked (e.g. "-")
};

/// What a classifier returns for one block: lanes that continue the run,
/// lanes that are ".", lanes to mark.
struct run_block {
  __m128i run, dots, marks;
};

/// Classifies the run of octets from `start` 16 at a time until one is
/// outside it. False when the run may reach 64 octets or the input is
/// shorter than one block: the caller then takes its general path.
template <class Classify>
inline bool classify_run(std::string_view s, std::size_t start, Classify classify, run_masks& out) noexcept {
  const std::size_t n = s.size();
  if (n < 16) return false;
  std::uint64_t dots = 0, marks = 0;
  for (std::size_t k = 0; k < 64; k += 16) {
    const std::size_t at = start + k;
    if (at >= n) {  // the run ends with the input, on a block boundary
      out = {n - start, dots, marks};
      return true;
    }
    // Near the end, the input's last 16 octets, shifted so that bit 0 is
    // the octet at `at`; the lanes past the end shift in as zero, which
    // ends the run there.
    const std::size_t from = n - at >= 16 ? at : n - 16;
    const unsigned shift = static_cast<unsigned>(at - from);
    const run_block b = classify(simd::load(s.data() + from));
    dots |= static_cast<std::uint64_t>(simd::bits(b.dots) >> shift) << k;
    marks |= static_cast<std::uint64_t>(simd::bits(b.marks) >> shift) << k;
    if (const unsigned stop = ~(simd::bits(b.run) >> shift) & 0xFFFFu) {
      const std::size_t size = k + static_cast<unsigned>(__builtin_ctz(stop));
      const std::uint64_t keep = (std::uint64_t{1} << size) - 1;  // size < 64
      out = {size, dots & keep, marks & keep};
      return true;
    }
  }
  return false;
}
#endif

/// First CR, LF or NUL in [p, end); `high` collects whether any 8-bit octet
/// was passed over (only when the caller asks, it costs a movemask).
inline const char* find_cr_lf_nul(const char* p, const char* end, bool& high) noexcept {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  int hi = 0;
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)), _mm_cmpeq_epi8(v, zero));
    int mask = _mm_movemask_epi8(m);
    int vh = _mm_movemask_epi8(v);
    if (mask) {
      unsigned at = static_cast<unsigned>(__builtin_ctz(static_cast<unsigned>(mask)));
      // Only the octets before the stop count.
      hi |= vh & static_cast<int>((1u << at) - 1u);
      high = high || hi != 0;
      return p + at;
    }
    hi |= vh;
    p += 16;
  }
  high = high || hi != 0;
#endif
  while (p < end) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '\r' || c == '\n' || c == 0) return p;
    if (c >= 0x80) high = true;
    ++p;
  }
  return p;
}

}  // namespace smtpkit::detail
