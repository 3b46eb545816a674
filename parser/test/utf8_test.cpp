// utf8_test.cpp — well-formed UTF-8 (utf8.hpp; RFC 3629 §4, as RFC 6531
// §3.3 uses it): the length of each sequence, and the ill-formed ones
// rejected — overlongs, surrogates, past U+10FFFF, stray or missing
// continuation octets, a sequence cut by the end of the text.
#include "smtpkit/utf8.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string_view>

namespace smtpkit {
namespace {

struct utf8_case {
  int line;
  const char* rfc;
  std::string_view text;
  std::size_t first;  // utf8_sequence(text, 0)
  bool valid;         // valid_utf8(text)
};

const utf8_case cases[] = {
    {__LINE__, "RFC 3629 §4 ASCII is not a non-ASCII sequence", "a", 0, true},
    {__LINE__, "RFC 3629 §4 empty text", "", 0, true},
    {__LINE__, "RFC 3629 §4 UTF8-2 (U+00E9)", "\xc3\xa9", 2, true},
    {__LINE__, "RFC 3629 §4 UTF8-2 lowest (U+0080)", "\xc2\x80", 2, true},
    {__LINE__, "RFC 3629 §4 UTF8-3 (U+20AC)", "\xe2\x82\xac", 3, true},
    {__LINE__, "RFC 3629 §4 UTF8-3 E0 A0-BF (U+0800)", "\xe0\xa0\x80", 3, true},
    {__LINE__, "RFC 3629 §4 UTF8-3 ED 80-9F (U+D7FF)", "\xed\x9f\xbf", 3, true},
    {__LINE__, "RFC 3629 §4 UTF8-4 (U+1F600)", "\xf0\x9f\x98\x80", 4, true},
    {__LINE__, "RFC 3629 §4 UTF8-4 highest (U+10FFFF)", "\xf4\x8f\xbf\xbf", 4, true},
    {__LINE__, "RFC 3629 §4 mixed text", "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac", 0, true},
    {__LINE__, "RFC 3629 §3 overlong 2 (C0)", "\xc0\xaf", 0, false},
    {__LINE__, "RFC 3629 §3 overlong 2 (C1)", "\xc1\xbf", 0, false},
    {__LINE__, "RFC 3629 §3 overlong 3 (E0 80-9F)", "\xe0\x80\xaf", 0, false},
    {__LINE__, "RFC 3629 §3 overlong 4 (F0 80-8F)", "\xf0\x80\x80\xaf", 0, false},
    {__LINE__, "RFC 3629 §3 surrogate (U+D800)", "\xed\xa0\x80", 0, false},
    {__LINE__, "RFC 3629 §3 past U+10FFFF (F4 90)", "\xf4\x90\x80\x80", 0, false},
    {__LINE__, "RFC 3629 §3 F5 never appears", "\xf5\x80\x80\x80", 0, false},
    {__LINE__, "RFC 3629 §3 FF never appears", "\xff", 0, false},
    {__LINE__, "RFC 3629 §3 continuation without a lead", "\x80", 0, false},
    {__LINE__, "RFC 3629 §3 lead without continuation", "\xc3(", 0, false},
    {__LINE__, "RFC 3629 §3 sequence cut by the end", "\xe2\x82", 0, false},
    {__LINE__, "RFC 3629 §3 ill-formed after good text", "abc\xc3\xa9\xc3", 0, false},
};

class utf8_table : public ::testing::TestWithParam<utf8_case> {};

TEST_P(utf8_table, measures_sequences_and_rejects_ill_formed_text) {
  const utf8_case& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  EXPECT_EQ(utf8_sequence(c.text, 0), c.first);
  EXPECT_EQ(valid_utf8(c.text), c.valid);
}

INSTANTIATE_TEST_SUITE_P(rfc3629, utf8_table, ::testing::ValuesIn(cases));

// A sequence is never read past the end of the view it is in.
TEST(utf8, stops_at_the_end_of_the_view) {
  const std::string_view euro = "\xe2\x82\xac";
  EXPECT_EQ(utf8_sequence(euro, 0), 3u);
  EXPECT_EQ(utf8_sequence(euro.substr(0, 2), 0), 0u);
  EXPECT_FALSE(valid_utf8(euro.substr(0, 2)));
}

static_assert(valid_utf8("\xc3\xa9") && !valid_utf8("\xc3"));

}  // namespace
}  // namespace smtpkit
