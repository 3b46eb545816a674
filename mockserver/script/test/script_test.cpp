// script_test.cpp — script patterns and loading: matching, captures,
// substitution, directives, and errors that say file:line:col.
#include "smtpkit/mock/script/script.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace smtpkit::mock {
namespace {

pattern compile(std::string_view text) {
  pattern_error e;
  auto p = pattern::compile(text, e);
  EXPECT_TRUE(p.has_value()) << text << ": " << e.message;
  return *p;
}

TEST(pattern, literal_wildcard_capture_regex) {
  EXPECT_TRUE(compile("EHLO {*}").match("EHLO client.example"));
  EXPECT_TRUE(compile("EHLO {*}").match("ehlo client.example")) << "verbs are case-insensitive";
  EXPECT_FALSE(compile("EHLO {*}").match("HELO client.example"));
  EXPECT_TRUE(compile("QUIT").match("QUIT"));
  EXPECT_FALSE(compile("QUIT").match("QUIT now")) << "whole-line match";
  captures c;
  ASSERT_TRUE(compile("RCPT TO:<{rcpt}>{*}").match("RCPT TO:<Bob@Example.test> NOTIFY=NEVER", &c));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, "rcpt");
  EXPECT_EQ(c[0].second, "Bob@Example.test") << "captures keep the peer's case";
  EXPECT_TRUE(compile("250{re:[ -]}{*}").match("250-PIPELINING"));
  EXPECT_TRUE(compile("SIZE={re:\\d{1,3}}").match("SIZE=123"));
  EXPECT_FALSE(compile("SIZE={re:\\d{1,3}}").match("SIZE=1234"));
  EXPECT_TRUE(compile("a{{b").match("a{b"));
  EXPECT_TRUE(compile("tab\\there").match("tab\there"));
  EXPECT_TRUE(compile("{*}").match(std::string("any\0thing\xff", 10)));
}

TEST(pattern, errors_give_the_column) {
  for (auto [text, col] : std::vector<std::pair<std::string, std::size_t>>{
           {"EHLO {", 5}, {"a {bad name}", 2}, {"{re:(}", 0}, {"{x} {x}", 4}, {"x\\q", 1}}) {
    pattern_error e;
    EXPECT_FALSE(pattern::compile(text, e).has_value()) << text;
    EXPECT_EQ(e.column, col) << text << ": " << e.message;
  }
}

TEST(pattern, substitution_touches_only_captured_names) {
  captures c{{"rcpt", "bob@example.test"}};
  std::vector<std::string> known{"rcpt"};
  EXPECT_EQ(substitute("250 ok {rcpt}", c, known), "250 ok bob@example.test");
  EXPECT_EQ(substitute("250 {other} {{rcpt}}", c, known), "250 {other} {bob@example.test}");
  EXPECT_EQ(substitute("250 {rcpt}", c, {}), "250 {rcpt}");
}

TEST(script, a_v1_transcript_is_a_script) {
  auto r = load_script("S: 220 mx.example.test\nC: EHLO c.example\nS: 250 mx.example.test\nC= DATA\\r\\n\n@close C\n",
                       "t.smtp", side::server);
  ASSERT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  const auto& s = std::get<script>(r);
  const auto* d = s.dialogue_for(1);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->size(), 5u);
  EXPECT_EQ((*d)[0].kind, op::send);
  EXPECT_EQ((*d)[0].bytes, "220 mx.example.test\r\n");
  EXPECT_EQ((*d)[1].kind, op::expect_line);
  EXPECT_EQ((*d)[1].bytes, "EHLO c.example");
  EXPECT_EQ((*d)[3].kind, op::expect_raw);
  EXPECT_EQ((*d)[4].kind, op::expect_close);
}

TEST(script, rules_sessions_repeat_and_metadata) {
  auto r = load_script(
      "@scenario greylist\n@title Greylisting\n@checks server.reply.unexpected-code\n@requires PIPELINING SIZE\n"
      "@timeout 2s\n@seed 7\n@on-mismatch close\n"
      "@rule times=1 RCPT TO:<{rcpt}>{*}\nS: 450 4.2.0 {rcpt} greylisted\n@end\n"
      "@rule session=2 @connect\nS: 421 4.3.2 busy\n@close S\n@end\n"
      "@rule chance=0.5 per=session @data\n@pause 250ms\nS: 452 4.3.1 full\n@end\n"
      "@session 2\n@repeat 3\nS: 250 ok\n@end\n",
      "r.smtp", side::server);
  ASSERT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  const auto& s = std::get<script>(r);
  EXPECT_EQ(s.meta.id, "greylist");
  EXPECT_EQ(s.meta.requires_, (std::vector<std::string>{"PIPELINING", "SIZE"}));
  EXPECT_EQ(s.meta.timeout, std::chrono::milliseconds(2000));
  EXPECT_TRUE(s.mismatch_closes);
  ASSERT_EQ(s.rules.size(), 3u);
  EXPECT_EQ(s.rules[0].times, 1u);
  EXPECT_EQ(s.rules[1].on, rule_def::trigger::connect);
  EXPECT_EQ(s.rules[1].session, 2u);
  EXPECT_EQ(s.rules[2].on, rule_def::trigger::data);
  EXPECT_TRUE(s.rules[2].per_session);
  EXPECT_EQ(s.rules[2].body[0].kind, op::pause);
  EXPECT_EQ(s.capture_names, std::vector<std::string>{"rcpt"});
  EXPECT_EQ(s.dialogue_for(1), nullptr);
  ASSERT_NE(s.dialogue_for(2), nullptr);
  EXPECT_EQ(s.dialogue_for(2)->size(), 3u);
}

// A script that must not load: the error names this line and column and
// says what was expected.
void expect_load_error(const std::string& text, side plays, std::size_t line, std::size_t col,
                       const std::string& what) {
  auto r = load_script(text, "bad.smtp", plays);
  ASSERT_TRUE(std::holds_alternative<script_error>(r)) << text;
  const auto& e = std::get<script_error>(r);
  EXPECT_EQ(e.line, line) << text << " → " << e.to_string();
  EXPECT_EQ(e.column, col) << text << " → " << e.to_string();
  EXPECT_NE(e.message.find(what), std::string::npos) << e.to_string();
}

TEST(script, errors_say_file_line_col_and_what_was_expected) {
  struct bad {
    std::string text;
    std::size_t line, col;
    std::string what;
  };
  for (const auto& b : std::vector<bad>{
           {"S: 220 x\nC~ EHLO {\n", 2, 9, "expected '}'"},
           {"@pause soon\n", 1, 8, "duration"},
           {"@rule RCPT TO:{*}\nS: 550 no\n", 1, 1, "without @end"},
           {"@rule\nS: 550 no\n@end\n", 1, 6, "expected a pattern"},
           {"@rule nth=0 QUIT\nS: 221 x\n@end\n", 1, 7, "positive number"},
           {"@rule QUIT\nC: QUIT\n@end\n", 2, 1, "cannot expect"},
           {"@end\n", 1, 1, "@end without"},
           {"@frobnicate\n", 1, 1, "unknown directive"},
           {"@rule chance=0.5 QUIT\nS: 221 x\n@end\n", 1, 0, "@seed"},
           {"S~ 220 {*}\n", 1, 1, "cannot be sent"},
           {"@repeat 0\n@end\n", 1, 9, "count"},
           {"@repeat 1000\n@repeat 1000\nS: 250 ok\n@end\n@end\n", 1, 1, "expands to more than 100000 steps"},
           {"@fallback\n", 1, 1, "belongs in a @rule"},
           {"@rule QUIT\n@fallback\n@fallback\n@end\n", 3, 1, "at most one @fallback"},
           {"@rule STARTTLS\nS: 220 go\n@tls\nS: 250 x\n@end\n", 4, 1, "@tls ends a rule"},
           {"@rule tls=maybe QUIT\nS: 221 x\n@end\n", 1, 7, "tls=yes or tls=no"},
           {"@split 0\n", 1, 8, "@split N [GAP]"},
           {"@split 4 soon\n", 1, 10, "duration"},
           {"@on-mismatch reply 503 \\q\n", 1, 24, "escape"},
       }) {
    expect_load_error(b.text, side::server, b.line, b.col, b.what);
  }
}

// Scenario scripts of the probe suites (conformance/server/): the level and
// RFC section of the requirement, a close that counts as a refusal, and the
// end-of-data probe of the client driver.
TEST(script, probe_metadata_and_smuggle) {
  auto r = load_script(
      "@scenario security.smuggling.lf-dot-lf\n@level must\n@rfc RFC 5321 §2.3.8\n@on-close pass\n"
      "@requires PIPELINING !CHUNKING AUTH:PLAIN\n"
      "S~ 220{*}\nC: DATA\nS~ 354{*}\n@smuggle \\n.\\n\n",
      "s.smtp", side::client);
  ASSERT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  const auto& s = std::get<script>(r);
  EXPECT_EQ(s.meta.level, "must");
  EXPECT_EQ(s.meta.rfc, "RFC 5321 §2.3.8");
  EXPECT_TRUE(s.meta.close_passes);
  EXPECT_EQ(s.meta.requires_, (std::vector<std::string>{"PIPELINING", "!CHUNKING", "AUTH:PLAIN"}));
  const auto* d = s.dialogue_for(1);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->size(), 4u);
  EXPECT_EQ(d->back().kind, op::smuggle);
  EXPECT_EQ(d->back().bytes, "\n.\n");

  auto n = load_script("C: MAIL FROM:<a@example.test>\n@needs a server that refuses MAIL before EHLO\nS~ 503{*}\n",
                       "n.smtp", side::client);
  ASSERT_TRUE(std::holds_alternative<script>(n)) << std::get<script_error>(n).to_string();
  const auto* nd = std::get<script>(n).dialogue_for(1);
  ASSERT_EQ(nd->size(), 3u);
  EXPECT_EQ((*nd)[1].kind, op::needs);
  EXPECT_EQ((*nd)[1].bytes, "a server that refuses MAIL before EHLO");

  struct bad {
    std::string text;
    side plays;
    std::size_t line, col;
    std::string what;
  };
  for (const auto& b : std::vector<bad>{
           {"@level maybe\n", side::client, 1, 8, "must, should or may"},
           {"@on-close later\n", side::client, 1, 11, "'pass' or 'fail'"},
           {"@smuggle\n", side::client, 1, 9, "octets to probe"},
           {"@smuggle \\q\n", side::client, 1, 10, "\\"},
           {"@smuggle \\n.\\n\n", side::server, 1, 1, "client side"},
           {"C: DATA\n@smuggle \\n.\\n\nC: QUIT\n", side::client, 3, 1, "ends the dialogue"},
           {"@needs\n", side::client, 1, 7, "what the server must do"},
           {"@needs x\n", side::server, 1, 1, "client side"},
       }) {
    expect_load_error(b.text, b.plays, b.line, b.col, b.what);
  }
}

TEST(script, client_scenario_directives) {
  auto r = load_script(
      "@scenario data.dots\n@client requires-tls !auth\n@serve size=1000 no-pipelining\n"
      "@message From: <{from}>\\n\n@message \\n.a dot\\n\n"
      "@forbid tls=no MAIL FROM:{*}\n@forbid DATA\n@expect body reported exit-failure\nS: 220 mx\n",
      "c.smtp", side::server);
  ASSERT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  const auto& m = std::get<script>(r).meta;
  EXPECT_TRUE(m.has_message);
  EXPECT_EQ(m.message, "From: <{from}>\n\n.a dot\n");  // concatenated, escapes decoded, {from} kept
  EXPECT_EQ(m.message_line, 4u);
  EXPECT_EQ(m.client, (std::vector<std::string>{"requires-tls", "!auth"}));
  EXPECT_EQ(m.serve, (std::vector<std::string>{"size=1000", "no-pipelining"}));
  ASSERT_EQ(m.forbid.size(), 2u);
  EXPECT_EQ(m.forbid[0].tls, when::no);
  EXPECT_TRUE(m.forbid[0].pat.match("mail from:<a@example.test>"));
  EXPECT_EQ(m.forbid[1].tls, when::any);
  EXPECT_EQ(m.expect, (std::vector<std::string>{"body", "reported", "exit-failure"}));

  for (const auto& [text, col, what] : std::vector<std::tuple<std::string, std::size_t, std::string>>{
           {"@client tls\n", 9, "requires-tls, auth, implicit-tls or verifies-cert"},
           {"@client\n", 8, "what the client must be set up for"},
           {"@serve\n", 7, "server options"},
           {"@forbid\n", 8, "command pattern"},
           {"@forbid tls=yes {re:(}\n", 17, ""},
           {"@expect everything\n", 9, "body, delivered"},
           {"@message \\q\n", 10, "\\"},
       })
    expect_load_error(text, side::server, 1, col, what);
}

TEST(script, extensions_fallback_conditions_split_gap) {
  auto r = load_script(
      "@on-mismatch reply 503 5.5.1 not\\x20here\n"
      "@rule tls=no auth=yes MAIL FROM:{*}\n@pause 1s\n@fallback\nS: 250 more\n@end\n"
      "@split 3 100ms\nS: 220 x\n@split off\n",
      "x.smtp", side::server);
  ASSERT_TRUE(std::holds_alternative<script>(r)) << std::get<script_error>(r).to_string();
  const auto& s = std::get<script>(r);
  EXPECT_EQ(s.mismatch_reply, "503 5.5.1 not here");
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].tls, when::no);
  EXPECT_EQ(s.rules[0].auth, when::yes);
  EXPECT_TRUE(s.rules[0].has_fallback);
  EXPECT_EQ(s.rules[0].body[1].kind, op::fallback);
  const auto* d = s.dialogue_for(1);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)[0].kind, op::split);
  EXPECT_EQ((*d)[0].n, 3u);
  EXPECT_EQ((*d)[0].delay, std::chrono::milliseconds(100));
  EXPECT_EQ((*d)[2].n, 0u) << "@split off";
}

TEST(script, durations) {
  EXPECT_EQ(parse_duration("5s"), std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("2m"), std::chrono::milliseconds(120000));
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("5h"));
}

}  // namespace
}  // namespace smtpkit::mock
