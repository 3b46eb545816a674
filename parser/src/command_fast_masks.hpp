// command_fast_masks.hpp — the fast paths of parse_command written over
// class masks (command_fast.hpp): MAIL/RCPT lines of nearly all real
// traffic (RFC 5321 §4.1.1.2-3; paths §4.1.2-4.1.3; esmtp-params §4.1.2
// with SIZE RFC 1870, BODY RFC 6152, DSN RFC 3461, AUTH= RFC 4954, SMTPUTF8
// RFC 6531, MT-PRIORITY RFC 6710, REQUIRETLS RFC 8689) and EHLO/HELO
// domains (§4.1.1.1), shared by every instruction set.
//
// "MAIL FROM:<" / "RCPT TO:<", a Dot-string, "@", a Domain, ">", then
// parameters in ASCII. Each window of up to 64 octets is classified once,
// one octet to one byte of class bits, and each class read out as a 64-bit
// mask; every token then ends where a count of trailing ones says, without
// scanning the same octets again for each rule. Quoted local parts and
// address literals it hands to the general parser's own scanners, then
// goes on.
//
// Limits: it only ever accepts. Anything it does not recognise — every
// error, source routes, UTF-8, lenient forms, a Dot-string path or a
// parameter past its window — goes to the general parser, which gives the
// diagnostic.
//
// How to use: a file command_fast_<isa>.cpp defines SMTPKIT_FAST_TARGET
// (the target attribute of its instruction set, BMI1 and BMI2 included:
// the masks are read with tzcnt and cut with bzhi), includes this header
// once, then defines classify() for its set. Everything here is in an
// anonymous namespace, so each file gets its own copy, compiled for its
// own set, and the build stays x86-64 baseline.
#pragma once

#if !defined(SMTPKIT_FAST_TARGET)
#error "command_fast_masks.hpp: define SMTPKIT_FAST_TARGET first (see its comment)"
#endif

#include <immintrin.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "command_fast.hpp"
#include "smtpkit/params.hpp"
#include "param_check.hpp"
#include "path_scan.hpp"
#include "perfect_hash.hpp"
#include "rfc5321.hpp"

namespace smtpkit::detail {
namespace {

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
    if (ldh[c]) b |= c_ldh;
    if (c == '.') b |= c_dot;
    if (c == '-') b |= c_hyphen;
    if (atext[c]) b |= c_atext;
    if (c >= 33 && c <= 126) b |= c_print;
    if (c == ' ') b |= c_space;
    if (c == '=') b |= c_eq;
    if (c == '+') b |= c_plus;
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(b);
  }
  return t;
}();

// Up to 64 octets from p: bit i of each mask stands for p[i]. Octets past
// `avail` are not read and, like 8-bit octets, are in no class. The fields
// are in the order of the class bits.
struct window {
  std::uint64_t ldh, dot, hyphen, atext, print, space, eq, plus;
  unsigned len;
};

// The window of the min(avail, 64) octets from p: each instruction set's
// one function of its own (command_fast_<isa>.cpp), defined after this
// header.
SMTPKIT_FAST_TARGET inline window classify(const char* p, std::size_t avail) noexcept;

// Bits [from, to), to <= 64.
SMTPKIT_FAST_TARGET inline std::uint64_t bits(unsigned from, unsigned to) noexcept {
  return _bzhi_u64(~std::uint64_t{0}, to - from) << from;
}

// Ones from bit `from` on (64 - from at most).
SMTPKIT_FAST_TARGET inline unsigned run(std::uint64_t m, unsigned from) noexcept {
  return from >= 64 ? 0 : static_cast<unsigned>(std::countr_one(m >> from));
}

// The window of a line in use: classified at `start`, it serves every
// token that ends inside it; one further from its start is classified anew.
struct cursor {
  std::string_view s;
  std::size_t start = 0;
  window w{};

  SMTPKIT_FAST_TARGET void move_to(std::size_t at) noexcept {
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
SMTPKIT_FAST_TARGET inline unsigned domain_end(const window& w, unsigned d0) noexcept {
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
SMTPKIT_FAST_TARGET bool path_at(cursor& cur, std::size_t lt, bool reverse, path& out, std::size_t& end) noexcept {
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
    if (scan_quoted_string(s, pos, {}) || pos - p0 > max_local_part || pos == s.size() || s[pos] != '@') return false;
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
    if (scan_address_literal(s, pos, {}, out.mbox.domain) || pos == s.size() || s[pos] != '>' ||
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
SMTPKIT_FAST_TARGET inline bool xtext_value(const cursor& cur, std::uint64_t pluses, unsigned b) noexcept {
  const char* const w = cur.s.data() + cur.start;
  for (; pluses != 0; pluses &= pluses - 1) {
    const auto i = static_cast<unsigned>(std::countr_zero(pluses));
    if (i + 2 >= b || !in(xtext_hex, w[i + 1]) || !in(xtext_hex, w[i + 2])) return false;
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

// The known keywords of up to 8 octets, in known's order.
constexpr std::size_t short_keyword_count = [] {
  std::size_t n = 0;
  for (const auto& k : known) n += k.keyword.size() <= 8;
  return n;
}();

constexpr auto short_keywords = [] {
  std::array<keyword_entry, short_keyword_count> t{};
  std::size_t n = 0;
  for (const auto& [k, id] : known)
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
SMTPKIT_FAST_TARGET bool params_at(cursor& cur, std::size_t q0, bool mail, mail_params& typed) noexcept {
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
      if ((typed.present & bit) || is_mail_param_id(id) != mail || takes_value(id) != has_value) return false;
      typed.present |= bit;
      if (id == param_id::size && value.size() <= 8) {
        // On nearly every MAIL line: its digits at once (the 8 octets
        // before the value's end are in the line, as for keyword_id).
        std::uint64_t digits;
        std::memcpy(&digits, s.data() + cur.start + b - 8, 8);
        if (!parse_size_word(digits, static_cast<unsigned>(value.size()), typed.size)) return false;
      } else if (id == param_id::orcpt) {
        // Its addr-type, an atom, read off the masks.
        if (orcpt_value(value, run(w.atext, k + 1), xtext, typed) != errc::ok) return false;
      } else if (has_value && check_value(id, value, xtext, typed) != errc::ok) {
        return false;
      }
    } else {
      esmtp_param p;
      p.offset = static_cast<std::uint32_t>(a - q0);
      p.keyword = s.substr(a, k - r);
      p.has_value = has_value;
      p.value = value;
      if (check_param(p, mail, typed, xtext)) return false;
    }
    const std::size_t stop = cur.start + b;
    if (stop == n) return true;
    a = stop + 1;
  }
}

SMTPKIT_FAST_TARGET bool mail_rcpt(std::string_view s, bool mail, command& c) noexcept {
  // "MAIL FROM:<" or "RCPT TO:<", the letters in either case (bit 5 set
  // in the octets of the letters only).
  if (s.size() < 12) return false;
  std::uint64_t w;
  std::memcpy(&w, s.data() + 4, 8);
  const bool keyword = mail ? ((w | 0x2020202000ull) & 0xFFFFFFFFFFFFFFull) == 0x3C3A6D6F726620ull  // " from:<"
                            : ((w | 0x202000ull) & 0xFFFFFFFFFFull) == 0x3C3A6F7420ull;             // " to:<"
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
SMTPKIT_FAST_TARGET bool hello_domain(std::string_view s, std::size_t pos, host& out) noexcept {
  if (pos >= s.size() || s.size() - pos > max_label) return false;
  cursor cur{s};
  cur.move_to(pos);
  if (domain_end(cur.w, 0) != cur.w.len) return false;
  const std::string_view domain = s.substr(pos);
  out.text = domain;
  out.address = domain;
  return true;
}

}  // namespace
}  // namespace smtpkit::detail
