// fuzz/reference/abnf_test.cpp — the reference matcher against RFC 5234's
// own definitions (§3.1-3.9: concatenation, alternation, incremental
// alternatives, value ranges, grouping, repetition, specific and optional
// repetition; §2.3 case-insensitive strings), and the reference SMTP grammar
// against a few RFC 5321 examples. One case per line.
#include "reference/abnf.hpp"

#include <gtest/gtest.h>

#include <string>

#include "reference/grammar.hpp"

namespace smtpkit::abnf {
namespace {

struct match_case {
  int line;
  const char* rfc;
  const char* rules;  // ABNF text; the first rule is the one matched
  std::string input;
  bool matches;
};

const match_case cases[] = {
    {__LINE__, "RFC 5234 §2.3 char-vals are case-insensitive", "r = \"abc\"", "aBC", true},
    {__LINE__, "RFC 5234 §2.3 num-vals are exact", "r = %x61 %x62", "aB", false},
    {__LINE__, "RFC 5234 §3.1 concatenation", "r = \"a\" \"b\"", "ab", true},
    {__LINE__, "RFC 5234 §3.2 alternation", "r = \"a\" / \"b\"", "b", true},
    {__LINE__, "RFC 5234 §3.3 incremental alternatives", "r = \"a\"\nr =/ \"b\"", "b", true},
    {__LINE__, "RFC 5234 §3.4 value range", "r = %x30-39", "7", true},
    {__LINE__, "RFC 5234 §3.4 value range, outside", "r = %x30-39", "a", false},
    {__LINE__, "RFC 5234 §2.3 dotted num-val", "r = %d13.10", "\r\n", true},
    {__LINE__, "RFC 5234 §3.5 grouping", "r = \"a\" (\"b\" / \"c\") \"d\"", "acd", true},
    {__LINE__, "RFC 5234 §3.6 repetition *", "r = *\"ab\"", "ababab", true},
    {__LINE__, "RFC 5234 §3.6 repetition * of nothing", "r = *\"ab\"", "", true},
    {__LINE__, "RFC 5234 §3.6 repetition 2*3 too few", "r = 2*3\"a\"", "a", false},
    {__LINE__, "RFC 5234 §3.6 repetition 2*3", "r = 2*3\"a\"", "aaa", true},
    {__LINE__, "RFC 5234 §3.6 repetition 2*3 too many", "r = 2*3\"a\"", "aaaa", false},
    {__LINE__, "RFC 5234 §3.7 specific repetition", "r = 3%x61", "aaa", true},
    {__LINE__, "RFC 5234 §3.8 optional", "r = \"a\" [\"b\"] \"c\"", "ac", true},
    {__LINE__, "RFC 5234 §3.9 comment and continuation", "r = \"a\" ; comment\n    \"b\"", "ab", true},
    {__LINE__, "all parses, not first choice", "r = x \"b\"\nx = \"a\" / \"ab\"", "abb", true},
    {__LINE__, "backtracking into a repetition", "r = *\"a\" \"a\"", "aaa", true},
    {__LINE__, "repetition of something that matches empty", "r = *(*\"a\") \"b\"", "aab", true},
    {__LINE__, "rule names are case-insensitive", "r = X\nx = \"q\"", "q", true},
};

TEST(abnf, rfc5234_constructs) {
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
    grammar g;
    ASSERT_EQ(g.add(c.rules), "");
    ASSERT_EQ(g.finish(), "");
    matcher m(g, c.input);
    EXPECT_EQ(m.matches("r"), c.matches);
  }
}

TEST(abnf, errors_name_the_line) {
  grammar g;
  EXPECT_NE(g.add("r = <prose>").find("line 1"), std::string::npos);
  grammar h;
  EXPECT_EQ(h.add("r = q"), "");
  EXPECT_NE(h.finish().find("q"), std::string::npos);
}

struct smtp_case {
  int line;
  const char* rule;
  std::string input;
  bool matches;
};

const smtp_case smtp[] = {
    {__LINE__, "ref-command", "MAIL FROM:<Smith@bar.com>\r\n", true},
    {__LINE__, "ref-command", "RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n", true},
    {__LINE__, "ref-command", "EHLO [IPv6:2001:db8::1]\r\n", true},
    {__LINE__, "ref-command", "HELO [192.0.2.1]\r\n", false},
    {__LINE__, "ref-command-typed", "MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME\r\n", true},
    {__LINE__, "ref-command-typed", "MAIL FROM:<a@b> XFOO=1\r\n", false},
    {__LINE__, "IPv6-address-literal", "IPv6:1:2:3:4::5:6:7", false},
    {__LINE__, "IPv6-address-literal", "IPv6:1:2:3::4:5:6", true},
    {__LINE__, "address-literal", "[IPv6:1:2:3:4::5:6:7]", true},  // as a General-address-literal
    {__LINE__, "address-literal", "[256.1.1.1]", false},
    {__LINE__, "Reply-line", "250-mx.example.test\r\n250 OK\r\n", true},
    {__LINE__, "Greeting", "220 foo.com Simple Mail Transfer Service Ready\r\n", true},
    {__LINE__, "status-code", "5.01.1", false},
};

TEST(abnf, reference_smtp_grammar) {
  for (const auto& c : smtp) {
    SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " " << c.rule);
    matcher m(reference::smtp_grammar(false), c.input);
    EXPECT_EQ(m.matches(c.rule), c.matches) << c.input;
  }
}

}  // namespace
}  // namespace smtpkit::abnf
