// command.cpp — SMTP command lines (RFC 5321 §4.1.1-4.1.2 and extensions).
#include "smtpkit/command.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <utility>

// The fast paths (MAIL/RCPT, EHLO/HELO) need AVX-512 VBMI and BMI2 at run
// time and a compiler that can target them per function (GCC and Clang on
// x86-64).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SMTPKIT_AVX512_FAST_PATH 1
#include <immintrin.h>
#else
#define SMTPKIT_AVX512_FAST_PATH 0
#endif

#include "smtpkit/detail/rfc5321.hpp"
#include "smtpkit/detail/scan.hpp"
#include "smtpkit/detail/utf8.hpp"
#include "param_check.hpp"

namespace smtpkit {

using detail::in;

namespace {

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

// Up to 8 octets in lower case as a little-endian word: how lookup_verb
// and the fast path read words (lookup_verb swaps them on big-endian).
constexpr std::uint64_t lower_word(std::string_view k) noexcept {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < k.size(); ++i)
    w |= static_cast<std::uint64_t>(static_cast<unsigned char>(detail::to_lower_ascii(k[i]))) << (8 * i);
  return w;
}

// A word's slot among 2^SlotBits under a multiplicative hash: the top bits
// of word * factor.
template <unsigned SlotBits, class Word>
constexpr unsigned hash_slot(Word word, Word factor) noexcept {
  return static_cast<unsigned>(static_cast<Word>(word * factor) >> (8 * sizeof(Word) - SlotBits));
}

// The first factor of a fixed pseudo-random sequence that gives each
// entry's word a slot of its own (a perfect hash, found at compile time).
template <unsigned SlotBits, class Entry, std::size_t N>
constexpr auto perfect_factor(const std::array<Entry, N>& entries) noexcept {
  using Word = decltype(Entry::word);
  static_assert(SlotBits <= 5, "the slots are kept in a 32-bit set");
  for (std::uint64_t seq = 0x9E3779B97F4A7C15ull;; seq = seq * 6364136223846793005ull + 1442695040888963407ull) {
    const auto factor = static_cast<Word>(static_cast<Word>(seq >> (64 - 8 * sizeof(Word))) | 1u);
    std::uint32_t used = 0;
    bool clash = false;
    for (const Entry& e : entries) {
      const unsigned slot = hash_slot<SlotBits>(e.word, factor);
      clash |= (used >> slot & 1u) != 0;
      used |= 1u << slot;
    }
    if (!clash) return factor;
  }
}

// The entries placed in their slots under `factor`; an empty slot holds a
// default entry (word 0, and the "unknown" answer).
template <unsigned SlotBits, class Entry, std::size_t N>
constexpr std::array<Entry, std::size_t{1} << SlotBits> hash_table(const std::array<Entry, N>& entries,
                                                                    decltype(Entry::word) factor) noexcept {
  std::array<Entry, std::size_t{1} << SlotBits> t{};
  for (const Entry& e : entries) t[hash_slot<SlotBits>(e.word, factor)] = e;
  return t;
}

// Four-letter verbs folded to lower case in one 32-bit OR; every verb
// letter is alphabetic, so x|0x20 equals a lower-case letter only for that
// letter in either case. A multiplicative hash of the folded word names
// the one verb it can be, so the lookup is one load and one comparison
// whatever the verb: a chain of comparisons would mispredict on the mix of
// verbs of a session.
struct verb_entry {
  std::uint32_t word = 0;
  verb kind = verb::unknown;
};

constexpr std::array<verb_entry, 13> four_letter_verbs = [] {
  constexpr std::array<std::pair<std::string_view, verb>, 13> names{{
      {"ehlo", verb::ehlo}, {"helo", verb::helo}, {"mail", verb::mail}, {"rcpt", verb::rcpt}, {"data", verb::data},
      {"rset", verb::rset}, {"vrfy", verb::vrfy}, {"expn", verb::expn}, {"help", verb::help}, {"noop", verb::noop},
      {"quit", verb::quit}, {"auth", verb::auth}, {"bdat", verb::bdat}}};
  std::array<verb_entry, 13> t{};
  for (std::size_t i = 0; i < names.size(); ++i)
    t[i] = {static_cast<std::uint32_t>(lower_word(names[i].first)), names[i].second};
  return t;
}();

constexpr std::uint32_t verb_factor = perfect_factor<5>(four_letter_verbs);
constexpr auto verb_table = hash_table<5>(four_letter_verbs, verb_factor);

[[gnu::always_inline]] inline verb lookup_verb(std::string_view v) noexcept {
  if (v.size() == 4) {
    std::uint32_t w;
    std::memcpy(&w, v.data(), 4);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
    w |= 0x20202020u;
    const verb_entry& e = verb_table[hash_slot<5>(w, verb_factor)];
    return e.word == w ? e.kind : verb::unknown;
  }
  if (v.size() == 8 && detail::iequals(v, "STARTTLS")) return verb::starttls;
  return verb::unknown;
}

// After an argument: end of line, or (lenient) trailing white space.
diagnostic expect_end(std::string_view s, std::size_t pos, parse_options opts) noexcept {
  if (pos == s.size()) return {};
  if (s[pos] == ' ' || s[pos] == '\t') {
    std::size_t p = pos;
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    if (p == s.size()) return opts.allows(lenient::trailing_whitespace) ? diagnostic{} : fail(errc::trailing_whitespace, pos);
    return fail(errc::unexpected_argument, p);
  }
  return fail(errc::trailing_data, pos);
}

// String = Atom / Quoted-string
diagnostic scan_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  if (pos < s.size() && s[pos] == '"') return detail::scan_quoted_string(s, pos, opts);
  return detail::scan_atom(s, pos, opts);
}

// The argument of VRFY and EXPN. The ABNF says String (§4.1.1.6-7), but
// the prose widens it: "the string is a user name or a user name and
// domain" (§3.5.1), hosts "SHOULD accept the "local-part@domain" form",
// and "The character string arguments of the VRFY and EXPN commands cannot
// be further restricted". So any run of printable ASCII and SP (RFC 6531
// UTF-8 when SMTPUTF8 is in force) up to the end of the line; white space
// before CRLF is still the caller's to judge.
diagnostic scan_user_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  std::size_t end = s.size();
  while (end > pos && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  if (end == pos) return fail(errc::string_syntax, pos);
  while (pos < end) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c >= 0x80) {
      if (!opts.smtputf8) return fail(errc::eight_bit, pos);
      const std::size_t n = detail::utf8_sequence(s, pos);
      if (n == 0) return fail(errc::invalid_utf8, pos);
      pos += n;
    } else if (c >= 0x20 && c < 0x7F) {
      ++pos;
    } else {
      return fail(errc::string_syntax, pos);
    }
  }
  return {};
}

// s continues at pos with kw, whose letters match in either case: x | 0x20
// folds a letter onto its lower case and leaves " " and ":" as they are, so
// only the letters are folded. Shorter than iequals' per-octet tolower.
bool keyword_follows(std::string_view s, std::size_t pos, std::string_view kw) noexcept {
  if (s.size() - pos < kw.size()) return false;
  for (std::size_t i = 0; i < kw.size(); ++i) {
    const char k = detail::to_lower_ascii(kw[i]);
    const char x = detail::is_alpha(k) ? static_cast<char>(s[pos + i] | 0x20) : s[pos + i];
    if (x != k) return false;
  }
  return true;
}

diagnostic parse_mail_rcpt(std::string_view s, std::size_t pos, bool mail, parse_options opts, command& c) noexcept {
  // "MAIL FROM:" / "RCPT TO:" — the SP and keyword are part of the literal.
  const std::string_view kw = mail ? " FROM:" : " TO:";
  if (!keyword_follows(s, pos, kw)) {
    errc e = mail ? errc::mail_from_keyword : errc::rcpt_to_keyword;
    return fail(e, pos);
  }
  pos += kw.size();
  c.argument = s.substr(pos);
  if (pos < s.size() && s[pos] == ' ') {
    if (!opts.allows(lenient::space_after_colon)) return fail(errc::space_after_colon, pos);
    while (pos < s.size() && s[pos] == ' ') ++pos;
  }
  if (auto d = detail::scan_path(s, pos, mail ? path_kind::reverse : path_kind::forward, opts, c.address)) return d;
  if (pos == s.size()) return {};
  if (s[pos] != ' ') return fail(c.address.bracketed ? errc::trailing_data : errc::path_brackets, pos);
  // SP Mail-parameters
  std::size_t params = pos + 1;
  if (params == s.size() || s[params] == ' ' || s[params] == '\t') {
    if (s.find_first_not_of(" \t", params) == std::string_view::npos) return expect_end(s, pos, opts);
    return fail(errc::extra_space, params);
  }
  std::string_view text = s.substr(params);
  // Lenient trailing white space: strip it before the list is validated.
  if (opts.allows(lenient::trailing_whitespace))
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  c.params = param_list(text);
  diagnostic d = parse_params(text, mail, opts, c.typed);
  if (d) d.offset += static_cast<std::uint32_t>(params);
  return d;
}

#if SMTPKIT_AVX512_FAST_PATH
// The fast path for the MAIL and RCPT lines of nearly all real traffic,
// for CPUs with AVX-512 VBMI: "MAIL FROM:<" / "RCPT TO:<", a Dot-string,
// "@", a Domain, ">", then parameters in ASCII. Each 64-octet window is
// classified in one table lookup (vpermi2b), one octet to one byte of
// class bits, and each class read out as a 64-bit mask; every token then
// ends where a count of trailing ones says, without scanning the same
// octets again for each rule.
//
// Quoted local parts and address literals it hands to the general
// parser's own scanners, then goes on. It only ever accepts. Anything it
// does not recognise — every error, source routes, UTF-8, lenient forms,
// a Dot-string path or a parameter past its window — goes to the general
// parser, which gives the diagnostic. Where it accepts, it must
// fill `command` exactly as the general parser does: parser tests and
// fuzz_command compare it with detail::parse_command_general on every
// input they have.
namespace fast {

enum class_bit : std::uint8_t {
  c_ldh = 1u << 0,     // ALPHA / DIGIT / "-"
  c_dot = 1u << 1,     // "."
  c_hyphen = 1u << 2,  // "-"
  c_atext = 1u << 3,   // RFC 5322 atext
  c_print = 1u << 4,   // %d33-126: esmtp-value octets and "="
  c_space = 1u << 5,   // SP
  c_eq = 1u << 6,      // "="
  c_plus = 1u << 7,    // "+", the only esmtp-value octet that is not an xchar (RFC 3461 §4)
};

// The class byte of each ASCII octet, from the tables of rfc5321.hpp.
constexpr std::array<std::uint8_t, 128> class_table = [] {
  std::array<std::uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    unsigned b = 0;
    if (detail::ldh[c]) b |= c_ldh;
    if (c == '.') b |= c_dot;
    if (c == '-') b |= c_hyphen;
    if (detail::atext[c]) b |= c_atext;
    if (c >= 33 && c <= 126) b |= c_print;
    if (c == ' ') b |= c_space;
    if (c == '=') b |= c_eq;
    if (c == '+') b |= c_plus;
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(b);
  }
  return t;
}();

// Up to 64 octets from p: bit i of each mask stands for p[i]. Octets past
// `avail` are not read (masked load) and, like 8-bit octets, are in no class.
struct window {
  std::uint64_t ldh, dot, hyphen, atext, print, space, eq, plus;
  unsigned len;
};

// Every CPU with AVX-512 VBMI also has BMI1/BMI2: the masks are read with
// tzcnt, and cut to a length with bzhi (which takes all 64 bits at 64).
#define SMTPKIT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi,bmi2")))

SMTPKIT_AVX512 inline window classify(const char* p, std::size_t avail) noexcept {
  const unsigned len = avail < 64 ? static_cast<unsigned>(avail) : 64u;
  const __mmask64 live = _bzhi_u64(~std::uint64_t{0}, len);  // all 64 when len is 64
  const __m512i v = _mm512_maskz_loadu_epi8(live, p);
  const __m512i lo = _mm512_loadu_si512(class_table.data());
  const __m512i hi = _mm512_loadu_si512(class_table.data() + 64);
  const __mmask64 ascii = live & ~_mm512_movepi8_mask(v);
  const __m512i c = _mm512_maskz_permutex2var_epi8(ascii, lo, v, hi);
  // Each class read out as a mask: one vptestmb against its bit.
#define SMTPKIT_CLASS(b) _mm512_test_epi8_mask(c, _mm512_set1_epi8(static_cast<char>(b)))
  return {SMTPKIT_CLASS(c_ldh),   SMTPKIT_CLASS(c_dot),   SMTPKIT_CLASS(c_hyphen), SMTPKIT_CLASS(c_atext),
          SMTPKIT_CLASS(c_print), SMTPKIT_CLASS(c_space), SMTPKIT_CLASS(c_eq),     SMTPKIT_CLASS(c_plus),
          len};
#undef SMTPKIT_CLASS
}

// Bits [from, to), to <= 64.
SMTPKIT_AVX512 inline std::uint64_t bits(unsigned from, unsigned to) noexcept {
  return _bzhi_u64(~std::uint64_t{0}, to - from) << from;
}

// Ones from bit `from` on (64 - from at most).
SMTPKIT_AVX512 inline unsigned run(std::uint64_t m, unsigned from) noexcept {
  return from >= 64 ? 0 : static_cast<unsigned>(std::countr_one(m >> from));
}

// The window of a line in use: classified at `start`, it serves every
// token that ends inside it; one further from its start is classified anew.
struct cursor {
  std::string_view s;
  std::size_t start = 0;
  window w{};

  SMTPKIT_AVX512 void move_to(std::size_t at) noexcept {
    start = at;
    w = classify(s.data() + at, s.size() - at);
  }
  // The window holds the line's last octet.
  [[nodiscard]] bool reaches_end() const noexcept { return start + w.len == s.size(); }
};

// The end of the Domain from d0 in the window: labels of Let-dig and "-",
// neither "-" nor "." first or last, up to the first octet of neither
// class; 0 when there is none or it is malformed. The caller makes sure
// no label is too long (§4.5.3.1.2): under 64 octets from d0 none is.
SMTPKIT_AVX512 inline unsigned domain_end(const window& w, unsigned d0) noexcept {
  const unsigned end = d0 + run(w.ldh | w.dot, d0);
  if (end == d0) return 0;
  const std::uint64_t labels = bits(d0, end);
  const std::uint64_t dots = w.dot & labels;
  const std::uint64_t edges = dots << 1 | dots >> 1 | std::uint64_t{1} << d0 | std::uint64_t{1} << (end - 1);
  return (dots | (w.hyphen & labels)) & edges ? 0 : end;
}

// Whether the `len` octets of s from p, all atext or ".", are
// "Postmaster" in any case: folding with 0x20 is exact for them (it gives
// a lower-case letter only from that letter in either case).
inline bool is_postmaster(std::string_view s, std::size_t p, unsigned len) noexcept {
  if (len != 10) return false;
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::memcpy(&head, s.data() + p, 8);
  std::memcpy(&tail, s.data() + p + 8, 2);
  return (head | 0x2020202020202020ull) == lower_word("postmast") && (tail | 0x2020u) == lower_word("er");
}

// Reverse-path / Forward-path from the "<" at `lt` (RFC 5321 §4.1.2);
// leaves the cursor on the window it used.
SMTPKIT_AVX512 bool path_at(cursor& cur, std::size_t lt, bool reverse, path& out, std::size_t& end) noexcept {
  const std::string_view s = cur.s;
  const std::size_t p0 = lt + 1;
  if (p0 >= s.size()) return false;
  cur.move_to(p0);
  if (s[p0] == '>') {  // "<>"
    if (!reverse) return false;
    out.null = true;
    out.text = s.substr(lt, 2);
    end = lt + 2;
    return true;
  }
  const window& w = cur.w;
  // Local-part (§4.1.2), at most 64 octets (§4.5.3.1.1): a Dot-string, or
  // a Quoted-string by the general parser's rule.
  unsigned at = 0;
  if (s[p0] == '"') {
    std::size_t pos = p0;
    if (detail::scan_quoted_string(s, pos, {}) || pos - p0 > max_local_part || pos == s.size() || s[pos] != '@')
      return false;
    at = static_cast<unsigned>(pos - p0);
    out.mbox.quoted = true;
  } else {
    at = run(w.atext | w.dot, 0);
    if (at == 0 || at >= w.len) return false;
    if (s[p0 + at] == '>' && !reverse && is_postmaster(s, p0, at)) {
      // "<Postmaster>" (§4.1.1.3), the one Forward-path without a domain.
      out.postmaster = true;
      out.text = s.substr(lt, at + 2);
      out.mbox.text = out.mbox.local_part = s.substr(p0, at);
      end = p0 + at + 1;
      return true;
    }
    if (s[p0 + at] != '@') return false;
    const std::uint64_t local_dots = w.dot & bits(0, at);
    if (local_dots & (1u | std::uint64_t{1} << (at - 1) | local_dots >> 1)) return false;
  }
  const unsigned d0 = at + 1;
  if (d0 >= w.len) return false;
  unsigned gt = 0;
  if (s[p0 + d0] == '[') {
    // An address literal (§4.1.3), by the general parser's rule.
    std::size_t pos = p0 + d0;
    if (detail::scan_address_literal(s, pos, {}, out.mbox.domain) || pos == s.size() || s[pos] != '>' ||
        pos + 1 - lt > max_path)
      return false;
    gt = static_cast<unsigned>(pos - p0);
  } else {
    gt = domain_end(w, d0);
    if (gt == 0 || gt >= w.len || s[p0 + gt] != '>') return false;
    const std::string_view domain = s.substr(p0 + d0, gt - d0);
    out.mbox.domain.text = domain;
    out.mbox.domain.address = domain;
  }
  out.text = s.substr(lt, gt + 2);
  out.mbox.text = s.substr(p0, gt);
  out.mbox.local_part = s.substr(p0, at);
  end = p0 + gt + 1;
  return true;
}

// Whether the esmtp-value ending before `b` in the cursor's window, whose
// "+" octets are `pluses`, is xtext (RFC 3461 §4): its other octets are
// esmtp-value octets but "=", every one an xchar, so it is when each "+"
// begins a hexchar ("+" and two of 0-9 A-F). Most values have no "+".
SMTPKIT_AVX512 inline bool xtext_value(const cursor& cur, std::uint64_t pluses, unsigned b) noexcept {
  const char* const w = cur.s.data() + cur.start;
  for (; pluses != 0; pluses &= pluses - 1) {
    const auto i = static_cast<unsigned>(std::countr_zero(pluses));
    if (i + 2 >= b || !in(detail::xtext_hex, w[i + 1]) || !in(detail::xtext_hex, w[i + 2])) return false;
  }
  return true;
}

// The known esmtp-keywords of up to 8 octets (all but MT-PRIORITY and
// REQUIRETLS), each as the little-endian word of its octets in lower case,
// in a table indexed by a multiplicative hash of that word: one load and
// one comparison name a keyword, with no branch per candidate.
struct keyword_entry {
  std::uint64_t word = 0;
  param_id id = param_id::count_;
};

// The known keywords of up to 8 octets, in detail::known's order.
constexpr std::size_t short_keyword_count = [] {
  std::size_t n = 0;
  for (const auto& k : detail::known) n += k.keyword.size() <= 8;
  return n;
}();

constexpr auto short_keywords = [] {
  std::array<keyword_entry, short_keyword_count> t{};
  std::size_t n = 0;
  for (const auto& [k, id] : detail::known)
    if (k.size() <= 8) t[n++] = {lower_word(k), id};
  return t;
}();

constexpr std::uint64_t keyword_factor = perfect_factor<4>(short_keywords);
constexpr auto keyword_table = hash_table<4>(short_keywords, keyword_factor);

// The parameter whose keyword, an Ldh-str of `len` octets, ends before
// `end` (param_id::count_ for an unknown one or one over 8 octets). The
// 8 octets before `end` are in the line: a parameter never starts in the
// first 13 octets of a MAIL or RCPT line. Folding with 0x20 is exact on
// Ldh octets: it changes letters only.
inline param_id keyword_id(const char* end, unsigned len) noexcept {
  if (len > 8) return param_id::count_;
  std::uint64_t w;
  std::memcpy(&w, end - 8, 8);
  const unsigned drop = 64 - 8 * len;
  w = w >> drop | 0x2020202020202020ull >> drop;
  const keyword_entry& e = keyword_table[hash_slot<4>(w, keyword_factor)];
  return e.word == w ? e.id : param_id::count_;
}

// Mail-parameters / Rcpt-parameters from `q0` to the end of the line
// (§4.1.2: esmtp-param *(SP esmtp-param)), every one decoded and free of
// problems.
SMTPKIT_AVX512 bool params_at(cursor& cur, std::size_t q0, bool mail, mail_params& typed) noexcept {
  const std::string_view s = cur.s;
  const std::size_t n = s.size();
  for (std::size_t a = q0;;) {
    if (a >= n) return false;  // empty, or SP last
    // The parameter, from r to b in the window: it ends at SP or with the line.
    auto r = static_cast<unsigned>(a - cur.start);
    std::uint64_t after = r < 64 ? cur.w.space >> r : 0;
    if (!after && !cur.reaches_end()) {
      cur.move_to(a);
      r = 0;
      after = cur.w.space;
    }
    unsigned b = 0;
    if (after) b = r + static_cast<unsigned>(std::countr_zero(after));
    else if (cur.reaches_end()) b = cur.w.len;
    else return false;  // longer than a window
    const window& w = cur.w;
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), then
    // ["=" esmtp-value], esmtp-value octets %d33-126 but "=".
    const std::uint64_t item = bits(r, b);
    if (b == r || !((w.ldh & ~w.hyphen) >> r & 1) || (w.print & item) != item) return false;
    const unsigned k = r + run(w.ldh, r);
    const bool has_value = k < b;
    if (has_value && (!((w.eq >> k) & 1) || k + 1 == b || (w.eq & bits(k + 1, b)))) return false;
    const std::string_view value = has_value ? s.substr(cur.start + k + 1, b - k - 1) : std::string_view{};
    const bool xtext = xtext_value(cur, w.plus & item, b);
    // A known keyword: check_param's checks, without its diagnostics.
    if (const param_id id = keyword_id(s.data() + cur.start + k, k - r); id != param_id::count_) {
      const std::uint32_t bit = 1u << static_cast<unsigned>(id);
      if ((typed.present & bit) || detail::is_mail_param_id(id) != mail || detail::takes_value(id) != has_value) return false;
      typed.present |= bit;
      if (id == param_id::size && value.size() <= 8) {
        // On nearly every MAIL line: its digits at once (the 8 octets
        // before the value's end are in the line, as for keyword_id).
        std::uint64_t digits;
        std::memcpy(&digits, s.data() + cur.start + b - 8, 8);
        if (!detail::parse_size_word(digits, static_cast<unsigned>(value.size()), typed.size)) return false;
      } else if (id == param_id::orcpt) {
        // Its addr-type, an atom, read off the masks.
        if (detail::orcpt_value(value, run(w.atext, k + 1), xtext, typed) != errc::ok) return false;
      } else if (has_value && detail::check_value(id, value, xtext, typed) != errc::ok) {
        return false;
      }
    } else {
      esmtp_param p;
      p.offset = static_cast<std::uint32_t>(a - q0);
      p.keyword = s.substr(a, k - r);
      p.has_value = has_value;
      p.value = value;
      if (detail::check_param(p, mail, typed, xtext)) return false;
    }
    const std::size_t stop = cur.start + b;
    if (stop == n) return true;
    a = stop + 1;
  }
}

SMTPKIT_AVX512 bool mail_rcpt(std::string_view s, bool mail, command& c) noexcept {
  // "MAIL FROM:<" or "RCPT TO:<", the letters in either case (bit 5 set
  // in the octets of the letters only).
  if (s.size() < 12) return false;
  std::uint64_t w;
  std::memcpy(&w, s.data() + 4, 8);
  const bool keyword = mail ? ((w | 0x2020202000ull) & 0xFFFFFFFFFFFFFFull) == 0x3C3A6D6F726620ull   // " from:<"
                            : ((w | 0x202000ull) & 0xFFFFFFFFFFull) == 0x3C3A6F7420ull;               // " to:<"
  if (!keyword) return false;
  const std::size_t lt = mail ? 10 : 8;
  cursor cur{s};
  std::size_t end = 0;
  if (!path_at(cur, lt, mail, c.address, end)) return false;
  c.argument = s.substr(lt);
  if (end == s.size()) return true;
  if (s[end] != ' ' || !params_at(cur, end + 1, mail, c.typed)) return false;
  c.params = param_list(s.substr(end + 1));
  return true;
}

// EHLO / HELO whose argument from `pos` is a Domain that ends the line
// (RFC 5321 §4.1.1.1) within 63 octets, so no label is too long (§4.5.3.1.2):
// the host as scan_host gives it.
SMTPKIT_AVX512 bool hello_domain(std::string_view s, std::size_t pos, host& out) noexcept {
  if (pos >= s.size() || s.size() - pos > max_label) return false;
  cursor cur{s};
  cur.move_to(pos);
  if (domain_end(cur.w, 0) != cur.w.len) return false;
  const std::string_view domain = s.substr(pos);
  out.text = domain;
  out.address = domain;
  return true;
}

#undef SMTPKIT_AVX512

// Whether this CPU runs the fast path, decided once.
const bool available = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}();

}  // namespace fast
#endif

diagnostic parse_auth(std::string_view s, std::size_t pos, parse_options opts, command& c) noexcept {
  // auth-command = "AUTH" SP sasl-mech [SP initial-response]
  const std::size_t mstart = pos;
  const bool lower_ok = opts.allows(lenient::auth_mechanism_case);
  while (pos < s.size() && (in(detail::mech_char, s[pos]) || (lower_ok && s[pos] >= 'a' && s[pos] <= 'z'))) ++pos;
  c.mechanism = s.substr(mstart, pos - mstart);
  if (c.mechanism.empty() || c.mechanism.size() > 20) return fail(errc::auth_mechanism, mstart);
  if (pos == s.size()) return {};
  if (s[pos] != ' ') return fail(errc::auth_mechanism, pos);
  const std::size_t rstart = pos + 1;
  if (rstart == s.size() || s[rstart] == ' ') return expect_end(s, pos, opts);
  // The response runs to the next SP or HT; base64 octets are most of it.
  const std::size_t octets = detail::span_base64(s, rstart);
  std::size_t end = octets;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
  c.has_initial_response = true;
  c.initial_response = s.substr(rstart, end - rstart);
  // is_base64 without scanning again: one or more whole quanta of 4, the
  // base64 octets followed by no more than the padding "=" or "==".
  const std::size_t pad = end - octets;
  const bool base64 = end > rstart && (end - rstart) % 4 == 0 && pad <= 2 &&
                      s.substr(octets, pad) == std::string_view("==").substr(0, pad);
  if (c.initial_response != "=" && !base64) {
    std::size_t bad = rstart;
    while (bad < end && in(detail::base64_char, s[bad])) ++bad;
    return fail(errc::auth_initial_response, bad < end ? bad : rstart);
  }
  return expect_end(s, end, opts);
}

diagnostic parse_bdat(std::string_view s, std::size_t pos, parse_options opts, command& c) noexcept {
  // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]; chunk-size = 1*DIGIT
  const std::size_t start = pos;
  std::uint64_t n = 0;
  bool overflow = false;
  while (pos < s.size() && detail::is_digit(s[pos])) {
    const auto d = static_cast<std::uint64_t>(s[pos] - '0');
    overflow |= __builtin_mul_overflow(n, std::uint64_t{10}, &n);
    overflow |= __builtin_add_overflow(n, d, &n);
    ++pos;
  }
  if (pos == start || overflow) return fail(errc::bdat_size, start);
  if (pos < s.size() && s[pos] != ' ' && s[pos] != '\t') return fail(errc::bdat_size, pos);
  c.chunk_size = n;
  if (pos == s.size()) return {};
  if (pos + 1 < s.size() && s[pos] == ' ' && s[pos + 1] != ' ' && s[pos + 1] != '\t') {
    std::size_t m = pos + 1;
    std::size_t end = m;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
    if (!detail::iequals(s.substr(m, end - m), "LAST")) return fail(errc::bdat_last, m);
    c.last = true;
    return expect_end(s, end, opts);
  }
  return expect_end(s, pos, opts);
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::ehlo: return "EHLO";
    case verb::helo: return "HELO";
    case verb::mail: return "MAIL";
    case verb::rcpt: return "RCPT";
    case verb::data: return "DATA";
    case verb::rset: return "RSET";
    case verb::vrfy: return "VRFY";
    case verb::expn: return "EXPN";
    case verb::help: return "HELP";
    case verb::noop: return "NOOP";
    case verb::quit: return "QUIT";
    case verb::starttls: return "STARTTLS";
    case verb::auth: return "AUTH";
    case verb::bdat: return "BDAT";
    case verb::unknown:
    case verb::count_: break;
  }
  return "unknown";
}

bool is_base64(std::string_view s) noexcept {
  // base64-terms = *(4base64-char); base64-final = (2base64-char "==") / (3base64-char "=")
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (s.back() == '=') pad = (s[s.size() - 2] == '=') ? 2 : 1;
  return detail::span_base64(s, 0) == s.size() - pad;
}

parse_result<auth_response> parse_auth_response(std::string_view line) noexcept {
  parse_result<auth_response> r;
  if (line == "*") {
    r.value.cancel = true;
    return r;
  }
  r.value.base64 = line;
  // An empty line is an empty response (RFC 4954 §4: "[base64] CRLF").
  if (!line.empty() && !is_base64(line)) {
    std::size_t bad = 0;
    while (bad < line.size() && in(detail::base64_char, line[bad])) ++bad;
    r.diag = fail(errc::auth_response, bad < line.size() ? bad : 0);
  }
  return r;
}

namespace {

// The first SP among the first sizeof(Word) octets at p (sizeof(Word) when
// there is none), as the lowest zero octet of a word XOR "  ..." (exact for
// the lowest one): no branch per octet.
template <class Word>
unsigned space_in_word(const char* p) noexcept {
  constexpr auto ones = static_cast<Word>(0x0101010101010101ull);
  constexpr auto highs = static_cast<Word>(0x8080808080808080ull);
  constexpr auto spaces = static_cast<Word>(0x2020202020202020ull);
  Word w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof w == 8) w = __builtin_bswap64(w);
    else w = __builtin_bswap32(w);
  }
  const auto x = static_cast<Word>(w ^ spaces);
  const auto zero = static_cast<Word>((x - ones) & ~x & highs);
  return zero ? static_cast<unsigned>(std::countr_zero(zero)) / 8 : static_cast<unsigned>(sizeof w);
}

// The first SP of a non-empty line (its size when it has none): one word
// holds the verb of nearly every line, four letters long.
std::size_t verb_end(std::string_view s) noexcept {
  std::size_t sp = 0;
  if (s.size() >= 8) {
    sp = space_in_word<std::uint64_t>(s.data());
    if (sp < 8) return sp;
  } else if (s.size() >= 4) {
    sp = space_in_word<std::uint32_t>(s.data());
    if (sp < 4) return sp;
  }
  while (sp < s.size() && s[sp] != ' ') ++sp;
  return sp;
}

// A path back to its defaults, member by member: `p = path{}` builds the
// path on the stack and copies it, with a load that straddles two stores.
void clear_path(path& p) noexcept {
  p.text = {};
  p.source_route = {};
  p.mbox = mailbox{};
  p.null = false;
  p.postmaster = false;
  p.bracketed = true;
}

// Parses into `c`, which holds no field of an earlier command (see
// clear_after below).
template <bool Fast>
diagnostic parse_into(std::string_view s, parse_options opts, command& c) noexcept {
  if (s.empty()) return fail(errc::empty_command, 0);
  const std::size_t sp = verb_end(s);
  const std::string_view verb_text = s.substr(0, sp);
  c.verb_text = verb_text;
  if (sp == 0) return fail(errc::extra_space, 0);
  c.kind = lookup_verb(verb_text);
  const bool has_arg = sp < s.size();
  std::size_t pos = has_arg ? sp + 1 : sp;
  c.argument = s.substr(pos);

  auto no_argument = [&]() -> diagnostic { return expect_end(s, sp, opts); };
  auto need_sp = [&]() -> diagnostic {
    if (!has_arg || pos == s.size()) return fail(errc::missing_argument, sp);
    if (s[pos] == ' ') return fail(errc::extra_space, pos);
    return {};
  };

  diagnostic d;
  switch (c.kind) {
    case verb::unknown:
      d = fail(errc::unknown_verb, 0);
      break;
    case verb::data:
    case verb::rset:
    case verb::quit:
    case verb::starttls:
      d = no_argument();
      break;
    case verb::ehlo:
    case verb::helo:
      if ((d = need_sp())) break;
#if SMTPKIT_AVX512_FAST_PATH
      if constexpr (Fast) {
        if (fast::available && fast::hello_domain(s, pos, c.client)) break;
      }
#endif
      if ((d = detail::scan_host(s, pos, opts, c.client))) break;
      if (c.kind == verb::helo && c.client.kind != host_kind::domain && !opts.allows(lenient::helo_address_literal)) {
        d = fail(errc::helo_address_literal, sp + 1);
        break;
      }
      d = expect_end(s, pos, opts);
      break;
    case verb::mail:
    case verb::rcpt:
#if SMTPKIT_AVX512_FAST_PATH
      if constexpr (Fast) {
        if (fast::available) {
          if (fast::mail_rcpt(s, c.kind == verb::mail, c)) break;
          // Not for the fast path: what it may have filled is cleared.
          clear_path(c.address);
          c.typed = mail_params{};
        }
      }
#endif
      // The SP belongs to the "MAIL FROM:" literal.
      d = parse_mail_rcpt(s, sp, c.kind == verb::mail, opts, c);
      break;
    case verb::vrfy:
    case verb::expn:
    case verb::help:
    case verb::noop: {
      const bool required = c.kind == verb::vrfy || c.kind == verb::expn;
      if (!required && (!has_arg || s.find_first_not_of(" \t", sp) == std::string_view::npos)) {
        d = expect_end(s, sp, opts);
        break;
      }
      if ((d = need_sp())) break;
      const std::size_t start = pos;
      if ((d = required ? scan_user_string(s, pos, opts) : scan_string(s, pos, opts))) break;
      c.text = s.substr(start, pos - start);
      // RFC 6531 §3.7.4.2: vrfy = "VRFY" SP String [ SP "SMTPUTF8" ] CRLF
      constexpr std::string_view flag = " SMTPUTF8";
      if (required && opts.smtputf8 && c.text.size() > flag.size() &&
          detail::iequals(c.text.substr(c.text.size() - flag.size()), flag)) {
        c.smtputf8_flag = true;
        c.text.remove_suffix(flag.size());
      }
      d = expect_end(s, pos, opts);
      break;
    }
    case verb::auth:
      if ((d = need_sp())) break;
      d = parse_auth(s, pos, opts, c);
      break;
    case verb::bdat:
      if ((d = need_sp())) break;
      d = parse_bdat(s, pos, opts, c);
      break;
    case verb::count_:
      break;
  }
  return d;
}

// What a parse may have written is decided by the verb it found: clearing
// those fields alone brings a command back to its default state, most
// often a few of its 432 octets instead of all of them.
void clear_after(command& c) noexcept {
  switch (c.kind) {
    case verb::ehlo:
    case verb::helo:
      c.client = host{};
      break;
    case verb::mail:
    case verb::rcpt:
      clear_path(c.address);
      c.params = param_list{};
      c.typed = mail_params{};
      break;
    case verb::vrfy:
    case verb::expn:
    case verb::help:
    case verb::noop:
      c.text = {};
      c.smtputf8_flag = false;
      break;
    case verb::auth:
      c.mechanism = {};
      c.initial_response = {};
      c.has_initial_response = false;
      break;
    case verb::bdat:
      c.chunk_size = 0;
      c.last = false;
      break;
    case verb::unknown:
    case verb::data:
    case verb::rset:
    case verb::quit:
    case verb::starttls:
    case verb::count_:
      break;
  }
  c.kind = verb::unknown;
  c.verb_text = {};
  c.argument = {};
}

}  // namespace

command_result parse_command(std::string_view s, parse_options opts) noexcept {
  command_result r;
  r.diag = parse_into<true>(s, opts, r.cmd);
  return r;
}

diagnostic parse_command(std::string_view s, command& out, parse_options opts) noexcept {
  clear_after(out);
  return parse_into<true>(s, opts, out);
}

command_result detail::parse_command_general(std::string_view s, parse_options opts) noexcept {
  command_result r;
  r.diag = parse_into<false>(s, opts, r.cmd);
  return r;
}

bool detail::command_fast_path_available() noexcept {
#if SMTPKIT_AVX512_FAST_PATH
  return fast::available;
#else
  return false;
#endif
}

bool detail::command_fast_path_takes(std::string_view line) noexcept {
#if SMTPKIT_AVX512_FAST_PATH
  if (!fast::available || line.size() < 4) return false;
  command c;
  const verb v = lookup_verb(line.substr(0, 4));
  if (v == verb::ehlo || v == verb::helo)  // after "EHLO" SP, as parse_into calls it
    return line.size() > 5 && line[4] == ' ' && line[5] != ' ' && fast::hello_domain(line, 5, c.client);
  return (v == verb::mail || v == verb::rcpt) && fast::mail_rcpt(line, v == verb::mail, c);
#else
  (void)line;
  return false;
#endif
}

namespace {

bool same_view(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

bool same_host(const host& a, const host& b) noexcept {
  return same_view(a.text, b.text) && a.kind == b.kind && same_view(a.tag, b.tag) && same_view(a.address, b.address) &&
         a.utf8 == b.utf8;
}

bool same_path(const path& a, const path& b) noexcept {
  const mailbox& m = a.mbox;
  const mailbox& n = b.mbox;
  return same_view(a.text, b.text) && same_view(a.source_route, b.source_route) && same_view(m.text, n.text) &&
         same_view(m.local_part, n.local_part) && m.quoted == n.quoted && m.utf8 == n.utf8 &&
         same_host(m.domain, n.domain) && a.null == b.null && a.postmaster == b.postmaster &&
         a.bracketed == b.bracketed;
}

}  // namespace

bool detail::same_params(const mail_params& a, const mail_params& b) noexcept {
  return a.present == b.present && a.unknown == b.unknown && a.size == b.size && a.body == b.body && a.ret == b.ret &&
         a.mt_priority == b.mt_priority && a.notify == b.notify && same_view(a.envid, b.envid) &&
         same_view(a.auth, b.auth) && same_view(a.orcpt_type, b.orcpt_type) && same_view(a.orcpt, b.orcpt);
}

bool detail::same_result(const command_result& a, const command_result& b) noexcept {
  const command& x = a.cmd;
  const command& y = b.cmd;
  return a.diag.code == b.diag.code && a.diag.offset == b.diag.offset && x.kind == y.kind &&
         same_view(x.verb_text, y.verb_text) && same_view(x.argument, y.argument) && same_host(x.client, y.client) &&
         same_path(x.address, y.address) && same_view(x.params.text(), y.params.text()) &&
         same_params(x.typed, y.typed) && same_view(x.text, y.text) && x.smtputf8_flag == y.smtputf8_flag &&
         same_view(x.mechanism, y.mechanism) && same_view(x.initial_response, y.initial_response) &&
         x.has_initial_response == y.has_initial_response && x.chunk_size == y.chunk_size && x.last == y.last;
}

}  // namespace smtpkit
