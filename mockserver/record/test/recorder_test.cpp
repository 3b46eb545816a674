// recorder_test.cpp — the recorder's STARTTLS tracker (RFC 3207 §4, RFC 2920
// §3.1): a STARTTLS command line is found in the client's octets in any
// piece sizes, never inside mail data or a BDAT chunk, and the reply that
// answers it is found by counting replies, the greeting first.
#include "proxy.hpp"

#include <gtest/gtest.h>

namespace smtpkit::mock {
namespace {

constexpr auto npos = dialogue_tracker::npos;

TEST(recorder_tracker, finds_starttls_and_the_reply_that_answers_it) {
  dialogue_tracker t;
  EXPECT_EQ(t.server("220 mx ESMTP\r\n").at, npos);
  EXPECT_EQ(t.client("EHLO c\r\n"), npos);
  EXPECT_EQ(t.server("250-mx\r\n250 STARTTLS\r\n").at, npos);
  const std::string c = "STARTTLS\r\n";
  EXPECT_EQ(t.client(c), c.size());
  EXPECT_TRUE(t.starttls_pending());
  auto r = t.server("220 2.0.0 go ahead\r\n\x16\x03\x01");
  EXPECT_EQ(r.at, 20u) << "the split falls after the 220 line";
  EXPECT_EQ(r.code, 220);
  EXPECT_FALSE(t.starttls_pending());
}

TEST(recorder_tracker, pipelined_replies_are_counted) {
  dialogue_tracker t;
  (void)t.server("220 mx\r\n");
  // RSET and NOOP pipelined before STARTTLS (which must come last).
  EXPECT_EQ(t.client("RSET\r\nNOOP\r\nSTARTTLS\r\n"), 22u);
  EXPECT_EQ(t.server("250 reset\r\n").at, npos) << "answers RSET";
  auto r = t.server("250 noop\r\n454 4.7.0 TLS not available\r\n");
  EXPECT_EQ(r.at, 39u);
  EXPECT_EQ(r.code, 454);
}

TEST(recorder_tracker, a_starttls_line_inside_mail_data_is_content) {
  dialogue_tracker t;
  (void)t.server("220 mx\r\n");
  EXPECT_EQ(t.client("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"), npos);
  (void)t.server("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(t.client("Subject: x\r\n\r\nSTARTTLS\r\n"), npos);
  EXPECT_EQ(t.client(".\r\nSTARTTLS\r\n"), 13u) << "after the end of data it is a command again";
  EXPECT_EQ(t.server("250 queued\r\n").at, npos);
  EXPECT_EQ(t.server("220 go\r\n").code, 220);
}

TEST(recorder_tracker, a_bdat_chunk_is_skipped_whole) {
  dialogue_tracker t;
  (void)t.server("220 mx\r\n");
  EXPECT_EQ(t.client("BDAT 10 LAST\r\nSTARTTLS\r\n"), npos) << "the 10 octets are the chunk";
  EXPECT_EQ(t.client("STARTTLS\r\n"), 10u);
}

TEST(recorder_tracker, any_split_of_the_client_octets) {
  const std::string c = "EHLO c\r\nSTARTTLS\r\n";
  for (std::size_t piece = 1; piece <= c.size(); ++piece) {
    dialogue_tracker t;
    (void)t.server("220 mx\r\n");
    std::size_t found = npos;
    for (std::size_t at = 0; at < c.size(); at += piece) {
      auto f = t.client(std::string_view(c).substr(at, piece));
      if (f != npos) found = at + f;
    }
    EXPECT_EQ(found, c.size()) << "pieces of " << piece;
  }
}

}  // namespace
}  // namespace smtpkit::mock
