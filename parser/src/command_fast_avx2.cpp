// command_fast_avx2.cpp — the fast paths of parse_command for CPUs with
// AVX2 and BMI2 but not AVX-512 VBMI (command_fast.hpp; the paths
// themselves, RFC 5321 §4.1.1.1-3 and §4.1.2, in command_fast_masks.hpp):
// most x86-64 desktops, laptops and CI runners.
//
// AVX2 has no 128-entry byte lookup, so the class table is read by its
// two nibbles: for each class, a 16-entry table indexed by the low nibble
// holds one bit per high nibble (0-7) whose octet is in the class, and a
// second lookup turns the high nibble into that bit. Both tables are built
// from class_table at compile time, so the classes are the same as the
// AVX-512 set's by construction; the five classes of a single octet ("."
// "-" SP "=" "+") are one comparison each, checked against the table at
// compile time too.
//
// AVX2 has no masked byte load either: a window of 32 to 64 octets is read
// as two loads of 32 that may overlap, one of 16 to 32 as two of 16, one
// of 8 to 16 as two of 8; the masks of the second load are shifted into
// place (an octet read twice has the same class both times). Under 8
// octets are copied first. No load reads past `avail`. The masks go
// straight into the window's fields: an array of them, returned and
// merged in a loop, went through the stack and cost 15 % of the command
// stream.
//
// Where the compiler cannot target AVX2 per function (not GCC or Clang,
// not x86-64), avx2_fast_paths() says there is no such set.
#include "command_fast.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#define SMTPKIT_FAST_TARGET __attribute__((target("avx2,bmi,bmi2")))
#include "command_fast_masks.hpp"

namespace smtpkit::detail {
namespace {

constexpr unsigned class_count = 8;  // the bits of class_bit

// rows[k][l]: bit h set when octet 16h + l (h < 8) is in class bit k. Each
// row of 16 is stored twice, once for each 128-bit lane of vpshufb.
constexpr auto rows = [] {
  std::array<std::array<std::uint8_t, 32>, class_count> t{};
  for (unsigned k = 0; k < class_count; ++k)
    for (unsigned l = 0; l < 16; ++l) {
      unsigned b = 0;
      for (unsigned h = 0; h < 8; ++h) b |= ((class_table[16 * h + l] >> k) & 1u) << h;
      t[k][l] = t[k][l + 16] = static_cast<std::uint8_t>(b);
    }
  return t;
}();

// The bit of each high nibble in rows' entries. No class holds an octet
// under 0x20 (rows' bit 0 is always clear), so 8-bit octets (high nibble
// 8-15) get bit 0 and so no class.
constexpr std::array<std::uint8_t, 32> row_bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 1, 1, 1, 1, 1, 1, 1,
                                                  1, 2, 4, 8, 16, 32, 64, 128, 1, 1, 1, 1, 1, 1, 1, 1};
static_assert([] {
  for (unsigned k = 0; k < class_count; ++k)
    for (unsigned l = 0; l < 16; ++l)
      if (rows[k][l] & 1u) return false;
  return true;
}());

// The classes of one octet each, read with a comparison instead.
constexpr bool only(unsigned bit, char octet) {
  for (unsigned c = 0; c < 128; ++c)
    if (((class_table[c] & bit) != 0) != (c == static_cast<unsigned char>(octet))) return false;
  return true;
}
static_assert(only(c_dot, '.') && only(c_hyphen, '-') && only(c_space, ' ') && only(c_eq, '=') && only(c_plus, '+'));

// The mask of class bit k over 32 octets whose bits of row are `bit`.
SMTPKIT_FAST_TARGET inline std::uint32_t table_mask(__m256i v, __m256i bit, unsigned k) noexcept {
  const __m256i row = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[k].data()));
  const __m256i hit = _mm256_and_si256(_mm256_shuffle_epi8(row, v), bit);
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hit, bit)));
}

// The mask of one octet's class over 32 octets.
SMTPKIT_FAST_TARGET inline std::uint32_t octet_mask(__m256i v, char c) noexcept {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c))));
}

// The class masks of 32 octets, bit i for octet i, each cut to its `keep`
// low bits and those moved up by `shift`, into window `w`. vpshufb gives 0
// for an index with its top bit set: 8-bit octets are in no class.
SMTPKIT_FAST_TARGET inline void classes(__m256i v, std::uint32_t keep, unsigned shift, window& w) noexcept {
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
  const __m256i bit = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row_bit.data())), high);
  auto put = [keep, shift](std::uint64_t& field, std::uint32_t m) { field |= std::uint64_t{m & keep} << shift; };
  put(w.ldh, table_mask(v, bit, 0));
  put(w.dot, octet_mask(v, '.'));
  put(w.hyphen, octet_mask(v, '-'));
  put(w.atext, table_mask(v, bit, 3));
  put(w.print, table_mask(v, bit, 4));
  put(w.space, octet_mask(v, ' '));
  put(w.eq, octet_mask(v, '='));
  put(w.plus, octet_mask(v, '+'));
}

SMTPKIT_FAST_TARGET inline window classify(const char* p, std::size_t avail) noexcept {
  const unsigned len = avail < 64 ? static_cast<unsigned>(avail) : 64u;
  window w{};
  w.len = len;
  if (len >= 32) {
    // p[0, 32) and p[len - 32, len).
    classes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), ~0u, 0, w);
    classes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + len - 32)), ~0u, len - 32, w);
  } else if (len >= 16) {
    // p[0, 16) in the low lane, p[len - 16, len) in the high one.
    const __m256i v =
        _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p + len - 16), reinterpret_cast<const __m128i*>(p));
    classes(v, 0xFFFFu, 0, w);
    classes(_mm256_permute2x128_si256(v, v, 0x11), 0xFFFFu, len - 16, w);
  } else if (len >= 8) {
    // p[0, 8) and p[len - 8, len).
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + len - 8, 8);
    const __m256i v = _mm256_castsi128_si256(_mm_set_epi64x(static_cast<long long>(b), static_cast<long long>(a)));
    classes(v, 0xFFu, 0, w);
    classes(_mm256_srli_si256(v, 8), 0xFFu, len - 8, w);
  } else if (len > 0) {
    // Copied, the rest zero: NUL is in no class.
    std::uint64_t a = 0;
    std::memcpy(&a, p, len);
    classes(_mm256_castsi128_si256(_mm_cvtsi64_si128(static_cast<long long>(a))), 0xFFu, 0, w);
  }
  return w;
}

}  // namespace

const command_fast_paths* avx2_fast_paths() noexcept {
  static constexpr command_fast_paths paths{"avx2", &mail_rcpt, &hello_domain};
  __builtin_cpu_init();
  const bool runs = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  return runs ? &paths : nullptr;
}

}  // namespace smtpkit::detail

#undef SMTPKIT_FAST_TARGET

#else

namespace smtpkit::detail {

const command_fast_paths* avx2_fast_paths() noexcept { return nullptr; }

}  // namespace smtpkit::detail

#endif
