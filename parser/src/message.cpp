// message.cpp — header lines, multipart boundaries and date-times of a
// message's text (RFC 5322 §2.2, §3.3, §3.6.8; RFC 2045 §5.1; RFC 2046 §5.1.1).
#include "smtpkit/message.hpp"

#include "rfc5321.hpp"
#include "smtpkit/ascii.hpp"

namespace smtpkit {
namespace {

using detail::char_table;
using detail::in;
using detail::make_table;

// RFC 5322 §3.6.8:  ftext = %d33-57 / %d59-126   (printable US-ASCII except ":")
inline constexpr char_table ftext = make_table([](int c) { return c >= 33 && c <= 126 && c != ':'; });

// RFC 2045 §5.1:  token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
//                 tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" /
//                              "\" / <"> / "/" / "[" / "]" / "?" / "="
inline constexpr char_table mime_token = make_table([](int c) {
  if (c <= 32 || c >= 127) return false;
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=': return false;
    default: return true;
  }
});

// RFC 5322 §3.2.2:  WSP, and the CRLF of folding (FWS) inside a field body.
constexpr bool fws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 5322 §3.2.2 CFWS: folding white space and (nested) comments.
void skip_cfws(std::string_view s, std::size_t& i) noexcept {
  while (i < s.size()) {
    if (fws(s[i])) {
      ++i;
    } else if (s[i] == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        } else if (s[i] == '(') {
          ++depth;
        } else if (s[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else {
      return;
    }
  }
}

std::string_view token_at(std::string_view s, std::size_t& i) noexcept {
  const std::size_t start = i;
  while (i < s.size() && in(mime_token, s[i])) ++i;
  return s.substr(start, i - start);
}

// RFC 5322 §3.2.4 quoted-string, without its quotes (quoted-pairs left as written).
bool quoted_at(std::string_view s, std::size_t& i, std::string_view& out) noexcept {
  if (i >= s.size() || s[i] != '"') return false;
  const std::size_t start = ++i;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
    } else if (s[i] == '"') {
      out = s.substr(start, i - start);
      ++i;
      return true;
    }
  }
  return false;
}

constexpr bool alnum(char c) noexcept { return detail::is_alpha(c) || detail::is_digit(c); }

// RFC 5322 §3.3: day-name and month-name, three letters each (compared
// without regard to case, as the ABNF's quoted strings are).
constexpr std::string_view day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <std::size_t N>
bool three_letters(std::string_view s, std::size_t& i, const std::string_view (&names)[N]) noexcept {
  if (s.size() - i < 3) return false;
  for (auto n : names)
    if (iequals(s.substr(i, 3), n)) {
      i += 3;
      return true;
    }
  return false;
}

std::size_t digits(std::string_view s, std::size_t& i, std::size_t most) noexcept {
  std::size_t n = 0;
  while (i < s.size() && n < most && detail::is_digit(s[i])) {
    ++i;
    ++n;
  }
  return n;
}

std::size_t spaces(std::string_view s, std::size_t& i) noexcept {
  std::size_t n = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
    ++i;
    ++n;
  }
  return n;
}

// date-time = [ day-of-week "," ] date time [CFWS]   (RFC 5322 §3.3, §4.3)
// Returns the end of a date-time that starts at `i`, or 0.
std::size_t date_time_at(std::string_view s, std::size_t i) noexcept {
  if (three_letters(s, i, day_names)) {
    spaces(s, i);
    if (i >= s.size() || s[i] != ',') return 0;
    ++i;
    spaces(s, i);
  }
  if (digits(s, i, 2) == 0 || spaces(s, i) == 0) return 0;               // day
  if (!three_letters(s, i, month_names) || spaces(s, i) == 0) return 0;  // month
  const std::size_t year = digits(s, i, 8);
  if (year < 2 || spaces(s, i) == 0) return 0;
  if (digits(s, i, 2) != 2 || i >= s.size() || s[i] != ':') return 0;  // hour ":" minute
  ++i;
  if (digits(s, i, 2) != 2) return 0;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (digits(s, i, 2) != 2) return 0;
  }
  if (spaces(s, i) == 0 || i >= s.size()) return 0;
  if (s[i] == '+' || s[i] == '-') {  // zone = (FWS ( "+" / "-" ) 4DIGIT)
    ++i;
    if (digits(s, i, 4) != 4) return 0;
  } else {  // obs-zone: "UT", "GMT", "EST" ... and the military letters
    std::size_t n = 0;
    while (i < s.size() && n < 5 && detail::is_alpha(s[i])) {
      ++i;
      ++n;
    }
    if (n == 0) return 0;
  }
  if (i < s.size() && alnum(s[i])) return 0;
  // A comment after the zone, such as " (UTC)", belongs to it.
  std::size_t j = i;
  spaces(s, j);
  if (j < s.size() && s[j] == '(') {
    const std::size_t close = s.find(')', j);
    if (close != std::string_view::npos) i = close + 1;
  }
  return i;
}

}  // namespace

header_line classify_header_line(std::string_view line) noexcept {
  header_line h;
  if (line.empty()) {
    h.kind = header_line_kind::end;
    return h;
  }
  if (line[0] == ' ' || line[0] == '\t') {
    h.kind = header_line_kind::continuation;
    h.value = line;
    return h;
  }
  std::size_t i = 0;
  while (i < line.size() && in(ftext, line[i])) ++i;
  const std::size_t name_end = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;  // obs-optional (§4.5)
  if (name_end == 0 || i >= line.size() || line[i] != ':') return h;
  h.kind = header_line_kind::field;
  h.name = line.substr(0, name_end);
  h.value = line.substr(i + 1);
  return h;
}

std::string_view multipart_boundary(std::string_view s) noexcept {
  // content := type "/" subtype *(";" parameter)   (RFC 2045 §5.1)
  std::size_t i = 0;
  skip_cfws(s, i);
  if (!iequals(token_at(s, i), "multipart")) return {};
  skip_cfws(s, i);
  if (i >= s.size() || s[i] != '/') return {};
  ++i;
  skip_cfws(s, i);
  if (token_at(s, i).empty()) return {};
  for (;;) {
    skip_cfws(s, i);
    if (i >= s.size() || s[i] != ';') return {};
    ++i;
    skip_cfws(s, i);
    const std::string_view attribute = token_at(s, i);
    skip_cfws(s, i);
    if (attribute.empty() || i >= s.size() || s[i] != '=') return {};
    ++i;
    skip_cfws(s, i);
    std::string_view value;
    if (!quoted_at(s, i, value)) value = token_at(s, i);
    if (iequals(attribute, "boundary")) return value;
  }
}

delimiter_kind delimiter_line(std::string_view line, std::string_view boundary) noexcept {
  if (boundary.empty() || line.size() < boundary.size() + 2 || line.substr(0, 2) != "--" ||
      line.substr(2, boundary.size()) != boundary)
    return delimiter_kind::none;
  std::string_view rest = line.substr(boundary.size() + 2);
  delimiter_kind kind = delimiter_kind::open;
  if (rest.substr(0, 2) == "--") {
    kind = delimiter_kind::close;
    rest.remove_prefix(2);
  }
  for (char c : rest)
    if (c != ' ' && c != '\t') return delimiter_kind::none;  // transport-padding = *LWSP-char
  return kind;
}

text_span find_date_time(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!alnum(text[i]) || (i > 0 && alnum(text[i - 1]))) continue;
    if (const std::size_t end = date_time_at(text, i)) return {i, end - i};
  }
  return {};
}

}  // namespace smtpkit
