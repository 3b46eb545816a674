// param_check.hpp — the semantics of esmtp-params (RFC 5321 §4.1.2; SIZE
// RFC 1870 §6, BODY RFC 6152, DSN RFC 3461 §4, AUTH= RFC 4954 §5,
// MT-PRIORITY RFC 6710 §7), shared by parse_params (params.cpp) and the
// MAIL/RCPT fast path (command_fast_avx512.cpp): the keyword's checks in
// check_param, each known parameter's value in check_value, which both use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/params.hpp"
#include "rfc5321.hpp"
#include "scan.hpp"

namespace smtpkit::detail {

/// A grammatical esmtp-param (keyword an Ldh-str starting with a Let-dig,
/// value 1*esmtp-value octets): decode a known one into `out` and return
/// its first problem (unknown, duplicate, misplaced, bad value). Offsets in
/// the diagnostic are those of `p.offset`'s frame. `xtext` says the caller
/// has found the whole value to be xtext (RFC 3461 §4), so ENVID, AUTH= and
/// ORCPT need no scan (what follows ORCPT's first ";" is then xtext too: a
/// ";" is no hex digit, so it never falls inside a "+" hexchar).
diagnostic check_param(const esmtp_param& p, bool for_mail, mail_params& out, bool xtext = false) noexcept;

struct known_param {
  std::string_view keyword;
  param_id id;
};

/// The known parameters, in param_id order.
inline constexpr std::array<known_param, static_cast<std::size_t>(param_id::count_)> known{{
    {"SIZE", param_id::size},
    {"BODY", param_id::body},
    {"SMTPUTF8", param_id::smtputf8},
    {"RET", param_id::ret},
    {"ENVID", param_id::envid},
    {"AUTH", param_id::auth},
    {"MT-PRIORITY", param_id::mt_priority},
    {"REQUIRETLS", param_id::requiretls},
    {"NOTIFY", param_id::notify},
    {"ORCPT", param_id::orcpt},
}};

static_assert(
    [] {
      for (std::size_t i = 0; i < known.size(); ++i)
        if (static_cast<std::size_t>(known[i].id) != i) return false;
      return true;
    }(),
    "known[] must list the parameters in param_id order");

/// MAIL's parameters come before RCPT's in param_id.
constexpr bool is_mail_param_id(param_id id) noexcept { return id < param_id::notify; }
/// SMTPUTF8 and REQUIRETLS take no value; every other known parameter needs one.
constexpr bool takes_value(param_id id) noexcept { return id != param_id::smtputf8 && id != param_id::requiretls; }

template <class Word>
Word load_word(const char* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Equality ignoring case, as two overlapping word compares, for strings in
// which two octets that differ only in bit 5 (0x20) can only be one letter
// in its two cases: two Ldh-strs, or a word of letters and digits against
// any text without C0 controls (a digit's partner 0x10-0x19 is one). Under
// that condition masking bit 5 out is exact; it is not in general.
template <class Word>
bool same_words(const char* a, const char* b, std::size_t n) noexcept {
  constexpr Word case_bits = static_cast<Word>(0x2020202020202020ull);
  const Word head = load_word<Word>(a) ^ load_word<Word>(b);
  const Word tail = load_word<Word>(a + n - sizeof(Word)) ^ load_word<Word>(b + n - sizeof(Word));
  return ((head | tail) & static_cast<Word>(~case_bits)) == 0;
}

inline bool word_iequals(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size() || n == 0) return n == b.size();
  if (n >= 8) return same_words<std::uint64_t>(a.data(), b.data(), n);
  if (n >= 4) return same_words<std::uint32_t>(a.data(), b.data(), n);
  if (n >= 2) return same_words<std::uint16_t>(a.data(), b.data(), n);
  return ((a[0] ^ b[0]) & ~0x20) == 0;
}

// RFC 3461 §4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
// (Values are esmtp-value octets, 33-126: word_iequals is exact for them.)
// Each item must be one of three words followed by "," or the end, so the
// words are tried as prefixes rather than the item's end searched for.
inline bool parse_notify(std::string_view v, std::uint8_t& flags) noexcept {
  if (word_iequals(v, "NEVER")) {
    flags = notify_never;
    return true;
  }
  auto starts = [&](std::string_view word) {
    return v.size() >= word.size() && word_iequals(v.substr(0, word.size()), word);
  };
  flags = 0;
  for (;;) {
    std::uint8_t bit = 0;
    std::size_t len = 0;
    if (starts("SUCCESS")) bit = notify_success, len = 7;
    else if (starts("FAILURE")) bit = notify_failure, len = 7;
    else if (starts("DELAY")) bit = notify_delay, len = 5;
    if (bit == 0 || (flags & bit)) return false;
    flags |= bit;
    if (len == v.size()) return true;
    if (v[len] != ',') return false;
    v.remove_prefix(len + 1);
  }
}

// RFC 1870 §6: size-value ::= 1*20DIGIT   (values past 2^64-1 saturate)
inline bool parse_size(std::string_view v, std::uint64_t& out) noexcept {
  if (v.empty() || v.size() > 20) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    auto d = static_cast<std::uint64_t>(c - '0');
    // Only a 20th digit can pass 2^64-1, so shorter values skip the test.
    if (v.size() == 20 && n > (UINT64_MAX - d) / 10) n = UINT64_MAX;
    else n = n * 10 + d;
  }
  out = n;
  return true;
}

// parse_size for a value of 1 to 8 octets, given as the little-endian word
// of the 8 octets that end with it: the octets before the value become
// leading zeros, then every octet is checked to be a digit and the eight
// are combined in three multiplications (pairs, quads, the whole).
inline bool parse_size_word(std::uint64_t w, unsigned n, std::uint64_t& out) noexcept {
  const unsigned lead = 8 * (8 - n);
  const std::uint64_t before = lead == 0 ? 0 : ~std::uint64_t{0} >> (64 - lead);
  w = (w & ~before) | (0x3030303030303030ull & before);
  constexpr std::uint64_t high_nibbles = 0xF0F0F0F0F0F0F0F0ull;
  if (((w & high_nibbles) | ((w + 0x0606060606060606ull) & high_nibbles) >> 4) != 0x3333333333333333ull) return false;
  std::uint64_t d = w - 0x3030303030303030ull;  // the first digit in the lowest octet
  d = (d * 10 + (d >> 8)) & 0x00FF00FF00FF00FFull;
  d = (d * 100 + (d >> 16)) & 0x0000FFFF0000FFFFull;
  d = (d * 10000 + (d >> 32)) & 0xFFFFFFFFull;
  out = d;
  return true;
}

// RFC 6710 §7: priority-value = (["-"] NZDIGIT) / "0"   ; -9 to 9, no "+", no "-0"
inline bool parse_priority(std::string_view v, std::int8_t& out) noexcept {
  if (v == "0") {
    out = 0;
    return true;
  }
  bool neg = !v.empty() && v[0] == '-';
  if (neg) v.remove_prefix(1);
  if (v.size() != 1 || v[0] < '1' || v[0] > '9') return false;
  out = static_cast<std::int8_t>(neg ? -(v[0] - '0') : v[0] - '0');
  return true;
}

/// RFC 3461 §4.2: orcpt-parameter = "ORCPT=" addr-type ";" xtext, where
/// v's first `atom` octets are atext (the caller has counted them).
/// addr-type is an atom, so the first octet that is not atext is normally
/// the ";"; otherwise look further for it.
inline errc orcpt_value(std::string_view v, std::size_t atom, bool xtext, mail_params& out) noexcept {
  const std::size_t semi = atom < v.size() && v[atom] == ';' ? atom : v.find(';');
  if (semi == std::string_view::npos || semi == 0 || semi + 1 >= v.size() || v.size() > 500) return errc::param_orcpt;
  out.orcpt_type = v.substr(0, semi);
  out.orcpt = v.substr(semi + 1);
  return atom == semi && (xtext || is_xtext(out.orcpt)) ? errc::ok : errc::param_orcpt;
}

/// The value of known parameter `id` (one that takes a value), decoded into
/// `out`: errc::ok, or the parameter's own error code. What a bad value
/// still sets (ENVID, AUTH=, ORCPT's parts) is set as by a good one, as
/// callers read the typed values of a list that has one bad parameter.
[[gnu::always_inline]] inline errc check_value(param_id id, std::string_view v, bool xtext, mail_params& out) noexcept {
  switch (id) {
    case param_id::size: return parse_size(v, out.size) ? errc::ok : errc::param_size;
    case param_id::body:
      if (word_iequals(v, "8BITMIME")) out.body = body_type::eight_bit_mime;
      else if (word_iequals(v, "7BIT")) out.body = body_type::seven_bit;
      else if (word_iequals(v, "BINARYMIME")) out.body = body_type::binary_mime;
      else return errc::param_body;
      return errc::ok;
    case param_id::ret:
      if (word_iequals(v, "FULL")) out.ret = dsn_ret::full;
      else if (word_iequals(v, "HDRS")) out.ret = dsn_ret::hdrs;
      else return errc::param_ret;
      return errc::ok;
    case param_id::envid:
      out.envid = v;
      return v.size() > 100 || !(xtext || is_xtext(v)) ? errc::param_envid : errc::ok;
    case param_id::auth: out.auth = v; return xtext || is_xtext(v) ? errc::ok : errc::param_auth;
    case param_id::mt_priority: return parse_priority(v, out.mt_priority) ? errc::ok : errc::param_mt_priority;
    case param_id::notify: return parse_notify(v, out.notify) ? errc::ok : errc::param_notify;
    case param_id::orcpt: return orcpt_value(v, span_atext(v, 0), xtext, out);
    case param_id::smtputf8:
    case param_id::requiretls:
    case param_id::count_: break;
  }
  return errc::ok;
}

}  // namespace smtpkit::detail
