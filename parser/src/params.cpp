// params.cpp — esmtp-param lists (RFC 5321 §4.1.2) and the typed values
// of known extensions (RFC 1870, 6152, 3030, 6531, 3461, 4954, 6710, 8689).
#include "smtpkit/params.hpp"

#include <array>
#include <cstring>
#include <initializer_list>

#include "smtpkit/ascii.hpp"
#include "smtpkit/utf8.hpp"
#include "param_check.hpp"
#include "rfc5321.hpp"
#include "scan.hpp"

namespace smtpkit {

using detail::in;
using detail::known;
using detail::word_iequals;

namespace {

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

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

static_assert(
    [] {
      for (const auto& k : known)
        if (keyword_slots[keyword_hash(k.keyword)] != k.id) return false;
      return true;
    }(),
    "two known keywords share a keyword_hash slot: change its factors");

param_id lookup_ldh_keyword(std::string_view k) noexcept {
  const param_id id = keyword_slots[keyword_hash(k)];
  if (id == param_id::count_ || !word_iequals(k, known[static_cast<std::size_t>(id)].keyword)) return param_id::count_;
  return id;
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
  return i < known.size() && detail::is_mail_param_id(p);
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
  if (is_mail_param_id(id) != for_mail) note(errc::param_misplaced, p.offset);
  const bool needs_value = takes_value(id);
  if (needs_value && !p.has_value) {
    note(errc::param_value_missing, p.offset + p.keyword.size());
    return problem;
  }
  if (!needs_value && p.has_value) {
    note(errc::param_value_unexpected, p.offset + p.keyword.size());
    return problem;
  }
  if (needs_value) {
    const errc e = check_value(id, p.value, xtext, out);
    if (e != errc::ok) note(e, value_at);
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
        std::size_t len = utf8_sequence(text, pos);
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
