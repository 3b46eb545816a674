// path.cpp — Domain, address literals, Mailbox, Path (RFC 5321 §4.1.2-4.1.3,
// §4.5.3.1.1-3; RFC 6531 §3.3 for the UTF-8 forms).
#include "smtpkit/path.hpp"

#include "smtpkit/utf8.hpp"
#include "path_scan.hpp"
#include "rfc5321.hpp"
#include "scan.hpp"

namespace smtpkit {

using detail::in;

std::string_view to_string(host_kind k) noexcept {
  switch (k) {
    case host_kind::domain: return "domain";
    case host_kind::ipv4: return "ipv4";
    case host_kind::ipv6: return "ipv6";
    case host_kind::general: return "general";
  }
  return "domain";
}

namespace {

constexpr diagnostic ok_diag{};

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

unsigned char at(std::string_view s, std::size_t i) noexcept {
  return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

// Consume one UTF8-non-ascii sequence at s[pos] (RFC 6531 §3.3), or fail.
diagnostic take_utf8(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  if (!opts.smtputf8) return fail(errc::eight_bit, pos);
  std::size_t n = utf8_sequence(s, pos);
  if (n == 0) return fail(errc::invalid_utf8, pos);
  pos += n;
  return ok_diag;
}

// RFC 5321 §4.1.3:  Snum 3("." Snum), Snum = 1*3DIGIT, value 0-255.
diagnostic check_ipv4(std::string_view s, std::size_t from, std::size_t to) noexcept {
  std::size_t pos = from;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= to || s[pos] != '.') return fail(errc::ipv4_literal, pos);
      ++pos;
    }
    std::size_t begin = pos;
    unsigned value = 0;
    while (pos < to && detail::is_digit(s[pos]) && pos - begin < 3)
      value = value * 10 + static_cast<unsigned>(s[pos++] - '0');
    if (pos == begin || value > 255) return fail(errc::ipv4_literal, begin);
    if (pos < to && detail::is_digit(s[pos])) return fail(errc::ipv4_literal, pos);
  }
  if (pos != to) return fail(errc::ipv4_literal, pos);
  return ok_diag;
}

// RFC 5321 §4.1.3: IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp.
// "::" stands for at least two groups: with it at most 6 groups (4 before an
// IPv4 tail) may be written; without it exactly 8 (6 before an IPv4 tail).
diagnostic check_ipv6(std::string_view s, std::size_t from, std::size_t to) noexcept {
  std::size_t pos = from;
  int groups = 0;
  bool compressed = false;
  bool v4_tail = false;
  if (pos + 1 < to && s[pos] == ':' && s[pos + 1] == ':') {
    compressed = true;
    pos += 2;
  } else if (pos < to && s[pos] == ':') {
    return fail(errc::ipv6_literal, pos);
  }
  while (pos < to) {
    std::size_t tok_end = pos;
    bool dotted = false;
    while (tok_end < to && s[tok_end] != ':') {
      if (s[tok_end] == '.') dotted = true;
      ++tok_end;
    }
    if (dotted) {
      if (tok_end != to) return fail(errc::ipv6_literal, tok_end);
      if (auto d = check_ipv4(s, pos, to)) return fail(errc::ipv6_literal, d.offset);
      v4_tail = true;
      pos = to;
      break;
    }
    std::size_t len = tok_end - pos;
    if (len == 0 || len > 4) return fail(errc::ipv6_literal, pos);
    for (std::size_t i = pos; i < tok_end; ++i)
      if (!detail::is_hexdig(s[i])) return fail(errc::ipv6_literal, i);
    ++groups;
    pos = tok_end;
    if (pos == to) break;
    if (pos + 1 < to && s[pos + 1] == ':') {
      if (compressed) return fail(errc::ipv6_literal, pos);
      compressed = true;
      pos += 2;
    } else {
      ++pos;
      if (pos == to) return fail(errc::ipv6_literal, pos);
    }
  }
  const int limit = compressed ? (v4_tail ? 4 : 6) : (v4_tail ? 6 : 8);
  if (compressed ? groups > limit : groups != limit) return fail(errc::ipv6_literal, from);
  return ok_diag;
}

// Standardized-tag = Ldh-str ; then ":" 1*dcontent.
diagnostic check_general(std::string_view s, std::size_t from, std::size_t colon, std::size_t to) noexcept {
  if (colon == from) return fail(errc::general_literal, from);
  for (std::size_t i = from; i < colon; ++i)
    if (!in(detail::ldh, s[i])) return fail(errc::general_literal, i);
  if (s[colon - 1] == '-') return fail(errc::general_literal, colon - 1);
  if (colon + 1 == to) return fail(errc::general_literal, to);
  for (std::size_t i = colon + 1; i < to; ++i)
    if (!in(detail::dcontent, s[i])) return fail(errc::general_literal, i);
  return ok_diag;
}

// Only a delimiter of some enclosing rule may follow a Domain.
bool ends_domain(char c) noexcept { return c == ' ' || c == '>' || c == ',' || c == ':'; }

#if defined(__SSE2__)
// Fast paths for the common Dot-string and Domain: ASCII, shorter than 64
// octets, well formed. Their atoms or labels are checked all at once from
// bit masks instead of one span per atom or label, whose ends a branch
// predictor cannot guess. Anything else, every error included, is left to
// the general loops, which give the diagnostics.

detail::run_block domain_block(__m128i v) noexcept {
  const __m128i dot = detail::simd::is(v, '.');
  return {_mm_or_si128(detail::simd::ldh(v), dot), dot, detail::simd::is(v, '-')};
}

detail::run_block dot_string_block(__m128i v) noexcept {
  const __m128i dot = detail::simd::is(v, '.');
  return {_mm_or_si128(detail::simd::atext(v), dot), dot, _mm_setzero_si128()};
}

// No empty atom or label ("." first, last, or after another "."), and no
// marked octet ("-" of a label) first or last in one.
bool well_dotted(const detail::run_masks& r) noexcept {
  if (r.size == 0) return false;
  const std::uint64_t firsts = (r.dots << 1) | 1;
  const std::uint64_t lasts = (r.dots >> 1) | (std::uint64_t{1} << (r.size - 1));
  return ((r.dots | r.marks) & (firsts | lasts)) == 0;
}
#endif

// Dot-string = Atom *("." Atom), atext =/ UTF8-non-ascii under SMTPUTF8.
diagnostic scan_dot_string(std::string_view s, std::size_t& pos, parse_options opts, bool& utf8) noexcept {
#if defined(__SSE2__)
  // An 8-bit octet after the run may continue an atom (UTF-8): general path.
  if (detail::run_masks r;
      detail::classify_run(s, pos, dot_string_block, r) && well_dotted(r) && at(s, pos + r.size) < 0x80) {
    pos += r.size;
    return ok_diag;
  }
#endif
  for (;;) {
    std::size_t begin = pos;
    while ((pos = detail::span_atext(s, pos)) < s.size() && at(s, pos) >= 0x80) {
      if (auto d = take_utf8(s, pos, opts)) return d;
      utf8 = true;
    }
    if (pos == begin) return fail(errc::local_part_syntax, pos);
    if (at(s, pos) != '.') return ok_diag;
    ++pos;
  }
}

diagnostic scan_quoted(std::string_view s, std::size_t& pos, parse_options opts, bool& utf8) noexcept {
  ++pos;  // DQUOTE
  while (pos < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c == '"') {
      ++pos;
      return ok_diag;
    }
    if (c == '\\') {
      if (!detail::quoted_pair_char[at(s, pos + 1)] || pos + 1 >= s.size()) return fail(errc::quoted_string, pos + 1);
      pos += 2;
    } else if (detail::qtext_smtp[c]) {
      ++pos;
    } else if (c >= 0x80) {
      if (auto d = take_utf8(s, pos, opts)) return d;
      utf8 = true;
    } else {
      return fail(errc::quoted_string, pos);
    }
  }
  return fail(errc::quoted_string, pos);
}

diagnostic scan_mailbox(std::string_view s, std::size_t& pos, parse_options opts, mailbox& out) noexcept {
  const std::size_t start = pos;
  bool utf8 = false;
  if (at(s, pos) == '"') {
    out.quoted = true;
    if (auto d = scan_quoted(s, pos, opts, utf8)) return d;
  } else {
    if (auto d = scan_dot_string(s, pos, opts, utf8)) return d;
  }
  out.local_part = s.substr(start, pos - start);
  if (out.local_part.size() > max_local_part) return fail(errc::local_part_too_long, start);
  if (at(s, pos) != '@') {
    unsigned char c = at(s, pos);
    return fail(pos >= s.size() || c == '>' || c == ' ' ? errc::missing_at : errc::local_part_syntax, pos);
  }
  ++pos;
  if (auto d = detail::scan_host(s, pos, opts, out.domain)) return d;
  out.utf8 = utf8 || out.domain.utf8;
  out.text = s.substr(start, pos - start);
  return ok_diag;
}

template <class T, class Scan>
parse_result<T> whole(std::string_view in, errc trailing, Scan scan) noexcept {
  parse_result<T> r;
  std::size_t pos = 0;
  r.diag = scan(in, pos, r.value);
  if (r.diag.ok() && pos != in.size()) r.diag = fail(trailing, pos);
  return r;
}

}  // namespace

namespace detail {

diagnostic scan_domain(std::string_view s, std::size_t& pos, parse_options opts, host& out) noexcept {
  const std::size_t start = pos;
  auto found = [&](bool utf8) {
    // From a local: copying out.text would read back, as one 16-octet load,
    // the two stores that just wrote it, which stalls store forwarding.
    const std::string_view text = s.substr(start, pos - start);
    out.text = text;
    out.address = text;
    out.kind = host_kind::domain;
    out.tag = {};
    out.utf8 = utf8;
    return ok_diag;
  };
#if defined(__SSE2__)
  // Shorter than 64 octets, so no label or domain is too long.
  if (run_masks r; classify_run(s, pos, domain_block, r) && well_dotted(r) &&
                   (pos + r.size == s.size() || ends_domain(s[pos + r.size]))) {
    pos += r.size;
    return found(false);
  }
#endif
  bool utf8 = false;
  for (;;) {
    const std::size_t label = pos;
    while ((pos = span_ldh(s, pos)) < s.size() && at(s, pos) >= 0x80) {
      if (auto d = take_utf8(s, pos, opts)) return d;
      utf8 = true;
    }
    if (pos == label) return fail(errc::domain_empty, pos);
    if (s[label] == '-') return fail(errc::domain_hyphen, label);
    if (s[pos - 1] == '-') return fail(errc::domain_hyphen, pos - 1);
    if (pos - label > max_label) return fail(errc::domain_label_too_long, label);
    if (at(s, pos) != '.') break;
    ++pos;
  }
  if (pos - start > max_domain) return fail(errc::domain_too_long, start);
  if (pos < s.size() && !ends_domain(s[pos])) return fail(errc::domain_syntax, pos);
  return found(utf8);
}

diagnostic scan_address_literal(std::string_view s, std::size_t& pos, parse_options, host& out) noexcept {
  const std::size_t start = pos;
  if (at(s, pos) != '[') return fail(errc::address_literal, pos);
  const std::size_t from = pos + 1;
  std::size_t close = from;
  while (close < s.size() && s[close] != ']' && s[close] != ' ') ++close;  // dcontent may hold '>'
  if (close >= s.size() || s[close] != ']') return fail(errc::address_literal, close);
  if (close == from) return fail(errc::address_literal, from);
  std::size_t colon = from;
  while (colon < close && s[colon] != ':') ++colon;
  out.utf8 = false;
  if (colon == close) {
    if (auto d = check_ipv4(s, from, close)) return d;
    out.kind = host_kind::ipv4;
    out.tag = {};
    out.address = s.substr(from, close - from);
  } else {
    out.tag = s.substr(from, colon - from);
    out.address = s.substr(colon + 1, close - colon - 1);
    if (iequals(out.tag, "IPv6")) {
      if (auto d = check_ipv6(s, colon + 1, close)) return d;
      out.kind = host_kind::ipv6;
    } else {
      if (auto d = check_general(s, from, colon, close)) return d;
      out.kind = host_kind::general;
    }
  }
  pos = close + 1;
  out.text = s.substr(start, pos - start);
  return ok_diag;
}

diagnostic scan_host(std::string_view s, std::size_t& pos, parse_options opts, host& out) noexcept {
  if (at(s, pos) == '[') return scan_address_literal(s, pos, opts, out);
  return scan_domain(s, pos, opts, out);
}

diagnostic scan_atom(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  const std::size_t begin = pos;
  while ((pos = span_atext(s, pos)) < s.size() && at(s, pos) >= 0x80)
    if (auto d = take_utf8(s, pos, opts)) return d;
  if (pos == begin) return fail(errc::string_syntax, pos);
  return ok_diag;
}

diagnostic scan_quoted_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  bool utf8 = false;
  if (at(s, pos) != '"') return fail(errc::string_syntax, pos);
  return scan_quoted(s, pos, opts, utf8);
}

diagnostic scan_path(std::string_view s, std::size_t& pos, path_kind kind, parse_options opts, path& out) noexcept {
  const std::size_t start = pos;
  if (at(s, pos) != '<') {
    if (!opts.allows(lenient::path_brackets) || pos >= s.size()) return fail(errc::path_open, pos);
    out.bracketed = false;
    if (auto d = scan_mailbox(s, pos, opts, out.mbox)) return d;
    out.text = s.substr(start, pos - start);
    if (out.text.size() > max_path) return fail(errc::path_too_long, start);
    return ok_diag;
  }
  ++pos;
  if (at(s, pos) == '>' && pos < s.size()) {
    if (kind != path_kind::reverse) return fail(errc::local_part_syntax, pos);
    ++pos;
    out.null = true;
    out.text = s.substr(start, pos - start);
    return ok_diag;
  }
  if (at(s, pos) == '@') {
    // A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain
    const std::size_t route = pos;
    for (;;) {
      if (at(s, pos) != '@') return fail(errc::source_route, pos);
      ++pos;
      host h;
      if (auto d = scan_domain(s, pos, opts, h)) return d;
      if (at(s, pos) == ',') {
        ++pos;
        continue;
      }
      if (at(s, pos) == ':') break;
      return fail(errc::source_route, pos);
    }
    out.source_route = s.substr(route, pos - route);
    ++pos;
  }
  constexpr std::string_view pm = "postmaster>";
  // The first octet rules out nearly every path before the whole compare.
  if (kind == path_kind::forward && (at(s, pos) | 0x20) == 'p' && out.source_route.empty() &&
      istarts_with(s.substr(pos), pm)) {
    out.postmaster = true;
    const std::string_view local_part = s.substr(pos, 10);
    out.mbox.local_part = local_part;
    out.mbox.text = local_part;
    pos += 10;
  } else if (auto d = scan_mailbox(s, pos, opts, out.mbox)) {
    return d;
  }
  if (at(s, pos) != '>' || pos >= s.size()) return fail(errc::path_close, pos);
  ++pos;
  out.text = s.substr(start, pos - start);
  if (out.text.size() > max_path) return fail(errc::path_too_long, start);
  return ok_diag;
}

}  // namespace detail

parse_result<host> parse_domain(std::string_view in, parse_options opts) noexcept {
  return whole<host>(in, errc::trailing_data,
                     [&](std::string_view s, std::size_t& p, host& h) { return detail::scan_domain(s, p, opts, h); });
}

parse_result<host> parse_host(std::string_view in, parse_options opts) noexcept {
  return whole<host>(in, errc::trailing_data,
                     [&](std::string_view s, std::size_t& p, host& h) { return detail::scan_host(s, p, opts, h); });
}

parse_result<host> parse_address_literal(std::string_view in, parse_options opts) noexcept {
  return whole<host>(in, errc::trailing_data, [&](std::string_view s, std::size_t& p, host& h) {
    return detail::scan_address_literal(s, p, opts, h);
  });
}

parse_result<mailbox> parse_mailbox(std::string_view in, parse_options opts) noexcept {
  return whole<mailbox>(in, errc::trailing_data,
                        [&](std::string_view s, std::size_t& p, mailbox& m) { return scan_mailbox(s, p, opts, m); });
}

parse_result<path> parse_path(std::string_view in, path_kind kind, parse_options opts) noexcept {
  return whole<path>(in, errc::trailing_data, [&](std::string_view s, std::size_t& p, path& out) {
    return detail::scan_path(s, p, kind, opts, out);
  });
}

}  // namespace smtpkit
