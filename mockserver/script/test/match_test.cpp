// match_test.cpp — what a served script compares: C: records against
// command lines (RFC 5321 §2.4: verbs, the FROM:/TO: tags and ESMTP
// keywords without regard to case; RFC 1870 SIZE with the message), and a
// recorded message against a fresh one (RFC 5322 §3.6 generated fields,
// RFC 2046 §5.1.1 boundaries), one case per line.
#include "smtpkit/mock/script/command_match.hpp"
#include "smtpkit/mock/script/message_match.hpp"

#include <gtest/gtest.h>

namespace smtpkit::mock {
namespace {

using M = command_match;

struct command_case {
  int line;
  const char* rfc;
  std::string expected;
  std::string received;
  M strict;    // sizes compared
  M tolerant;  // sizes not compared
};

const command_case command_cases[] = {
    {__LINE__, "§2.4 exact", "RSET", "RSET", M::exact, M::exact},
    {__LINE__, "§2.4 verb case (smtplib's rset)", "RSET", "rset", M::by_case, M::by_case},
    {__LINE__, "§2.4 verb case, mixed", "QUIT", "QuIt", M::by_case, M::by_case},
    {__LINE__, "§2.4 verb and tag (smtplib's mail FROM:)", "MAIL FROM:<a@example.test>", "mail FROM:<a@example.test>",
     M::by_case, M::by_case},
    {__LINE__, "§2.4 the tag", "RCPT TO:<b@example.test>", "RCPT to:<b@example.test>", M::by_case, M::by_case},
    {__LINE__, "§2.4 a local part is case-sensitive", "RCPT TO:<Bob@example.test>", "RCPT TO:<bob@example.test>",
     M::differ, M::differ},
    {__LINE__, "§2.4 ESMTP keywords", "MAIL FROM:<a@x.test> BODY=8BITMIME", "mail FROM:<a@x.test> body=8BITMIME",
     M::by_case, M::by_case},
    {__LINE__, "§2.4 parameter values stay exact", "MAIL FROM:<a@x.test> BODY=8BITMIME",
     "MAIL FROM:<a@x.test> BODY=8bitmime", M::differ, M::differ},
    {__LINE__, "§2.4 EHLO's domain stays exact", "EHLO client.example", "ehlo Client.example", M::differ, M::differ},
    {__LINE__, "RFC 1870 SIZE goes with the message", "MAIL FROM:<a@x.test> SIZE=300", "mail FROM:<a@x.test> size=312",
     M::differ, M::size_differs},
    {__LINE__, "RFC 1870 the same SIZE", "MAIL FROM:<a@x.test> SIZE=300", "MAIL FROM:<a@x.test> size=300", M::by_case,
     M::by_case},
    {__LINE__, "RFC 1870 SIZE on one side only", "MAIL FROM:<a@x.test> SIZE=300", "MAIL FROM:<a@x.test>", M::differ,
     M::differ},
    {__LINE__, "RFC 1870 other parameters still compared", "MAIL FROM:<a@x.test> SIZE=3 BODY=7BIT",
     "MAIL FROM:<a@x.test> SIZE=4 BODY=8BITMIME", M::differ, M::differ},
    {__LINE__, "RFC 4954 AUTH data stays exact", "AUTH PLAIN AGFsaWNlAHB3", "auth PLAIN AGFsaWNlAHB3", M::by_case,
     M::by_case},
    {__LINE__, "RFC 4954 a response is not a command", "dGVzdA==", "DGVZDA==", M::differ, M::differ},
    {__LINE__, "RFC 3030 §2 BDAT in any case", "BDAT 120 LAST", "bdat 120 last", M::by_case, M::by_case},
    {__LINE__, "RFC 3030 §2 the chunk size goes with the message", "BDAT 120 LAST", "BDAT 131 LAST", M::differ,
     M::size_differs},
    {__LINE__, "RFC 3030 §2 LAST is compared", "BDAT 120 LAST", "BDAT 120", M::differ, M::differ},
    {__LINE__, "§4.1.1 another verb", "RSET", "NOOP", M::differ, M::differ},
    {__LINE__, "§4.1.1 trailing text counts", "NOOP", "NOOP x", M::differ, M::differ},
};

TEST(command_match, verbs_tags_and_keywords_ignore_case) {
  for (const auto& c : command_cases) {
    SCOPED_TRACE(testing::Message() << "line " << c.line << ": " << c.rfc);
    EXPECT_EQ(match_command(c.expected, c.received, true), c.strict);
    EXPECT_EQ(match_command(c.expected, c.received, false), c.tolerant);
  }
}

std::vector<expected_record> records_of(std::string_view text) {
  // "C: x" lines of a message, as a script holds them.
  std::vector<expected_record> out;
  std::size_t n = 0, start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view l = text.substr(start, nl - start);
    out.push_back({std::string(l) + "\r\n", nullptr, ++n});
    start = nl + 1;
  }
  return out;
}

std::string wire(std::string_view text) {
  std::string w;
  for (char c : text) {
    if (c == '\n') w += '\r';
    w += c;
  }
  return w;
}

const char* const recorded =
    "From: a@example.test\n"
    "To: b@example.test\n"
    "Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
    "Message-ID: <one@client.example>\n"
    "Subject: hello\n"
    "X-Mailer: swaks v20201014.0\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n"
    "\tboundary=\"===============111==\"\n"
    "\n"
    "--===============111==\n"
    "Content-Type: text/plain\n"
    "Content-ID: <part1@client.example>\n"
    "\n"
    "Hello.\n"
    "--===============111==--\n";

TEST(message_match, what_clients_generate_is_not_compared_but_noted) {
  const std::string fresh = wire(
      "From: a@example.test\n"
      "Message-Id: <two.and.longer@client.example>\n"
      "To: b@example.test\n"
      "Subject: hello\n"
      "Date: Fri, 02 Jan 2026 10:11:12 +0100\n"
      "X-Mailer: swaks v20240101.0\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/mixed;\n"
      "\tboundary=\"===============22222==\"\n"
      "\n"
      "--===============22222==\n"
      "Content-Type: text/plain\n"
      "Content-ID: <part9@client.example>\n"
      "\n"
      "Hello.\n"
      "--===============22222==--\n");
  auto v = compare_message(records_of(recorded), fresh, true, {});
  EXPECT_TRUE(v.same) << v.expected << " / " << v.received;
  EXPECT_EQ(v.varied, (std::vector<std::string>{"MIME boundary", "Date", "Message-ID", "X-Mailer", "Content-ID"}));
  // The same message again: nothing varied.
  auto same = compare_message(records_of(recorded), wire(recorded), true, {});
  EXPECT_TRUE(same.same);
  EXPECT_TRUE(same.varied.empty());
}

TEST(message_match, anything_else_is_a_difference_at_its_line) {
  std::string changed = wire(recorded);
  changed.replace(changed.find("Hello."), 6, "Hullo.");
  auto v = compare_message(records_of(recorded), changed, true, {});
  EXPECT_FALSE(v.same);
  EXPECT_EQ(v.line, 15u);
  EXPECT_EQ(v.received_line, 15u);
  EXPECT_EQ(v.expected, "C: Hello.");
  EXPECT_EQ(v.received, "Hullo.\\r\\n");
  // A line more, a line less, a bare LF, a subject.
  auto more = compare_message(records_of(recorded), wire(recorded) + "extra\r\n", true, {});
  EXPECT_FALSE(more.same);
  EXPECT_EQ(more.expected, "(the end of the message)");
  EXPECT_EQ(more.received, "extra\\r\\n");
  std::string lf = wire(recorded);
  lf.replace(lf.find("Hello.\r\n"), 8, "Hello.\n");
  EXPECT_FALSE(compare_message(records_of(recorded), lf, true, {}).same) << "line ends are compared";
  std::string subject = wire(recorded);
  subject.replace(subject.find("hello"), 5, "HELLO");
  EXPECT_FALSE(compare_message(records_of(recorded), subject, true, {}).same);
  auto cut = compare_message(records_of(recorded), wire(recorded).substr(0, 40), false, {});
  EXPECT_FALSE(cut.same) << "a message cut short because it grew too long";
  EXPECT_NE(cut.received.find("more octets than the recorded message"), std::string::npos);
}

TEST(message_match, strict_compares_every_octet_and_ignore_adds_fields) {
  std::string fresh = wire(recorded);
  fresh.replace(fresh.find("<one@"), 5, "<two@");
  EXPECT_TRUE(compare_message(records_of(recorded), fresh, true, {}).same);
  message_rules strict;
  strict.strict = true;
  auto v = compare_message(records_of(recorded), fresh, true, strict);
  EXPECT_FALSE(v.same);
  EXPECT_EQ(v.line, 4u);
  std::string subject = wire(recorded);
  subject.replace(subject.find("hello"), 5, "other");
  message_rules ignore;
  ignore.ignore = {"subject"};
  auto w = compare_message(records_of(recorded), subject, true, ignore);
  EXPECT_TRUE(w.same);
  EXPECT_EQ(w.varied, std::vector<std::string>{"Subject"});
}

TEST(message_match, patterns_and_pieces) {
  pattern_error pe;
  auto date = pattern::compile("Date: {*}", pe);
  auto any = pattern::compile("--{*}", pe);
  std::vector<expected_record> e = {
      {"Subject: s\r\n", nullptr, 1}, {{}, &*date, 2}, {"\r\n", nullptr, 3}, {"half ", nullptr, 4},
      {"a line\r\n", nullptr, 5},     {{}, &*any, 6},
  };
  message_rules strict;
  strict.strict = true;
  auto v = compare_message(e, "Subject: s\r\nDate: now\r\n\r\nhalf a line\r\n--x\r\n", true, strict);
  EXPECT_TRUE(v.same) << v.expected << " / " << v.received;
  auto w = compare_message(e, "Subject: s\r\nDate: now\r\n\r\nhalf a line\r\n--x\n", true, strict);
  EXPECT_FALSE(w.same) << "a C~ record matches a CRLF line";
  EXPECT_EQ(w.line, 6u);
}

}  // namespace
}  // namespace smtpkit::mock
