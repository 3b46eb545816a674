// report_test.cpp — the report model and its writers: XML escaping, the
// dialogues report (a case per rule), verdicts against --fail-on, and the
// JUnit document's counts and times for every kind of case. (The JUnit output
// as a whole is validated against conformance/test/junit.xsd by
// cli/test/test_check.py.)
#include "smtpkit/conformance/report.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace smtpkit::conformance {
namespace {

TEST(report, xml_escape) { EXPECT_EQ(xml_escape("<a&\"b'>"), "&lt;a&amp;&quot;b&apos;&gt;"); }

// XML 1.0 §2.2: C0 controls but TAB, LF, CR, and U+FFFE/U+FFFF are not characters.
TEST(report, xml_escape_keeps_only_xml_characters) {
  EXPECT_EQ(xml_escape(std::string_view("a\0b\x1b"
                                        "c\td",
                                        7)),
            "a?b?c\td");
  EXPECT_EQ(xml_escape("x\xEF\xBF\xBEy\xEF\xBF\xBFz"), "x?y?z");
  EXPECT_EQ(xml_escape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(xml_escape("bad \xFF utf8"), "bad ? utf8");
}

// RFC 5321 §4.1.4: MAIL before EHLO/HELO (client.sequence.no-ehlo, MUST).
session_report mail_before_ehlo() {
  auto t = read_transcript(
      "S: 220 mx.example.test ESMTP\n"
      "C: MAIL FROM:<a@example.test>\n"
      "S: 503 5.5.1 EHLO first\n"
      "C: QUIT\n"
      "S: 221 bye\n",
      "mail-first.smtp");
  EXPECT_TRUE(t.ok());
  auto s = check_transcript(*t.value);
  s.elapsed = std::chrono::microseconds(1234567);
  return s;
}

std::string junit(const report& r, level fail_on = level::must) {
  std::ostringstream out;
  write_junit(out, r, {fail_on, false});
  return out.str();
}

std::size_t occurrences(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(report, dialogues_report_has_a_case_per_rule_with_its_findings) {
  const report r = dialogues_report({mail_before_ehlo()});
  ASSERT_EQ(r.suites.size(), 1u);
  const auto& cases = r.suites[0].cases;
  auto it =
      std::find_if(cases.begin(), cases.end(), [](const report_case& c) { return c.id == "client.sequence.no-ehlo"; });
  ASSERT_NE(it, cases.end());
  EXPECT_EQ(it->result, outcome::fail);
  ASSERT_EQ(it->findings.size(), 1u);
  EXPECT_EQ(r.dialogues[0].findings[it->findings[0]].r().id, "client.sequence.no-ehlo");
  // A side's grammar rules fold into one case.
  EXPECT_EQ(std::count_if(cases.begin(), cases.end(), [](const report_case& c) { return c.id == "client.grammar"; }),
            1);
  EXPECT_TRUE(failed(r, level::must));
}

TEST(report, junit_suite_carries_its_real_time) {
  const report r = dialogues_report({mail_before_ehlo()});
  const std::string x = junit(r);
  EXPECT_NE(x.find("<testsuite name=\"mail-first.smtp\""), std::string::npos) << x;
  EXPECT_NE(x.find("time=\"1.235\">"), std::string::npos) << x;
  EXPECT_NE(x.find("<testsuites name=\"smtpkit check\""), std::string::npos) << x;
}

TEST(report, replay_replies_are_a_suite_of_their_own_and_counted) {
  report r = dialogues_report({mail_before_ehlo()}, "smtpkit replay");
  report_case c;
  c.kind = case_kind::replies;
  c.id = "replay.replies";
  c.classname = "smtpkit.replay";
  c.file = "rec.smtp";
  c.result = outcome::fail;
  c.reason = "reply 250 expected";
  c.dialogue = 0;
  c.mismatches.push_back({4, "reply 250", "550 no\nsecond line"});
  r.suites.push_back({"rec.smtp (replies)", no_dialogue, {c}, std::chrono::microseconds(0)});
  const std::string x = junit(r);
  const std::size_t tests = r.suites[0].cases.size() + 1;
  EXPECT_NE(x.find("<testsuites name=\"smtpkit replay\" tests=\"" + std::to_string(tests) + "\" failures=\"2\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("rec.smtp:4: reply differs: expected reply 250, received 550 no/second line"), std::string::npos)
      << x;
  EXPECT_TRUE(failed(r, level::must));
  r.dialogues[0].findings.clear();
  EXPECT_TRUE(failed(r, level::must)) << "a differing reply fails a replay on its own";
}

TEST(report, scenarios_count_failures_errors_and_skips_by_level) {
  report r;
  r.kind = report_kind::scenarios;
  r.tool = "smtpkit probe server";
  r.target.name = "127.0.0.1:2525";
  report_suite g;
  g.name = "Basics";
  auto scenario = [](std::string id, outcome o, level failed_level) {
    report_case c;
    c.kind = case_kind::scenario;
    c.id = std::move(id);
    c.classname = "smtpkit.probe.basics";
    c.result = o;
    c.failed_level = failed_level;
    c.reason = "because";
    c.elapsed = std::chrono::milliseconds(250);
    return c;
  };
  g.cases = {scenario("a", outcome::pass, level::must), scenario("b", outcome::fail, level::must),
             scenario("c", outcome::fail, level::should), scenario("d", outcome::not_applicable, level::must),
             scenario("e", outcome::error, level::must)};
  g.elapsed = std::chrono::microseconds(1250000);
  r.suites.push_back(g);
  const std::string must = junit(r, level::must);
  EXPECT_NE(must.find("tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"1.250\""), std::string::npos)
      << must;
  EXPECT_EQ(occurrences(must, "<failure "), 1u);
  EXPECT_NE(must.find("FAIL (SHOULD, below --fail-on)"), std::string::npos) << must;
  EXPECT_NE(must.find("time=\"0.250\""), std::string::npos) << must;
  const std::string should = junit(r, level::should);
  EXPECT_EQ(occurrences(should, "<failure "), 2u);
  EXPECT_TRUE(failed(r, level::must));  // the error fails at any level
  r.suites[0].cases.pop_back();
  r.suites[0].cases[1].result = outcome::pass;
  EXPECT_FALSE(failed(r, level::must));
  EXPECT_TRUE(failed(r, level::should));
}

TEST(report, replay_text_shows_the_recorded_and_the_received_reply_side_by_side) {
  report r = dialogues_report({mail_before_ehlo()}, "smtpkit replay");
  report_case c;
  c.kind = case_kind::replies;
  c.file = "rec.smtp";
  c.result = outcome::fail;
  c.dialogue = 0;
  c.mismatches.push_back({4, "reply 250", "250-mx.example.test\n250 SMTPUTF8", "250-mx.example.test\n250 8BITMIME"});
  r.suites.push_back({"rec.smtp (replies)", no_dialogue, {c}, std::chrono::microseconds(0)});
  std::ostringstream out;
  write_text(out, r, {});
  const std::string t = out.str();
  EXPECT_NE(t.find("rec.smtp:4: reply differs: expected reply 250, received 250-mx.example.test/250 SMTPUTF8\n"
                   "    recorded            | received\n"
                   "    250-mx.example.test | 250-mx.example.test\n"
                   "  ! 250 8BITMIME        | 250 SMTPUTF8\n"),
            std::string::npos)
      << t;
}

}  // namespace
}  // namespace smtpkit::conformance
