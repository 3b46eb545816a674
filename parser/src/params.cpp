// params.cpp — esmtp-param lists and the typed values of known extensions.
#include "smtpkit/params.hpp"

#include <array>
#include <cstring>
#include <initializer_list>

#include "smtpkit/detail/rfc5321.hpp"
#include "smtpkit/detail/scan.hpp"
#include "smtpkit/detail/utf8.hpp"
#include "param_check.hpp"

namespace smtpkit {

using detail::iequals;
using detail::in;

namespace {

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

struct known_param {
  std::string_view keyword;
  param_id id;
  bool mail;
};

constexpr std::array<known_param, static_cast<std::size_t>(param_id::count_)> known{{
    {"SIZE", param_id::size, true},
    {"BODY", param_id::body, true},
    {"SMTPUTF8", param_id::smtputf8, true},
    {"RET", param_id::ret, true},
    {"ENVID", param_id::envid, true},
    {"AUTH", param_id::auth, true},
    {"MT-PRIORITY", param_id::mt_priority, true},
    {"REQUIRETLS", param_id::requiretls, true},
    {"NOTIFY", param_id::notify, false},
    {"ORCPT", param_id::orcpt, false},
}};

// The lookup of a keyword the parser has already found to be an Ldh-str.
// Parameters come in no set order, so a chain of tests by length or letter
// mispredicts; instead a hash of (first octet, last octet, length), folded
// to lower case, names the one candidate, and one comparison decides.
constexpr unsigned keyword_hash(unsigned char first, unsigned char last, std::size_t size) noexcept {
  return ((first | 0x20u) + 3u * (last | 0x20u) + 4u * static_cast<unsigned>(size)) & 15u;
}

constexpr unsigned keyword_hash(std::string_view k) noexcept {
  return keyword_hash(static_cast<unsigned char>(k.front()), static_cast<unsigned char>(k.back()), k.size());
}

constexpr std::array<param_id, 16> keyword_slots = [] {
  std::array<param_id, 16> slots{};
  slots.fill(param_id::count_);
  for (const auto& k : known) slots[keyword_hash(k.keyword)] = k.id;
  return slots;
}();

static_assert([] {
  for (const auto& k : known)
    if (keyword_slots[keyword_hash(k.keyword)] != k.id) return false;
  return true;
}(), "two known keywords share a keyword_hash slot: change its factors");

template <class Word>
Word load(const char* p) noexcept {
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
  const Word head = load<Word>(a) ^ load<Word>(b);
  const Word tail = load<Word>(a + n - sizeof(Word)) ^ load<Word>(b + n - sizeof(Word));
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

param_id lookup_ldh_keyword(std::string_view k) noexcept {
  const param_id id = keyword_slots[keyword_hash(k)];
  if (id == param_id::count_ || !word_iequals(k, known[static_cast<std::size_t>(id)].keyword)) return param_id::count_;
  return id;
}

// RFC 3461 §4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
// (Values are esmtp-value octets, 33-126: word_iequals is exact for them.)
// Each item must be one of three words followed by "," or the end, so the
// words are tried as prefixes rather than the item's end searched for.
bool parse_notify(std::string_view v, std::uint8_t& flags) noexcept {
  if (word_iequals(v, "NEVER")) {
    flags = notify_never;
    return true;
  }
  auto starts = [&](std::string_view word) { return v.size() >= word.size() && word_iequals(v.substr(0, word.size()), word); };
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
bool parse_size(std::string_view v, std::uint64_t& out) noexcept {
  if (v.empty() || v.size() > 20) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (!detail::is_digit(c)) return false;
    auto d = static_cast<std::uint64_t>(c - '0');
    // Only a 20th digit can pass 2^64-1, so shorter values skip the test.
    if (v.size() == 20 && n > (UINT64_MAX - d) / 10) n = UINT64_MAX;
    else n = n * 10 + d;
  }
  out = n;
  return true;
}

// RFC 6710 §7: priority-value = (["-"] NZDIGIT) / "0"   ; -9 to 9, no "+", no "-0"
bool parse_priority(std::string_view v, std::int8_t& out) noexcept {
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

}  // namespace

std::string_view to_string(param_id p) noexcept {
  auto i = static_cast<std::size_t>(p);
  return i < known.size() ? known[i].keyword : std::string_view{"?"};
}

param_id param_from_keyword(std::string_view keyword) noexcept {
  // The length leaves at most three candidates to compare.
  auto is = [&](param_id id) { return iequals(known[static_cast<std::size_t>(id)].keyword, keyword); };
  auto first_of = [&](std::initializer_list<param_id> ids) {
    for (param_id id : ids)
      if (is(id)) return id;
    return param_id::count_;
  };
  switch (keyword.size()) {
    case 3: return first_of({param_id::ret});
    case 4: return first_of({param_id::size, param_id::body, param_id::auth});
    case 5: return first_of({param_id::envid, param_id::orcpt});
    case 6: return first_of({param_id::notify});
    case 8: return first_of({param_id::smtputf8});
    case 10: return first_of({param_id::requiretls});
    case 11: return first_of({param_id::mt_priority});
    default: return param_id::count_;
  }
}

bool is_mail_param(param_id p) noexcept {
  auto i = static_cast<std::size_t>(p);
  return i < known.size() && known[i].mail;
}

std::string_view to_string(body_type b) noexcept {
  switch (b) {
    case body_type::seven_bit: return "7BIT";
    case body_type::eight_bit_mime: return "8BITMIME";
    case body_type::binary_mime: return "BINARYMIME";
    case body_type::none: break;
  }
  return "";
}

std::string_view to_string(dsn_ret r) noexcept {
  switch (r) {
    case dsn_ret::full: return "FULL";
    case dsn_ret::hdrs: return "HDRS";
    case dsn_ret::none: break;
  }
  return "";
}

void param_list::iterator::load() noexcept {
  if (pos_ == npos || pos_ >= text_.size()) {
    pos_ = npos;
    return;
  }
  std::size_t sp = text_.find(' ', pos_);
  std::size_t end = sp == std::string_view::npos ? text_.size() : sp;
  std::string_view item = text_.substr(pos_, end - pos_);
  std::size_t eq = item.find('=');
  cur_.offset = static_cast<std::uint32_t>(pos_);
  cur_.has_value = eq != std::string_view::npos;
  cur_.keyword = item.substr(0, eq);
  cur_.value = cur_.has_value ? item.substr(eq + 1) : std::string_view{};
  next_ = sp == std::string_view::npos ? npos : sp + 1;
}

std::size_t param_list::size() const noexcept {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

const esmtp_param* param_list::find(std::string_view keyword, esmtp_param& out) const noexcept {
  for (const auto& p : *this)
    if (iequals(p.keyword, keyword)) {
      out = p;
      return &out;
    }
  return nullptr;
}

bool is_xtext(std::string_view s) noexcept {
  for (std::size_t i = 0;;) {
    i = detail::span_xchar(s, i);
    if (i == s.size()) return true;
    // hexchar = "+" 2(%x30-39 / %x41-46)
    if (s[i] != '+' || i + 2 >= s.size()) return false;
    if (!in(detail::xtext_hex, s[i + 1]) || !in(detail::xtext_hex, s[i + 2])) return false;
    i += 3;
  }
}

bool xtext_decode(std::string_view s, std::string& out) {
  out.clear();
  if (!is_xtext(s)) return false;
  auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return true;
}

std::string xtext_encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (detail::xchar[c]) {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

namespace detail {

// The semantics of one grammatical parameter: decode a known one into `out`
// and return its first problem (unknown, duplicate, misplaced, bad value).
// A repeated unknown parameter needs no search of the list: its first
// occurrence was already reported as unknown, and only the first problem of
// a list is kept.
diagnostic check_param(const esmtp_param& p, bool for_mail, mail_params& out, bool xtext) noexcept {
  diagnostic problem;
  auto note = [&](errc e, std::size_t at) {
    if (problem.ok()) problem = fail(e, at);
  };
  const param_id id = lookup_ldh_keyword(p.keyword);
  const std::size_t value_at = p.offset + p.keyword.size() + 1;
  if (id == param_id::count_) {
    ++out.unknown;
    note(errc::param_unknown, p.offset);
    return problem;
  }
  const std::uint32_t bit = 1u << static_cast<unsigned>(id);
  if (out.present & bit) {
    note(errc::param_duplicate, p.offset);
    return problem;
  }
  out.present |= bit;
  if (known[static_cast<std::size_t>(id)].mail != for_mail) note(errc::param_misplaced, p.offset);
  const bool needs_value = id != param_id::smtputf8 && id != param_id::requiretls;
  if (needs_value && !p.has_value) {
    note(errc::param_value_missing, p.offset + p.keyword.size());
    return problem;
  }
  if (!needs_value && p.has_value) {
    note(errc::param_value_unexpected, p.offset + p.keyword.size());
    return problem;
  }
  switch (id) {
    case param_id::size:
      if (!parse_size(p.value, out.size)) note(errc::param_size, value_at);
      break;
    case param_id::body:
      if (word_iequals(p.value, "8BITMIME")) out.body = body_type::eight_bit_mime;
      else if (word_iequals(p.value, "7BIT")) out.body = body_type::seven_bit;
      else if (word_iequals(p.value, "BINARYMIME")) out.body = body_type::binary_mime;
      else note(errc::param_body, value_at);
      break;
    case param_id::ret:
      if (word_iequals(p.value, "FULL")) out.ret = dsn_ret::full;
      else if (word_iequals(p.value, "HDRS")) out.ret = dsn_ret::hdrs;
      else note(errc::param_ret, value_at);
      break;
    case param_id::envid:
      out.envid = p.value;
      if (p.value.size() > 100 || !(xtext || is_xtext(p.value))) note(errc::param_envid, value_at);
      break;
    case param_id::auth:
      out.auth = p.value;
      if (!(xtext || is_xtext(p.value))) note(errc::param_auth, value_at);
      break;
    case param_id::mt_priority:
      if (!parse_priority(p.value, out.mt_priority)) note(errc::param_mt_priority, value_at);
      break;
    case param_id::notify:
      if (!parse_notify(p.value, out.notify)) note(errc::param_notify, value_at);
      break;
    case param_id::orcpt: {
      // RFC 3461 §4.2: orcpt-parameter = "ORCPT=" addr-type ";" xtext
      // addr-type is an atom, so the first octet that is not atext is
      // normally the ";"; otherwise look further for it.
      const std::size_t atom = detail::span_atext(p.value, 0);
      const std::size_t semi = atom < p.value.size() && p.value[atom] == ';' ? atom : p.value.find(';');
      bool good = semi != std::string_view::npos && semi > 0 && semi + 1 < p.value.size() && p.value.size() <= 500;
      if (good) {
        out.orcpt_type = p.value.substr(0, semi);
        out.orcpt = p.value.substr(semi + 1);
        if (atom != semi || !(xtext || is_xtext(out.orcpt))) good = false;
      }
      if (!good) note(errc::param_orcpt, value_at);
      break;
    }
    case param_id::smtputf8:
    case param_id::requiretls:
    case param_id::count_:
      break;
  }
  return problem;
}

}  // namespace detail

diagnostic parse_params(std::string_view text, bool for_mail, parse_options opts, mail_params& out) noexcept {
  out = mail_params{};
  // One pass. A syntax error returns at once, with `out` cleared as if
  // nothing had been decoded; the first semantic problem is held until the
  // whole list has proved grammatical, so syntax errors still come first.
  auto syntax = [&](errc e, std::size_t at) {
    out = mail_params{};
    return fail(e, at);
  };
  auto octet_error = [&](std::size_t at) {
    const bool high = at < text.size() && static_cast<unsigned char>(text[at]) >= 0x80;
    return syntax(high && !opts.smtputf8 ? errc::eight_bit : errc::param_syntax, at);
  };
  // esmtp-param *(SP esmtp-param)
  const std::size_t n = text.size();
  if (n == 0) return syntax(errc::param_syntax, 0);
  diagnostic first;
  std::size_t pos = 0;
  for (;;) {
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    const std::size_t kstart = pos;
    if (!in(detail::let_dig, text[pos])) {
      if (text[pos] == ' ') return syntax(errc::extra_space, pos);
      return octet_error(pos);
    }
    pos = detail::span_ldh(text, pos);
    esmtp_param p;
    p.offset = static_cast<std::uint32_t>(kstart);
    p.keyword = text.substr(kstart, pos - kstart);
    if (pos < n && text[pos] == '=') {
      // esmtp-value = 1*(%d33-60 / %d62-126), =/ UTF8-non-ascii (RFC 6531 §3.3)
      const std::size_t vstart = ++pos;
      while ((pos = detail::span_esmtp_value(text, pos)) < n && opts.smtputf8 &&
             static_cast<unsigned char>(text[pos]) >= 0x80) {
        std::size_t len = detail::utf8_sequence(text, pos);
        if (len == 0) return syntax(errc::invalid_utf8, pos);
        pos += len;
      }
      if (pos == vstart) return octet_error(pos);
      p.has_value = true;
      p.value = text.substr(vstart, pos - vstart);
    }
    if (pos < n && text[pos] != ' ') return octet_error(pos);
    // Every parameter is decoded, even after a problem, as callers read
    // the typed values of a list that has one bad parameter.
    const diagnostic d = detail::check_param(p, for_mail, out);
    if (first.ok()) first = d;
    if (pos == n) break;
    ++pos;
    if (pos == n) return syntax(errc::trailing_whitespace, pos - 1);
  }
  return first;
}

}  // namespace smtpkit
