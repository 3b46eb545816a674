// reply.cpp — replies (RFC 5321 §4.2, §4.2.1), greeting (§4.2), EHLO
// response (§4.1.1.1), enhanced status codes (RFC 3463 §2, RFC 2034 §4).
#include "smtpkit/reply.hpp"

#include <algorithm>
#include <array>

#include "smtpkit/ascii.hpp"
#include "smtpkit/utf8.hpp"
#include "path_scan.hpp"
#include "rfc5321.hpp"
#include "scan.hpp"

namespace smtpkit {

using detail::in;

namespace {

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

// textstring = 1*(%d09 / %d32-126); UTF-8 is tolerated when SMTPUTF8 is in
// force. Returns the offset of the first bad octet, or npos.
std::size_t bad_text(std::string_view t, parse_options opts) noexcept {
  for (std::size_t i = 0;;) {
    i = detail::span_text(t, i);
    if (i == t.size()) return std::string_view::npos;
    if (static_cast<unsigned char>(t[i]) < 0x80 || !opts.smtputf8) return i;
    std::size_t n = utf8_sequence(t, i);
    if (n == 0) return i;
    i += n;
  }
}

struct ext_row {
  std::string_view keyword;
  extension id;
};
constexpr std::array<ext_row, static_cast<std::size_t>(extension::count_)> ext_rows{{
    {"PIPELINING", extension::pipelining},
    {"SIZE", extension::size},
    {"8BITMIME", extension::eightbitmime},
    {"SMTPUTF8", extension::smtputf8},
    {"STARTTLS", extension::starttls},
    {"AUTH", extension::auth},
    {"DSN", extension::dsn},
    {"ENHANCEDSTATUSCODES", extension::enhancedstatuscodes},
    {"CHUNKING", extension::chunking},
    {"BINARYMIME", extension::binarymime},
    {"REQUIRETLS", extension::requiretls},
    {"MT-PRIORITY", extension::mt_priority},
    {"DELIVERBY", extension::deliverby},
    {"ETRN", extension::etrn},
    {"ATRN", extension::atrn},
    {"BURL", extension::burl},
    {"HELP", extension::help},
    {"VRFY", extension::vrfy},
    {"EXPN", extension::expn},
    {"NO-SOLICITING", extension::no_soliciting},
    {"FUTURERELEASE", extension::future_release},
    {"LIMITS", extension::limits},
}};

}  // namespace

std::string_view to_string(extension e) noexcept {
  auto i = static_cast<std::size_t>(e);
  return i < ext_rows.size() ? ext_rows[i].keyword : std::string_view{"?"};
}

extension extension_from_keyword(std::string_view keyword) noexcept {
  // Length and first letter rule out nearly every row before iequals runs.
  if (keyword.empty()) return extension::count_;
  const char first = to_lower_ascii(keyword[0]);
  for (const auto& r : ext_rows)
    if (r.keyword.size() == keyword.size() && to_lower_ascii(r.keyword[0]) == first && iequals(r.keyword, keyword))
      return r.id;
  return extension::count_;
}

parse_result<reply_line> parse_reply_line(std::string_view s, parse_options opts) noexcept {
  parse_result<reply_line> r;
  // Reply-code = %x32-35 %x30-35 %x30-39
  if (s.empty()) {
    r.diag = fail(errc::reply_empty, 0);
    return r;
  }
  static constexpr char lo[3] = {'2', '0', '0'};
  static constexpr char hi[3] = {'5', '5', '9'};
  for (std::size_t i = 0; i < 3; ++i) {
    if (i >= s.size() || s[i] < lo[i] || s[i] > hi[i]) {
      r.diag = fail(errc::reply_code, i);
      return r;
    }
  }
  r.value.code = static_cast<std::uint16_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
  if (s.size() == 3) return r;
  if (s[3] != ' ' && s[3] != '-') {
    r.diag = fail(errc::reply_separator, 3);
    return r;
  }
  r.value.separator = s[3];
  r.value.text = s.substr(4);
  if (r.value.separator == ' ' && r.value.text.empty() && !opts.allows(lenient::trailing_whitespace)) {
    r.diag = fail(errc::reply_text, 3);  // textstring is 1*: "250 " has an empty one
    return r;
  }
  if (std::size_t bad = bad_text(r.value.text, opts); bad != std::string_view::npos)
    r.diag = fail(errc::reply_text, 4 + bad);
  return r;
}

parse_result<enhanced_status> parse_enhanced_status(std::string_view t) noexcept {
  parse_result<enhanced_status> r;
  if (t.size() < 2 || !detail::is_digit(t[0]) || t[1] != '.') return r;
  enhanced_status& e = r.value;
  e.present = true;
  if (t[0] != '2' && t[0] != '4' && t[0] != '5') {
    r.diag = fail(errc::enhanced_code, 0);
    return r;
  }
  e.cls = static_cast<std::uint8_t>(t[0] - '0');
  std::size_t pos = 2;
  auto number = [&](std::uint16_t& out) {
    std::size_t start = pos;
    unsigned v = 0;
    while (pos < t.size() && detail::is_digit(t[pos]) && pos - start < 3)
      v = v * 10 + static_cast<unsigned>(t[pos++] - '0');
    out = static_cast<std::uint16_t>(v);
    // RFC 3463 §2: no leading zero digits ("0" alone is fine).
    if (pos - start > 1 && t[start] == '0') return false;
    return pos > start && !(pos < t.size() && detail::is_digit(t[pos]));
  };
  if (!number(e.subject)) {
    r.diag = fail(errc::enhanced_code, pos);
    return r;
  }
  if (pos >= t.size() || t[pos] != '.') {
    r.diag = fail(errc::enhanced_code, pos);
    return r;
  }
  ++pos;
  if (!number(e.detail)) {
    r.diag = fail(errc::enhanced_code, pos);
    return r;
  }
  if (pos < t.size() && t[pos] != ' ') {
    r.diag = fail(errc::enhanced_code, pos);
    return r;
  }
  e.code = t.substr(0, pos);
  return r;
}

bool reply_lines::next(std::string_view& line) noexcept {
  if (pos_ >= raw_.size()) return false;
  std::size_t end = raw_.find("\r\n", pos_);
  if (end == std::string_view::npos) end = raw_.size();
  line = raw_.substr(pos_, end - pos_);
  pos_ = end == raw_.size() ? end : end + 2;
  return true;
}

parse_result<reply> parse_reply(std::string_view text, parse_options opts) noexcept {
  parse_result<reply> r;
  r.value.raw = text;
  if (text.empty()) {
    r.diag = fail(errc::reply_empty, 0);
    return r;
  }
  std::size_t pos = 0;
  bool last_continues = false;
  while (pos < text.size()) {
    std::size_t end = text.find("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (r.value.lines > 0 && !last_continues) {
      // a line after the one that ended the reply
      r.diag = fail(errc::trailing_data, pos);
      return r;
    }
    auto lr = parse_reply_line(line, opts);
    if (lr.diag) {
      r.diag = fail(lr.diag.code, pos + lr.diag.offset);
      return r;
    }
    if (r.value.lines == 0) {
      r.value.code = lr.value.code;
      r.value.first_text = lr.value.text;
    } else if (lr.value.code != r.value.code) {
      r.diag = fail(errc::reply_code_mismatch, pos);
      return r;
    }
    r.value.last_text = lr.value.text;
    ++r.value.lines;
    last_continues = lr.value.continues();
    pos = end == text.size() ? end : end + 2;
  }
  if (last_continues) r.diag = fail(errc::reply_incomplete, text.size());
  return r;
}

reply_assembler::step reply_assembler::feed(std::string_view line, line_ending ending, parse_options opts) noexcept {
  step s;
  auto lr = parse_reply_line(line, opts);
  s.line = lr.value;
  s.diag = lr.diag;
  if (!s.diag && ending != line_ending::crlf && !(ending == line_ending::lf && opts.allows(lenient::bare_lf)))
    s.diag = fail(errc::reply_line_ending, line.size());
  // A line whose only fault is in its text (RFC 5321 §4.2 textstring: an
  // 8-bit octet, a control character) still has its code and separator:
  // the reply goes on or ends as they say, as a client reads it.
  const bool framed = !lr.diag || lr.diag.code == errc::reply_text;
  if (lines_ == 0) {
    code_ = s.line.code;
  } else if (framed && s.line.code != code_ && !s.diag) {
    s.diag = fail(errc::reply_code_mismatch, 0);
  }
  ++lines_;
  // A line that does not parse otherwise ends the reply: there is no
  // telling whether more lines belong to it, and a client would give up on
  // it too.
  s.complete = !framed || !s.line.continues();
  if (s.complete) lines_ = 0;
  return s;
}

parse_result<greeting> parse_greeting(std::string_view text, parse_options opts) noexcept {
  parse_result<greeting> r;
  auto rep = parse_reply(text, opts);
  r.value.rep = rep.value;
  r.diag = rep.diag;
  if (r.diag || rep.value.code != 220) return r;
  // "220 " (Domain / address-literal) [ SP textstring ]
  std::string_view first;
  reply_lines lines(text);
  lines.next(first);
  if (first.size() < 4) {
    r.diag = fail(errc::greeting_domain, first.size());
    return r;
  }
  std::size_t pos = 4;
  if (auto d = detail::scan_host(first, pos, opts, r.value.server)) {
    r.diag = fail(errc::greeting_domain, d.offset);
    return r;
  }
  if (pos < first.size() && first[pos] != ' ') r.diag = fail(errc::greeting_domain, pos);
  // textstring is 1*: "220 mx.example " has an empty one after its SP.
  else if (pos + 1 == first.size() && !opts.allows(lenient::trailing_whitespace)) r.diag = fail(errc::reply_text, pos);
  return r;
}

bool ehlo_keywords::next(ehlo_keyword& out) noexcept {
  std::string_view line;
  if (!lines_.next(line)) return false;
  std::string_view t = line.size() > 4 ? line.substr(4) : std::string_view{};
  std::size_t sp = t.find(' ');
  out.keyword = t.substr(0, sp);
  out.params = sp == std::string_view::npos ? std::string_view{} : t.substr(sp + 1);
  return true;
}

namespace {
// "AUTH=LOGIN PLAIN": the obsolete form's keyword ends at the '='.
std::string_view obsolete_keyword(std::string_view keyword) noexcept { return keyword.substr(0, keyword.find('=')); }
}  // namespace

bool ehlo_keyword::names(std::string_view name) const noexcept {
  return iequals(keyword, name) || iequals(obsolete_keyword(keyword), name);
}

bool ehlo_keyword::lists(std::string_view param) const noexcept {
  auto any = [&](std::string_view list) {
    while (!list.empty()) {
      const std::size_t sp = list.find(' ');
      if (iequals(list.substr(0, sp), param)) return true;
      if (sp == std::string_view::npos) break;
      list.remove_prefix(sp + 1);
    }
    return false;
  };
  const std::size_t eq = keyword.find('=');
  return any(params) || (eq != std::string_view::npos && any(keyword.substr(eq + 1)));
}

parse_result<ehlo_info> parse_ehlo_reply(std::string_view text, parse_options opts) noexcept {
  parse_result<ehlo_info> r;
  ehlo_info& info = r.value;
  info.raw = text;
  auto rep = parse_reply(text, opts);
  // A line whose text breaks the grammar (RFC 5321 §4.2: "250 " has an
  // empty textstring) is reported, and the keywords are still read: a
  // client reads them from such a response, and a checker must know what
  // was advertised. Any other fault leaves nothing to read.
  r.diag = rep.diag;
  if (rep.diag && (rep.diag.code != errc::reply_text || rep.value.lines == 0 || rep.value.code != 250)) return r;
  if (rep.value.code != 250) {
    r.diag = fail(errc::ehlo_domain, 0);
    return r;
  }
  auto note = [&](errc e, std::size_t at) {
    if (r.diag.ok()) r.diag = fail(e, at);
  };
  // First line: "250" SP/"-" Domain [ SP ehlo-greet ]
  std::string_view first = rep.value.first_text;
  // A bare "250" has no separator: its (empty) text starts at 3, not 4.
  const std::size_t first_at = text.size() > 3 && (text[3] == ' ' || text[3] == '-') ? 4 : 3;
  std::size_t pos = 0;
  host h;
  if (auto d = detail::scan_host(first, pos, opts, h); d || h.kind != host_kind::domain) {
    note(errc::ehlo_domain, first_at + (d ? d.offset : 0));
  } else {
    info.domain = h.text;
    if (pos < first.size()) {
      if (first[pos] != ' ' || pos + 1 == first.size()) note(errc::ehlo_domain, first_at + pos);
      info.greet = first.substr(pos < first.size() ? pos + 1 : pos);
      for (std::size_t i = 0; i < info.greet.size(); ++i)
        if (!detail::ehlo_greet_char[static_cast<unsigned char>(info.greet[i])]) {
          note(errc::reply_text, first_at + pos + 1 + i);
          break;
        }
    }
  }
  // Following lines: ehlo-line = ehlo-keyword *( SP ehlo-param )
  std::size_t line_start = text.find("\r\n");
  line_start = line_start == std::string_view::npos ? text.size() : line_start + 2;
  ehlo_keywords kws(text);
  ehlo_keyword kw;
  while (kws.next(kw)) {
    // Offsets stay inside the input even for a bare "250" last line.
    const std::size_t line_end = std::min(text.find("\r\n", line_start), text.size());
    std::size_t base = std::min(line_start + 4, line_end);
    ++info.keywords;
    bool good = !kw.keyword.empty() && in(detail::let_dig, kw.keyword[0]);
    for (char c : kw.keyword)
      if (!in(detail::ldh, c)) good = false;
    if (!good) {
      std::size_t bad = 0;
      while (bad < kw.keyword.size() && in(detail::ldh, kw.keyword[bad]) && !(bad == 0 && kw.keyword[0] == '-')) ++bad;
      note(errc::ehlo_keyword, base + bad);
    }
    std::size_t pbase = base + kw.keyword.size() + 1;
    bool params_ok = true;
    if (kw.params.data() != nullptr) {
      if (kw.params.empty()) params_ok = false;
      std::size_t i = 0;
      for (; i < kw.params.size() && params_ok; ++i) {
        char c = kw.params[i];
        if (c == ' ') {
          if (i == 0 || i + 1 == kw.params.size() || kw.params[i + 1] == ' ') params_ok = false;
        } else if (!in(detail::ehlo_param_char, c)) {
          params_ok = false;
        }
      }
      if (!params_ok) note(errc::ehlo_param, pbase + (i > 0 ? i - 1 : 0));
    }
    extension e = extension_from_keyword(kw.keyword);
    if (e != extension::count_) {
      info.extensions |= 1u << static_cast<unsigned>(e);
      if (e == extension::auth) info.auth_mechanisms = kw.params;
      if (e == extension::size && !kw.params.empty()) {
        // RFC 1870 §4: SIZE [SP size-param], size-param ::= 1*20DIGIT;
        // values past 2^64-1 saturate, as the MAIL SIZE parameter does.
        std::uint64_t n = 0;
        bool digits = kw.params.size() <= 20;
        for (char c : kw.params) {
          if (!detail::is_digit(c)) {
            digits = false;
            continue;
          }
          const auto d = static_cast<std::uint64_t>(c - '0');
          n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
        }
        if (digits) {
          info.size_declared = true;
          info.size_limit = n;
        } else {
          note(errc::ehlo_param, pbase);
        }
      }
    }
    std::size_t next = text.find("\r\n", line_start);
    line_start = next == std::string_view::npos ? text.size() : next + 2;
  }
  return r;
}

}  // namespace smtpkit
