// smtpkit/message.hpp — the few parts of a message's text that tools need
// to compare two copies of one message or to say what in it varies: header
// field lines (RFC 5322 §2.2, §3.6.8, with the obsolete WSP before the
// colon of §4.5), the boundary of a multipart body (RFC 2045 §5.1, RFC 2046
// §5.1.1) and its delimiter lines, and date-times (RFC 5322 §3.3) inside
// a field.
//
// Line at a time, on lines without their line end; results are views into
// the caller's text; nothing allocates. The mail data itself (dot-stuffing,
// the end of data) is data.hpp's.
//
// Limits: RFC 2231 parameter continuations (boundary*0=...) are not joined;
// an encoded-word is text like any other; obs-zone letters (§4.3) are
// taken as a zone of one to five letters.
#pragma once

#include <cstddef>
#include <string_view>

namespace smtpkit {

enum class header_line_kind : unsigned char {
  field,         ///< field-name ":" ... — the first line of a field (RFC 5322 §2.2)
  continuation,  ///< starts with WSP: the folded rest of the field above (§2.2.3)
  end,           ///< the empty line that ends the header section (§2.1)
  other,         ///< none of these: not a header line
};

struct header_line {
  header_line_kind kind = header_line_kind::other;
  std::string_view name;   ///< field: the field name, as written
  std::string_view value;  ///< field: what follows the colon; continuation: the whole line
};

/// One line of a header section, without its line end.
[[nodiscard]] header_line classify_header_line(std::string_view line) noexcept;

/// The boundary parameter of a Content-Type field body (what follows the
/// colon, folding CRLF WSP included) whose type is "multipart"; without its
/// quotes. Empty when the type is not multipart or has no boundary.
[[nodiscard]] std::string_view multipart_boundary(std::string_view content_type) noexcept;

enum class delimiter_kind : unsigned char { none, open, close };

/// RFC 2046 §5.1.1: "--" boundary, or the close-delimiter "--" boundary
/// "--", each followed by nothing but LWSP. `line` has no line end.
[[nodiscard]] delimiter_kind delimiter_line(std::string_view line, std::string_view boundary) noexcept;

/// A run of `text`: its offset and size; size 0 when nothing was found.
struct text_span {
  std::size_t pos = 0;
  std::size_t size = 0;
  [[nodiscard]] bool found() const noexcept { return size != 0; }
};

/// The first RFC 5322 §3.3 date-time in `text` ("Thu, 01 Jan 2026 00:00:00
/// +0000"; the day of the week and the seconds optional, a two-digit year and
/// a zone name such as GMT accepted as §4.3 allows), with a trailing
/// comment such as "(UTC)". It must stand on its own: not inside a word.
[[nodiscard]] text_span find_date_time(std::string_view text) noexcept;

}  // namespace smtpkit
