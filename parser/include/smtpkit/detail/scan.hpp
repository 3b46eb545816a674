// scan.hpp — vectorised search for the octets a line or DATA scanner must
// stop at. SSE2 is baseline on x86-64; other targets use the scalar loop.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "smtpkit/detail/rfc5321.hpp"

namespace smtpkit::detail {

#if defined(__SSE2__)
// Octets < 0x20, DEL and 8-bit in one 16-octet block, as a bit mask.
inline unsigned line_special_mask(const char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compare: 0x80-0xFF are negative, so "< 0x20" also catches 8-bit.
  const __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}
#endif

/// First octet in [p, end) that is a control (< 0x20), DEL, or 8-bit.
inline const char* find_line_special(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  // 64 octets per step while they last: most SMTP lines end within the
  // first step, so the loop exit is predictable, unlike a 16-octet loop
  // that leaves after a varying number of rounds.
  while (end - p >= 64) {
    const std::uint64_t mask = static_cast<std::uint64_t>(line_special_mask(p)) |
                               static_cast<std::uint64_t>(line_special_mask(p + 16)) << 16 |
                               static_cast<std::uint64_t>(line_special_mask(p + 32)) << 32 |
                               static_cast<std::uint64_t>(line_special_mask(p + 48)) << 48;
    if (mask) return p + __builtin_ctzll(mask);
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
