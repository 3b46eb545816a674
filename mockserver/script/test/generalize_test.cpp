// generalize_test.cpp — recordings made reusable: the client's EHLO name
// (RFC 5321 §4.1.1.1), SIZE (RFC 1870), generated fields (RFC 5322 §3.6),
// boundaries (RFC 2046 §5.1.1) and date-times (RFC 5322 §3.3) become C~
// patterns after their recorded lines; the rest stays line for line.
#include "smtpkit/mock/script/generalize.hpp"

#include <gtest/gtest.h>

#include "smtpkit/mock/script/message_match.hpp"

namespace smtpkit::mock {
namespace {

const char* const recording =
    "# smtpkit record: session s000001, client 127.0.0.1:1, server 127.0.0.1:2\n"
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO host-42.client.example\n"
    "S: 250-mx.example.test\n"
    "S: 250 SIZE 1000000\n"
    "C: MAIL FROM:<a@example.test> SIZE=345\n"
    "S: 250 2.1.0 Ok\n"
    "C: RCPT TO:<b@example.test>\n"
    "S: 250 2.1.5 Ok\n"
    "C: DATA\n"
    "S: 354 go ahead\n"
    "C: Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
    "C: Message-Id: <20260101000000.4242@host-42.client.example>\n"
    "C: Subject: test Thu, 01 Jan 2026 00:00:00 +0000\n"
    "C: X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\n"
    "C: Received: from x\n"
    "C: \\tby y; Thu, 01 Jan 2026 00:00:00 +0000\n"
    "C: Content-Type: multipart/mixed;\n"
    "C: \\tboundary=\"----=_MIME_BOUNDARY_000_4242\"\n"
    "C:\n"
    "C: ------=_MIME_BOUNDARY_000_4242\n"
    "C: Content-Type: text/plain\n"
    "C:\n"
    "C: This is a test mailing, Thu, 01 Jan 2026 00:00:00 +0000 in the body stays.\n"
    "C: ------=_MIME_BOUNDARY_000_4242--\n"
    "C: .\n"
    "S: 250 2.0.0 queued\n"
    "C: QUIT\n"
    "S: 221 bye\n"
    "@close S\n";

TEST(generalize, what_varies_becomes_a_pattern_after_its_recorded_line) {
  auto r = generalize(recording, "rec.smtp");
  ASSERT_TRUE(std::holds_alternative<generalized>(r)) << std::get<script_error>(r).to_string();
  const auto& g = std::get<generalized>(r);
  EXPECT_EQ(g.changed, 11u) << g.text;
  for (const char* want : {
           "# recorded: C: EHLO host-42.client.example\nC~ EHLO {*}\n",
           "C~ MAIL FROM:<a@example.test> SIZE={re:[0-9]+}\n",
           "C~ Date:{*}\n",
           "C~ Message-Id:{*}\n",
           "C~ Subject: test {*}\n",
           "C~ X-Mailer:{*}\n",
           "C~ Received:{*}\n# recorded: C: \\tby y; Thu, 01 Jan 2026 00:00:00 +0000\nC~ \\t{*}\n",
           "C: Content-Type: multipart/mixed;\n",
           "C~ \\tboundary=\"{*}\"\n",
           "C~ --{*}\nC: Content-Type: text/plain\n",
           "C~ --{*}--\n",
           "C: This is a test mailing, Thu, 01 Jan 2026 00:00:00 +0000 in the body stays.\n",
           "C: RCPT TO:<b@example.test>\n",
           "C: QUIT\n",
       })
    EXPECT_NE(g.text.find(want), std::string::npos) << want << "\n---\n" << g.text;
  EXPECT_EQ(g.text.find("# generalized: 11 "), g.text.find('\n') + 1) << "after the leading comments";
}

TEST(generalize, the_result_takes_another_run_of_the_client) {
  auto g = std::get<generalized>(generalize(recording, "rec.smtp"));
  auto loaded = load_script(g.text, "rec.smtp", side::server);
  ASSERT_TRUE(std::holds_alternative<script>(loaded));
  const auto& steps = *std::get<script>(loaded).dialogue_for(1);
  // The message records, as the server would expect them, strictly.
  std::vector<expected_record> message;
  bool in = false;
  for (const auto& s : steps) {
    if (s.kind == op::send && s.bytes.starts_with("354")) {
      in = true;
      continue;
    }
    if (!in || s.kind != op::expect_line) continue;
    if (!s.pat && s.bytes == ".") break;
    message.push_back(s.pat ? expected_record{{}, &*s.pat, s.line}
                            : expected_record{s.bytes + "\r\n", nullptr, s.line});
  }
  const std::string fresh =
      "Date: Fri, 02 Jan 2026 10:11:12 +0100\r\n"
      "Message-Id: <20260102101112.777@other-host.example>\r\n"
      "Subject: test Fri, 02 Jan 2026 10:11:12 +0100\r\n"
      "X-Mailer: swaks v20240101.0 jetmore.org/john/code/swaks/\r\n"
      "Received: from x\r\n"
      "\tby y; Fri, 02 Jan 2026 10:11:12 +0100\r\n"
      "Content-Type: multipart/mixed;\r\n"
      "\tboundary=\"----=_MIME_BOUNDARY_000_777\"\r\n"
      "\r\n"
      "------=_MIME_BOUNDARY_000_777\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "This is a test mailing, Thu, 01 Jan 2026 00:00:00 +0000 in the body stays.\r\n"
      "------=_MIME_BOUNDARY_000_777--\r\n";
  message_rules strict;
  strict.strict = true;
  auto v = compare_message(message, fresh, true, strict);
  EXPECT_TRUE(v.same) << v.expected << " / " << v.received;
  auto tolerant = compare_message(message, fresh, true, {});
  EXPECT_TRUE(tolerant.same) << tolerant.expected << " / " << tolerant.received;
}

TEST(generalize, a_script_that_does_not_read_is_an_error_and_nothing_else_changes) {
  auto bad = generalize("S: 220 \\q\n", "bad.smtp");
  ASSERT_TRUE(std::holds_alternative<script_error>(bad));
  EXPECT_EQ(std::get<script_error>(bad).to_string().substr(0, 11), "bad.smtp:1:");
  const char* plain = "S: 220 x\nC: NOOP\nS: 250 ok\n";
  auto same = std::get<generalized>(generalize(plain, "p.smtp"));
  EXPECT_EQ(same.text, plain);
  EXPECT_EQ(same.changed, 0u);
}

}  // namespace
}  // namespace smtpkit::mock
