// message_test.cpp — header lines (RFC 5322 §2.2, §3.6.8, §4.5), multipart
// boundaries and delimiter lines (RFC 2045 §5.1, RFC 2046 §5.1.1) and
// date-times (RFC 5322 §3.3, §4.3). One case per line, the RFC section as
// its label.
#include "smtpkit/message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smtpkit {
namespace {

using K = header_line_kind;

struct header_case {
  int line;
  const char* rfc;
  std::string input;
  K kind;
  std::string name;
  std::string value;
};

const header_case header_cases[] = {
    {__LINE__, "§2.2 field", "Subject: hello", K::field, "Subject", " hello"},
    {__LINE__, "§2.2 field, no space", "Subject:hello", K::field, "Subject", "hello"},
    {__LINE__, "§2.2 field, empty body", "X-Empty:", K::field, "X-Empty", ""},
    {__LINE__, "§4.5 obs: WSP before the colon", "Subject \t: old", K::field, "Subject", " old"},
    {__LINE__, "§2.2.3 folded continuation (SP)", " more of it", K::continuation, "", " more of it"},
    {__LINE__, "§2.2.3 folded continuation (HT)", "\tboundary=x", K::continuation, "", "\tboundary=x"},
    {__LINE__, "§2.1 the empty line ends the header", "", K::end, "", ""},
    {__LINE__, "§3.6.8 a colon is needed", "no colon here", K::other, "", ""},
    {__LINE__, "§3.6.8 the name is not empty", ": value", K::other, "", ""},
    {__LINE__, "§3.6.8 no space inside a name", "Two words: x", K::other, "", ""},
    {__LINE__, "§3.6.8 no control octet in a name", "Sub\x01ject: x", K::other, "", ""},
    {__LINE__, "§3.6.8 8-bit octets are not ftext", "Sub\xc3\xa9: x", K::other, "", ""},
};

TEST(message, header_lines) {
  for (const auto& c : header_cases) {
    SCOPED_TRACE(testing::Message() << "line " << c.line << ": " << c.rfc);
    const header_line h = classify_header_line(c.input);
    EXPECT_EQ(h.kind, c.kind);
    EXPECT_EQ(h.name, c.name);
    EXPECT_EQ(h.value, c.value);
  }
}

struct boundary_case {
  int line;
  const char* rfc;
  std::string content_type;
  std::string boundary;
};

const boundary_case boundary_cases[] = {
    {__LINE__, "RFC 2046 §5.1.1 token", " multipart/mixed; boundary=simple", "simple"},
    {__LINE__, "RFC 2046 §5.1.1 quoted", " multipart/alternative; boundary=\"===============1234==\"",
     "===============1234=="},
    {__LINE__, "RFC 2045 §5.1 type and attribute in any case", " MultiPart/Mixed; BOUNDARY=\"b1\"", "b1"},
    {__LINE__, "RFC 2045 §5.1 another parameter first", " multipart/mixed; charset=x; boundary=b2", "b2"},
    {__LINE__, "RFC 5322 §3.2.2 folded before the parameter", " multipart/mixed;\r\n\tboundary=\"b3\"", "b3"},
    {__LINE__, "RFC 5322 §3.2.2 comments are CFWS", " multipart (a comment)/mixed; boundary=b4 (x)", "b4"},
    {__LINE__, "RFC 2046 §5.1.1 a space inside quotes", " multipart/mixed; boundary=\"with space\"", "with space"},
    {__LINE__, "RFC 2045 §5.1 not multipart", " text/plain; boundary=nope", ""},
    {__LINE__, "RFC 2045 §5.1 no boundary", " multipart/mixed", ""},
    {__LINE__, "RFC 2045 §5.1 a parameter without '='", " multipart/mixed; boundary", ""},
    {__LINE__, "RFC 2045 §5.1 no subtype", " multipart; boundary=x", ""},
};

TEST(message, multipart_boundaries) {
  for (const auto& c : boundary_cases) {
    SCOPED_TRACE(testing::Message() << "line " << c.line << ": " << c.rfc);
    EXPECT_EQ(multipart_boundary(c.content_type), c.boundary);
  }
}

TEST(message, delimiter_lines) {
  // RFC 2046 §5.1.1: dash-boundary transport-padding CRLF, close-delimiter "--".
  EXPECT_EQ(delimiter_line("--b1", "b1"), delimiter_kind::open);
  EXPECT_EQ(delimiter_line("--b1  \t", "b1"), delimiter_kind::open) << "transport-padding";
  EXPECT_EQ(delimiter_line("--b1--", "b1"), delimiter_kind::close);
  EXPECT_EQ(delimiter_line("--b1-- ", "b1"), delimiter_kind::close);
  EXPECT_EQ(delimiter_line("--b1x", "b1"), delimiter_kind::none) << "a longer boundary";
  EXPECT_EQ(delimiter_line("-b1", "b1"), delimiter_kind::none);
  EXPECT_EQ(delimiter_line("--B1", "b1"), delimiter_kind::none) << "boundaries are compared as written";
  EXPECT_EQ(delimiter_line("--", ""), delimiter_kind::none);
}

struct date_case {
  int line;
  const char* rfc;
  std::string text;
  std::string found;  // "" when none
};

const date_case date_cases[] = {
    {__LINE__, "§3.3 full", " Thu, 01 Jan 2026 00:00:00 +0000", "Thu, 01 Jan 2026 00:00:00 +0000"},
    {__LINE__, "§3.3 no day of week", " 1 Jan 2026 10:00 -0500", "1 Jan 2026 10:00 -0500"},
    {__LINE__, "§3.3 in a Subject (swaks)", " test Fri, 03 Jan 2025 10:00:00 +0000", "Fri, 03 Jan 2025 10:00:00 +0000"},
    {__LINE__, "§3.3 a comment after the zone", " Thu, 1 Jan 2026 00:00:00 +0000 (UTC) rest",
     "Thu, 1 Jan 2026 00:00:00 +0000 (UTC)"},
    {__LINE__, "§4.3 obs-zone", " Mon, 2 Feb 1998 09:30:00 GMT", "Mon, 2 Feb 1998 09:30:00 GMT"},
    {__LINE__, "§4.3 obs-year", " 2 Feb 98 09:30 EST", "2 Feb 98 09:30 EST"},
    {__LINE__, "§3.3 case of the names", " thu, 01 JAN 2026 00:00:00 +0000", "thu, 01 JAN 2026 00:00:00 +0000"},
    {__LINE__, "§3.3 in a Received trace", " from a by b; Thu, 01 Jan 2026 00:00:00 +0000",
     "Thu, 01 Jan 2026 00:00:00 +0000"},
    {__LINE__, "§3.3 a zone is needed", " Thu, 01 Jan 2026 00:00:00", ""},
    {__LINE__, "§3.3 not a month", " 01 Foo 2026 00:00:00 +0000", ""},
    {__LINE__, "§3.3 not inside a word", " x1 Jan 2026 00:00 +0000", ""},
    {__LINE__, "§3.3 plain text", " nothing here, 12:30", ""},
};

TEST(message, date_times) {
  for (const auto& c : date_cases) {
    SCOPED_TRACE(testing::Message() << "line " << c.line << ": " << c.rfc);
    const text_span s = find_date_time(c.text);
    EXPECT_EQ(s.found() ? c.text.substr(s.pos, s.size) : std::string(), c.found);
  }
}

}  // namespace
}  // namespace smtpkit
