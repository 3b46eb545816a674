// command_fast_avx512.cpp — the fast paths of parse_command for CPUs with
// AVX-512 VBMI and BMI2 (command_fast.hpp; the paths themselves, RFC 5321
// §4.1.1.1-3 and §4.1.2, in command_fast_masks.hpp): a window of 64 octets
// classified in one table lookup (vpermi2b over the 128 class bytes of
// ASCII) and one vptestmb per class.
//
// Where the compiler cannot target AVX-512 per function (not GCC or Clang,
// not x86-64), avx512_fast_paths() says there is no such set.
#include "command_fast.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#define SMTPKIT_FAST_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi,bmi2")))
#include "command_fast_masks.hpp"

namespace smtpkit::detail {
namespace {

// A masked load reads no octet past `avail`; vpermi2b takes the class byte
// of each ASCII octet from the two halves of class_table, and 8-bit
// octets, masked out, get none.
SMTPKIT_FAST_TARGET inline window classify(const char* p, std::size_t avail) noexcept {
  const unsigned len = avail < 64 ? static_cast<unsigned>(avail) : 64u;
  const __mmask64 live = _bzhi_u64(~std::uint64_t{0}, len);  // all 64 when len is 64
  const __m512i v = _mm512_maskz_loadu_epi8(live, p);
  const __m512i lo = _mm512_loadu_si512(class_table.data());
  const __m512i hi = _mm512_loadu_si512(class_table.data() + 64);
  const __mmask64 ascii = live & ~_mm512_movepi8_mask(v);
  const __m512i c = _mm512_maskz_permutex2var_epi8(ascii, lo, v, hi);
  // Each class read out as a mask: one vptestmb against its bit.
#define SMTPKIT_CLASS(b) _mm512_test_epi8_mask(c, _mm512_set1_epi8(static_cast<char>(b)))
  return {SMTPKIT_CLASS(c_ldh),   SMTPKIT_CLASS(c_dot),   SMTPKIT_CLASS(c_hyphen),
          SMTPKIT_CLASS(c_atext), SMTPKIT_CLASS(c_print), SMTPKIT_CLASS(c_space),
          SMTPKIT_CLASS(c_eq),    SMTPKIT_CLASS(c_plus),  len};
#undef SMTPKIT_CLASS
}

}  // namespace

const command_fast_paths* avx512_fast_paths() noexcept {
  static constexpr command_fast_paths paths{"avx512", &mail_rcpt, &hello_domain};
  __builtin_cpu_init();
  const bool runs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("bmi") &&
                    __builtin_cpu_supports("bmi2");
  return runs ? &paths : nullptr;
}

}  // namespace smtpkit::detail

#undef SMTPKIT_FAST_TARGET

#else

namespace smtpkit::detail {

const command_fast_paths* avx512_fast_paths() noexcept { return nullptr; }

}  // namespace smtpkit::detail

#endif
