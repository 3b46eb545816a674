// ascii_test.cpp — ASCII case folding and character tests (ascii.hpp):
// case-insensitive comparison as RFC 5321 §2.4 and RFC 5234 §2.3 use it,
// DIGIT (RFC 5234 §B.1) and Ldh-str octets (RFC 5321 §4.1.2), for every
// octet, 8-bit ones included.
#include "smtpkit/ascii.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace smtpkit {
namespace {

struct compare_case {
  int line;
  const char* rfc;
  std::string_view a, b;
  bool equal;
  bool a_starts_with_b;
};

const compare_case cases[] = {
    {__LINE__, "RFC 5321 §2.4 verbs in any case", "EHLO", "ehlo", true, true},
    {__LINE__, "RFC 5321 §2.4 mixed case", "StArTtLs", "STARTTLS", true, true},
    {__LINE__, "RFC 5234 §2.3 empty strings", "", "", true, true},
    {__LINE__, "RFC 5234 §2.3 sizes differ", "MAIL", "MAIL ", false, false},
    {__LINE__, "RFC 5234 §2.3 a prefix", "MAIL FROM:<>", "mail from:", false, true},
    {__LINE__, "RFC 5234 §2.3 longer prefix than text", "MAIL", "MAIL FROM", false, false},
    {__LINE__, "RFC 5234 §2.3 digits and hyphens as they are", "MT-PRIORITY", "mt-priority", true, true},
    {__LINE__, "RFC 5234 §2.3 '@' is not '`' (0x40 vs 0x60)", "@", "`", false, false},
    {__LINE__, "RFC 5234 §2.3 '[' is not '{' (0x5B vs 0x7B)", "[", "{", false, false},
    {__LINE__, "RFC 6531 §3.3 8-bit octets compare exactly", "\xc3\x89", "\xc3\xa9", false, false},
    {__LINE__, "RFC 6531 §3.3 8-bit octets equal themselves", "r\xc3\xa9sum\xc3\xa9", "R\xc3\xa9SUM\xc3\xa9", true,
     true},
};

class ascii_compare : public ::testing::TestWithParam<compare_case> {};

TEST_P(ascii_compare, ignores_the_case_of_ascii_letters_only) {
  const compare_case& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  EXPECT_EQ(iequals(c.a, c.b), c.equal);
  EXPECT_EQ(iequals(c.b, c.a), c.equal);
  EXPECT_EQ(istarts_with(c.a, c.b), c.a_starts_with_b);
}

INSTANTIATE_TEST_SUITE_P(rfc5234, ascii_compare, ::testing::ValuesIn(cases));

// Every octet, against the definitions written out: nothing outside A-Z
// folds, and no 8-bit octet is a digit or an Ldh octet.
TEST(ascii, every_octet_folds_and_classifies_as_the_abnf_says) {
  for (int o = 0; o < 256; ++o) {
    SCOPED_TRACE(o);
    const char c = static_cast<char>(o);
    const bool upper = o >= 'A' && o <= 'Z';
    const bool lower = o >= 'a' && o <= 'z';
    const bool digit = o >= '0' && o <= '9';
    EXPECT_EQ(to_lower_ascii(c), upper ? static_cast<char>(o + 32) : c);
    EXPECT_EQ(is_digit(c), digit);
    EXPECT_EQ(is_ldh(c), upper || lower || digit || o == '-');
  }
}

// Usable where a constant is needed (tables built at compile time).
static_assert(iequals("Postmaster", "POSTMASTER"));
static_assert(istarts_with("AUTH=PLAIN", "auth="));
static_assert(to_lower_ascii('Q') == 'q' && is_digit('7') && is_ldh('-') && !is_ldh('_'));

}  // namespace
}  // namespace smtpkit
