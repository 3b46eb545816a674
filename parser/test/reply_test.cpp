// reply_test.cpp — replies (RFC 5321 §4.2), greeting, EHLO response
// (§4.1.1.1), enhanced status codes (RFC 3463 §2, RFC 2034).
#include "smtpkit/reply.hpp"

#include <gtest/gtest.h>

#include <string>

#include "split.hpp"

namespace smtpkit {
namespace {

enum class as { reply, greeting, ehlo };

struct reply_case {
  int line;
  const char* rfc;
  as kind;
  std::string input;  // lines joined by CRLF, no final CRLF
  errc expect;
  int offset = -1;
  lenient relax = lenient::none;
};

const reply_case cases[] = {
    {__LINE__, "RFC 5321 §4.2 Reply-line", as::reply, "250 OK", errc::ok},
    {__LINE__, "RFC 5321 §4.2 code alone", as::reply, "250", errc::ok},
    {__LINE__, "RFC 5321 §4.2 HT in text", as::reply, "250 a\tb", errc::ok},
    {__LINE__, "RFC 5321 §4.2 multi-line", as::reply, "250-first\r\n250-second\r\n250 last", errc::ok},
    {__LINE__, "RFC 5321 §4.2 continuation without text", as::reply, "250-\r\n250 last", errc::ok},
    {__LINE__, "RFC 5321 §4.2 empty text after SP", as::reply, "250 ", errc::reply_text, 3},
    {__LINE__, "RFC 5321 §4.2 empty text after SP lenient", as::reply, "250 ", errc::ok, -1,
     lenient::trailing_whitespace},
    {__LINE__, "RFC 5321 §4.2 code 600", as::reply, "600 no", errc::reply_code, 0},
    {__LINE__, "RFC 5321 §4.2 code 160", as::reply, "160 no", errc::reply_code, 0},
    {__LINE__, "RFC 5321 §4.2 code 260", as::reply, "260 no", errc::reply_code, 1},
    {__LINE__, "RFC 5321 §4.2 two-digit code", as::reply, "25", errc::reply_code, 2},
    {__LINE__, "RFC 5321 §4.2 letters", as::reply, "OK", errc::reply_code, 0},
    {__LINE__, "RFC 5321 §4.2 bad separator", as::reply, "250:OK", errc::reply_separator, 3},
    {__LINE__, "RFC 5321 §4.2 control in text", as::reply, "250 a\x01", errc::reply_text, 5},
    {__LINE__, "RFC 5321 §4.2 8-bit text", as::reply, "250 caf\xc3\xa9", errc::reply_text, 7},
    {__LINE__, "RFC 5321 §4.2.1 codes must agree", as::reply, "250-a\r\n251 b", errc::reply_code_mismatch, 7},
    {__LINE__, "RFC 5321 §4.2.1 last line continues", as::reply, "250-a\r\n250-b", errc::reply_incomplete, 12},
    {__LINE__, "RFC 5321 §4.2.1 line after the last", as::reply, "250 a\r\n250 b", errc::trailing_data, 7},
    {__LINE__, "RFC 5321 §4.2 empty", as::reply, "", errc::reply_empty, 0},
    {__LINE__, "RFC 7504 521", as::reply, "521 does not accept mail", errc::ok},
    // Greeting §4.2
    {__LINE__, "RFC 5321 §4.2 Greeting", as::greeting, "220 mx.example.test ESMTP ready", errc::ok},
    {__LINE__, "RFC 5321 §4.2 Greeting domain only", as::greeting, "220 mx.example.test", errc::ok},
    {__LINE__, "RFC 5321 §4.2 Greeting literal", as::greeting, "220 [192.0.2.1] ready", errc::ok},
    {__LINE__, "RFC 5321 §4.2 Greeting multi-line", as::greeting, "220-mx.example.test ESMTP\r\n220-more\r\n220",
     errc::ok},
    {__LINE__, "RFC 5321 §4.2 Greeting without domain", as::greeting, "220 ", errc::reply_text, 3},
    {__LINE__, "RFC 5321 §4.2 Greeting with text only", as::greeting, "220 Welcome!", errc::greeting_domain, 11},
    {__LINE__, "RFC 5321 §4.2 Greeting 554", as::greeting, "554 no service", errc::ok},
    {__LINE__, "RFC 5321 §4.2 Greeting SP without text", as::greeting, "220 mx.example.test ", errc::reply_text, 19},
    {__LINE__, "RFC 5321 §4.2 Greeting SP without text lenient", as::greeting, "220 mx.example.test ", errc::ok, -1,
     lenient::trailing_whitespace},
    // EHLO response §4.1.1.1
    {__LINE__, "RFC 5321 §4.1.1.1 ehlo-ok-rsp single", as::ehlo, "250 mx.example.test", errc::ok},
    {__LINE__, "RFC 5321 §4.1.1.1 ehlo-ok-rsp greet", as::ehlo, "250 mx.example.test greets you", errc::ok},
    {__LINE__, "RFC 5321 §4.1.1.1 ehlo-ok-rsp lines", as::ehlo,
     "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME", errc::ok},
    {__LINE__, "RFC 5321 §4.1.1.1 keyword with '='", as::ehlo, "250-mx.example.test\r\n250 AUTH=PLAIN",
     errc::ehlo_keyword, 29},
    {__LINE__, "RFC 5321 §4.1.1.1 keyword starting with '-'", as::ehlo, "250-mx.example.test\r\n250 -X",
     errc::ehlo_keyword, 25},
    {__LINE__, "RFC 5321 §4.1.1.1 empty param", as::ehlo, "250-mx.example.test\r\n250 SIZE ", errc::ehlo_param, 30},
    {__LINE__, "RFC 5321 §4.1.1.1 two SP before a param", as::ehlo, "250-mx.example.test\r\n250 AUTH  PLAIN",
     errc::ehlo_param, 30},
    {__LINE__, "RFC 1870 §4 SIZE param not a number", as::ehlo, "250-mx.example.test\r\n250 SIZE big", errc::ehlo_param,
     30},
    {__LINE__, "RFC 5321 §4.1.1.1 not 250", as::ehlo, "550 no", errc::ehlo_domain, 0},
    {__LINE__, "RFC 5321 §4.1.1.1 no domain", as::ehlo, "250 Hello!", errc::ehlo_domain, 9},
    {__LINE__, "RFC 5321 §4.1.1.1 code alone", as::ehlo, "250", errc::ehlo_domain, 3},
    {__LINE__, "RFC 5321 §4.1.1.1 last line code alone", as::ehlo, "250-mx.example.test\r\n250", errc::ehlo_keyword,
     24},
};

class reply_table : public ::testing::TestWithParam<reply_case> {};

diagnostic run(const reply_case& c, parse_options opts) {
  switch (c.kind) {
    case as::reply: return parse_reply(c.input, opts).diag;
    case as::greeting: return parse_greeting(c.input, opts).diag;
    case as::ehlo: return parse_ehlo_reply(c.input, opts).diag;
  }
  return {};
}

TEST_P(reply_table, parses_with_the_named_rule) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  parse_options opts;
  opts.relax = c.relax;
  diagnostic d = run(c, opts);
  EXPECT_EQ(d.rule(), rule_id(c.expect)) << "input: " << c.input;
  if (c.offset >= 0 && !d.ok()) EXPECT_EQ(d.offset, static_cast<std::uint32_t>(c.offset));
  if (c.relax != lenient::none) EXPECT_FALSE(run(c, {}).ok());
  // The same reply streamed: framed at every split, then assembled line by
  // line, must give the same verdict for replies whose lines each parse.
  if (c.kind == as::reply && !c.input.empty()) {
    std::string wire = c.input + "\r\n";
    for (std::size_t k = 0; k <= wire.size(); ++k) {
      auto lines = test::frame({std::string_view(wire).substr(0, k), std::string_view(wire).substr(k)}, 512, opts);
      reply_assembler a;
      errc first = errc::ok;
      bool complete = false;
      for (auto& l : lines) {
        auto st = a.feed(l.line, l.ending, opts);
        if (first == errc::ok) first = st.diag.code;
        if (st.complete) {
          complete = true;
          break;
        }
      }
      if (c.expect == errc::ok) {
        EXPECT_TRUE(complete) << "split at " << k;
        EXPECT_EQ(first, errc::ok) << "split at " << k;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(rfc5321, reply_table, ::testing::ValuesIn(cases));

struct esc_case {
  int line;
  std::string text;
  bool present;
  errc expect;
  int cls, subject, detail;
};

const esc_case esc_cases[] = {
    {__LINE__, "2.1.0 Ok", true, errc::ok, 2, 1, 0},
    {__LINE__, "5.7.1 Relaying denied", true, errc::ok, 5, 7, 1},
    {__LINE__, "4.4.2", true, errc::ok, 4, 4, 2},
    {__LINE__, "5.123.456 text", true, errc::ok, 5, 123, 456},
    {__LINE__, "3.0.0 no such class", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "2.1 short", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "2.1.0000 long", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "2.1.0x", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "5.01.1 leading zero", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "5.0.01 leading zero", true, errc::enhanced_code, 0, 0, 0},
    {__LINE__, "5.0.0 zeros", true, errc::ok, 5, 0, 0},
    {__LINE__, "OK", false, errc::ok, 0, 0, 0},
    {__LINE__, "8BITMIME", false, errc::ok, 0, 0, 0},
};

TEST(enhanced_status, rfc3463_section2) {
  for (const auto& c : esc_cases) {
    SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (RFC 3463 §2)");
    auto r = parse_enhanced_status(c.text);
    EXPECT_EQ(r.value.present, c.present);
    EXPECT_EQ(r.diag.code, c.expect);
    if (r.ok() && c.present) {
      EXPECT_EQ(r.value.cls, c.cls);
      EXPECT_EQ(r.value.subject, c.subject);
      EXPECT_EQ(r.value.detail, c.detail);
    }
  }
}

TEST(ehlo_reply, extensions_and_parameters) {
  auto r = parse_ehlo_reply(
      "250-mx.example.test Hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN "
      "CRAM-MD5\r\n"
      "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-CUSTOM a b\r\n250 CHUNKING");
  ASSERT_TRUE(r.ok()) << r.diag.rule() << " at " << r.diag.offset;
  EXPECT_EQ(r.value.domain, "mx.example.test");
  EXPECT_EQ(r.value.greet, "Hello");
  EXPECT_TRUE(r.value.has(extension::pipelining));
  EXPECT_TRUE(r.value.has(extension::chunking));
  EXPECT_FALSE(r.value.has(extension::dsn));
  EXPECT_EQ(r.value.size_limit, 35882577u);
  EXPECT_EQ(r.value.auth_mechanisms, "PLAIN LOGIN CRAM-MD5");
  EXPECT_EQ(r.value.keywords, 8u);
  ehlo_keywords kws(r.value.raw);
  ehlo_keyword kw;
  std::vector<std::string_view> names;
  while (kws.next(kw)) names.push_back(kw.keyword);
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(names[6], "X-CUSTOM");
}

TEST(ehlo_reply, size_limit_saturates) {
  // RFC 1870 §4: 20 digits may pass 2^64-1; the limit saturates like MAIL SIZE=.
  auto r = parse_ehlo_reply("250-mx.example.test\r\n250 SIZE 40181850011852545036");
  ASSERT_TRUE(r.ok()) << r.diag.rule();
  EXPECT_TRUE(r.value.size_declared);
  EXPECT_EQ(r.value.size_limit, UINT64_MAX);
  EXPECT_EQ(parse_ehlo_reply("250-mx.example.test\r\n250 SIZE 18446744073709551615").value.size_limit, UINT64_MAX);
  EXPECT_EQ(parse_ehlo_reply("250-mx.example.test\r\n250 SIZE 0042").value.size_limit, 42u);
}

TEST(ehlo_reply, keeps_extensions_when_a_line_has_no_text) {
  // Postfix's smtp-sink ends its response with "250 ": the textstring of
  // RFC 5321 §4.2 is 1*(...), so the line is reported, and what the other
  // lines advertise is still read, as a client reads it.
  auto r = parse_ehlo_reply("250-sink.example.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 ");
  EXPECT_EQ(r.diag.code, errc::reply_text);
  EXPECT_EQ(r.value.domain, "sink.example.test");
  EXPECT_TRUE(r.value.has(extension::pipelining));
  EXPECT_TRUE(r.value.has(extension::auth));
  EXPECT_EQ(r.value.auth_mechanisms, "PLAIN LOGIN");
  // A line that is no reply line at all still leaves nothing to read.
  auto broken = parse_ehlo_reply("250-sink.example.test\r\n25x PIPELINING");
  EXPECT_FALSE(broken.ok());
  EXPECT_FALSE(broken.value.has(extension::pipelining));
}

TEST(ehlo_reply, keeps_extensions_after_a_bad_keyword) {
  auto r = parse_ehlo_reply("250-mx.example.test\r\n250-AUTH=PLAIN LOGIN\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING");
  EXPECT_EQ(r.diag.code, errc::ehlo_keyword);
  EXPECT_TRUE(r.value.has(extension::pipelining));
  EXPECT_TRUE(r.value.has(extension::auth));
}

// RFC 5321 §4.1.1.1: keywords and parameters compare without regard to case;
// the obsolete "AUTH=" form (before RFC 2554) names its keyword too.
TEST(ehlo_reply, keyword_lines_name_keywords_and_list_parameters) {
  ehlo_keywords kws("250-mx.example.test\r\n250-auth PLAIN login\r\n250-AUTH=LOGIN CRAM-MD5\r\n250 SIZE");
  ehlo_keyword kw;
  ASSERT_TRUE(kws.next(kw));
  EXPECT_TRUE(kw.names("AUTH"));
  EXPECT_FALSE(kw.names("AUT"));
  EXPECT_TRUE(kw.lists("LOGIN"));
  EXPECT_TRUE(kw.lists("plain"));
  EXPECT_FALSE(kw.lists("LOG"));
  ASSERT_TRUE(kws.next(kw));
  EXPECT_EQ(kw.keyword, "AUTH=LOGIN") << "what the line holds stays as it is";
  EXPECT_TRUE(kw.names("auth"));
  EXPECT_TRUE(kw.lists("login")) << "the first parameter follows the '='";
  EXPECT_TRUE(kw.lists("CRAM-MD5"));
  ASSERT_TRUE(kws.next(kw));
  EXPECT_TRUE(kw.names("size"));
  EXPECT_FALSE(kw.lists(""));
  EXPECT_FALSE(kws.next(kw));
}

TEST(reply_assembler, reports_line_endings_and_mismatch) {
  reply_assembler a;
  auto s1 = a.feed("250-a", line_ending::crlf);
  EXPECT_FALSE(s1.complete);
  auto s2 = a.feed("251 b", line_ending::lf);
  EXPECT_TRUE(s2.complete);
  EXPECT_EQ(s2.diag.code, errc::reply_line_ending);
  auto s3 = a.feed("250 ok", line_ending::crlf);
  EXPECT_TRUE(s3.complete);
  EXPECT_TRUE(s3.diag.ok());
}

TEST(reply_assembler, a_fault_in_the_text_does_not_end_the_reply) {
  // Exim 4.96 quotes a refused recipient, 8-bit octet and all, inside a
  // multi-line 503: the line is reported, and the reply goes on.
  reply_assembler a;
  EXPECT_FALSE(a.feed("503-All RCPT commands were rejected with this error:", line_ending::crlf).complete);
  auto bad = a.feed("503-501 @\xa2: domain missing or malformed", line_ending::crlf);
  EXPECT_EQ(bad.diag.code, errc::reply_text);
  EXPECT_FALSE(bad.complete);
  auto last = a.feed("503 Valid RCPT command must precede DATA", line_ending::crlf);
  EXPECT_TRUE(last.complete);
  EXPECT_TRUE(last.diag.ok());
  // A line that is no reply line still ends it.
  reply_assembler b;
  EXPECT_FALSE(b.feed("250-a", line_ending::crlf).complete);
  EXPECT_TRUE(b.feed("2x0-b", line_ending::crlf).complete);
}

}  // namespace
}  // namespace smtpkit
