// transcript_test.cpp — the dialogue format v1: reading, writing, exact
// round trip of octets, and errors that say file:line:col and what was
// expected.
#include "smtpkit/transcript.hpp"

#include <gtest/gtest.h>

#include <random>

#include "smtpkit/escape.hpp"

namespace smtpkit {
namespace {

TEST(transcript, reads_every_v1_record) {
  auto r = read_transcript(
      "# a comment\n"
      "\n"
      "S: 220 mx.example.test ESMTP\n"
      "C: EHLO client.example\n"
      "C=  partial\\n\n"
      "C:\n"
      "S: 250 trailing spaces  \n"
      "@tls\n"
      "@close C\n",
      "t.smtp");
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  const auto& recs = r.value->records;
  ASSERT_EQ(recs.size(), 7u);
  EXPECT_EQ(recs[0].who, side::server);
  EXPECT_EQ(recs[0].bytes(), "220 mx.example.test ESMTP\r\n");
  EXPECT_EQ(recs[0].line, 3u);
  EXPECT_EQ(recs[2].kind, record_kind::raw);
  EXPECT_EQ(recs[2].bytes(), " partial\n");
  EXPECT_EQ(recs[3].bytes(), "\r\n");
  EXPECT_EQ(recs[4].payload, "250 trailing spaces  ");
  EXPECT_EQ(recs[5].kind, record_kind::directive);
  EXPECT_EQ(recs[5].name, "tls");
  EXPECT_EQ(recs[6].name, "close");
  EXPECT_EQ(recs[6].who, side::client);
  EXPECT_EQ(r.value->bytes(side::client), "EHLO client.example\r\n partial\n\r\n");
}

TEST(transcript, escapes) {
  auto r = read_transcript("C: a\\\\b\\r\\n\\t\\0\\x7F\\xff\n", "t");
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  EXPECT_EQ(r.value->records[0].payload, std::string("a\\b\r\n\t\0\x7f\xff", 9));
}

struct bad_case {
  int line;
  std::string text;
  std::size_t err_line, err_col;
  std::string expect;  // substring of the message
};

const bad_case bad[] = {
    {__LINE__, "X: hello\n", 1, 1, "expected a record"},
    {__LINE__, "S: 220 ok\nC:EHLO x\n", 2, 3, "expected one space after 'C:'"},
    {__LINE__, "C: a\\qb\n", 1, 5, "invalid escape '\\q'"},
    {__LINE__, "C: a\\x4\n", 1, 5, "two hex digits"},
    {__LINE__, "C: trailing\\\n", 1, 12, "expected an escape"},
    {__LINE__, "C: \x01\n", 1, 4, "raw control octet 0x01"},
    {__LINE__, "C: \xff\n", 1, 4, "ill-formed UTF-8"},
    {__LINE__, "@close X\n", 1, 8, "expected 'C' or 'S'"},
    {__LINE__, "@close", 1, 7, "expected 'C' or 'S'"},
    {__LINE__, "@tls now\n", 1, 6, "@tls takes no arguments"},
    {__LINE__, "@rule QUIT\n", 1, 1, "unknown directive '@rule'"},
    {__LINE__, "@pause\n", 1, 7, "expected a duration"},
    {__LINE__, "C~ EHLO {*}\n", 1, 1, "only allowed in scripts"},
    {__LINE__, "C=\n", 1, 3, "needs a payload"},
    {__LINE__, "@close C\r\r\n", 1, 9, "raw control octet in a directive"},
    {__LINE__, "@tls\x01\n", 1, 5, "raw control octet in a directive"},
};

TEST(transcript, errors_say_where_and_what_was_expected) {
  for (const auto& c : bad) {
    SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line);
    auto r = read_transcript(c.text, "bad.smtp");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.line, c.err_line);
    EXPECT_EQ(r.error.column, c.err_col);
    EXPECT_NE(r.error.message.find(c.expect), std::string::npos) << r.error.message;
    EXPECT_EQ(r.error.to_string().rfind("bad.smtp:" + std::to_string(c.err_line) + ":", 0), 0u);
  }
}

TEST(transcript, script_records_when_asked) {
  read_options o;
  o.patterns = true;
  o.extensions = true;
  auto r = read_transcript("C~ RCPT TO:<{rcpt}>\n@pause 5s\n", "s.smtp", o);
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  EXPECT_EQ(r.value->records[0].kind, record_kind::pattern);
  EXPECT_EQ(r.value->records[0].text, "RCPT TO:<{rcpt}>");
  EXPECT_EQ(r.value->records[1].name, "pause");
  EXPECT_EQ(r.value->records[1].args, "5s");
  // Patterns have no escapes: a raw control octet (here a CR) is an error.
  auto rejected = read_transcript("S~ 250\r\r\n", "s.smtp", o);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error.column, 7u);
  EXPECT_NE(rejected.error.message.find("raw control octet in a pattern"), std::string::npos);
  EXPECT_TRUE(read_transcript("S~ 250\t{*}\n", "s.smtp", o).ok());
}

TEST(transcript, crlf_files_read_like_lf_files) {
  auto a = read_transcript("S: 220 x\r\nC: QUIT\r\n", "a");
  auto b = read_transcript("S: 220 x\nC: QUIT\n", "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value->bytes(side::client), b.value->bytes(side::client));
  EXPECT_EQ(a.value->bytes(side::server), b.value->bytes(side::server));
}

// Write then read gives back the same octets, whatever they are and however
// they were split into sends.
TEST(transcript, round_trip_of_arbitrary_octets) {
  std::mt19937 rng(5321);
  const std::string alphabet = std::string("ab \r\n\t\0.\\\x7f\xc3\xa9\xff", 14);
  for (int iter = 0; iter < 500; ++iter) {
    transcript_writer w;
    std::string sent[2];
    int sends = 1 + static_cast<int>(rng() % 8);
    for (int s = 0; s < sends; ++s) {
      side who = (rng() & 1) ? side::client : side::server;
      std::string chunk;
      int len = static_cast<int>(rng() % 20);
      for (int i = 0; i < len; ++i) chunk.push_back(alphabet[rng() % alphabet.size()]);
      w.sent(who, chunk);
      sent[static_cast<int>(who)] += chunk;
      if (rng() % 10 == 0) w.tls();
    }
    std::string text = w.take();
    auto r = read_transcript(text, "rt");
    ASSERT_TRUE(r.ok()) << r.error.to_string() << "\n" << text;
    EXPECT_EQ(r.value->bytes(side::client), sent[0]) << text;
    EXPECT_EQ(r.value->bytes(side::server), sent[1]) << text;
  }
}

TEST(transcript, writer_keeps_order_and_marks_bare_lf) {
  transcript_writer w;
  w.sent(side::server, "220 mx ready\r\n");
  w.sent(side::client, "MAIL FROM:<a@b>\nRC");
  w.sent(side::server, "250 ok\r\n");
  w.sent(side::client, "PT TO:<c@d>\r\n");
  w.close(side::client);
  EXPECT_EQ(w.take(),
            "S: 220 mx ready\n"
            "C= MAIL FROM:<a@b>\\n\n"
            "C= RC\n"
            "S: 250 ok\n"
            "C: PT TO:<c@d>\n"
            "@close C\n");
}

TEST(escape, trailing_space_survives_editors) {
  EXPECT_EQ(escape("250 ok "), "250 ok\\x20");
  EXPECT_EQ(escape("a\tb"), "a\\tb");
  std::string back;
  unescape_error e;
  ASSERT_TRUE(unescape("250 ok\\x20", back, e));
  EXPECT_EQ(back, "250 ok ");
}

}  // namespace
}  // namespace smtpkit
