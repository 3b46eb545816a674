// script_behaviour_test.cpp — the script behaviour driven directly: client
// octets in, actions out, no sockets. Replay (S: sent, C:/C=/C~ expected,
// mismatch policy, captures, @tls, hand-over to the reference server),
// rules (triggers, counters per server and per session, session=, nth=,
// times=, after=, chance= with @seed, tls=/auth=, @fallback, accepted
// commands reaching the reference), faults as actions, and events.
#include "script_behaviour.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "smtpkit/mock/common/event_log.hpp"
#include "smtpkit/mock/server/config.hpp"
#include "storage.hpp"

namespace smtpkit::mock {
namespace {

std::shared_ptr<script_set> scripts(std::initializer_list<std::pair<std::string, std::string>> texts) {
  std::vector<script> v;
  for (const auto& [name, text] : texts) {
    auto r = load_script(text, name, side::server);
    if (auto* e = std::get_if<script_error>(&r)) ADD_FAILURE() << e->to_string();
    else v.push_back(std::move(std::get<script>(r)));
  }
  return std::make_shared<script_set>(std::move(v));
}

std::shared_ptr<script_set> script_of(const std::string& text) { return scripts({{"t.smtp", text}}); }

// Octets the actions put on the wire, in order.
std::string wire(const std::vector<action>& list) {
  std::string s;
  for (const auto& a : list)
    if (a.kind == act::write || a.kind == act::throttle) s += a.bytes;
  return s;
}

bool has(const std::vector<action>& list, act k) {
  for (const auto& a : list)
    if (a.kind == k) return true;
  return false;
}

// One session: a behaviour over a reference server that stores nothing,
// events in a temporary file.
class session_fixture {
 public:
  session_fixture(std::shared_ptr<script_set> set, std::size_t ordinal = 1, bool tls = false)
      : events_path_(temp_name()),
        events_(events_path_),
        store_(message_store::discard(true)),
        env_{cfg_, *store_, events_, "s00000" + std::to_string(ordinal), "127.0.0.1:1", ordinal, false, {},
             {},   true,    {}} {
    env_.tls = tls;
    env_.tls_available = true;
    env_.note_finding = [this](conformance::level) { ++findings; };
    beh_ = std::make_unique<script_behaviour>(env_, std::move(set), std::make_unique<reference_server>(env_));
  }
  ~session_fixture() { std::remove(events_path_.c_str()); }

  std::vector<action> greet() {
    actions a;
    beh_->greet(a);
    return a.take();
  }
  std::vector<action> send(std::string_view octets) {
    actions a;
    beh_->receive(octets, a);
    return a.take();
  }
  std::string say(std::string_view octets) { return wire(send(octets)); }
  std::vector<action> tls_started() {
    env_.tls = true;
    actions a;
    beh_->tls_started(a);
    return a.take();
  }
  void close() { beh_->peer_closed(); }
  script_behaviour& beh() { return *beh_; }

  /// Every event so far, one JSON text per line.
  std::string events() {
    events_.flush();
    std::ifstream in(events_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::size_t count(const std::string& needle) {
    std::string e = events();
    std::size_t n = 0;
    for (std::size_t at = e.find(needle); at != std::string::npos; at = e.find(needle, at + 1)) ++n;
    return n;
  }

  int findings = 0;

 private:
  static std::string temp_name() {
    char name[] = "/tmp/smtpkit-script-test-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd >= 0) ::close(fd);
    return name;
  }
  server_config cfg_;
  std::string events_path_;
  event_log events_;
  std::unique_ptr<message_store> store_;
  session_env env_;
  std::unique_ptr<script_behaviour> beh_;
};

const char* const replay =
    "S: 220 mx.example.test ESMTP\n"
    "C~ EHLO {client}\n"
    "S: 250-mx.example.test greets {client}\n"
    "S: 250 PIPELINING\n"
    "C: MAIL FROM:<a@example.test>\n"
    "S: 250 2.1.0 Ok\n"
    "C: RCPT TO:<b@example.test>\n"
    "S: 250 2.1.5 Ok\n"
    "C: DATA\n"
    "S: 354 go ahead\n"
    "C: Subject: t\n"
    "C:\n"
    "C= body with a bare LF\\n\n"
    "C: and a CRLF line\n"
    "C: .\n"
    "S: 250 2.0.0 queued\n"
    "C: QUIT\n"
    "S: 221 2.0.0 bye\n"
    "@close S\n";

TEST(replay, plays_server_records_and_expects_client_records) {
  session_fixture s(script_of(replay));
  EXPECT_EQ(wire(s.greet()), "220 mx.example.test ESMTP\r\n");
  EXPECT_EQ(s.say("EHLO Client.Example\r\n"), "250-mx.example.test greets Client.Example\r\n250 PIPELINING\r\n")
      << "a C~ capture is sent back in later S: records, in the client's case";
  EXPECT_EQ(s.say("MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n")
      << "pipelined lines: one write with every reply";
  EXPECT_TRUE(s.beh().busy()) << "inside the mail data";
  EXPECT_EQ(s.say("Subject: t\r\n\r\nbody with a bare LF\nand a CRLF line\r\n.\r\n"), "250 2.0.0 queued\r\n");
  auto last = s.send("QUIT\r\n");
  EXPECT_EQ(wire(last), "221 2.0.0 bye\r\n");
  EXPECT_TRUE(has(last, act::close));
  EXPECT_EQ(s.findings, 0);
  EXPECT_EQ(s.count("\"step_line\":17"), 1u) << s.events();
}

TEST(replay, any_split_of_the_client_octets_gives_the_same_replies) {
  const std::string client =
      "EHLO c.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
      "Subject: t\r\n\r\nbody with a bare LF\nand a CRLF line\r\n.\r\nQUIT\r\n";
  session_fixture whole(script_of(replay));
  std::string expected = wire(whole.greet());
  expected += whole.say(client);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 13u}) {
    session_fixture s(script_of(replay));
    std::string got = wire(s.greet());
    for (std::size_t at = 0; at < client.size(); at += piece) got += s.say(client.substr(at, piece));
    EXPECT_EQ(got, expected) << "pieces of " << piece;
    EXPECT_EQ(s.findings, 0) << "pieces of " << piece;
  }
}

TEST(replay, a_deviating_line_is_a_finding_with_file_line_and_the_line_received) {
  session_fixture s(script_of(replay));
  s.greet();
  s.say("EHLO c.example\r\n");
  EXPECT_EQ(s.say("MAIL FROM:<z@example.test>\r\n"), "503 5.5.1 Unexpected command\r\n");
  EXPECT_EQ(s.findings, 1);
  std::string e = s.events();
  EXPECT_NE(e.find("\"rule\":\"script.mismatch\""), std::string::npos) << e;
  EXPECT_NE(e.find("t.smtp:5"), std::string::npos) << e;
  EXPECT_NE(e.find("\"expected\":\"C: MAIL FROM:<a@example.test>\""), std::string::npos) << e;
  EXPECT_NE(e.find("\"excerpt\":\"MAIL FROM:<z@example.test>\""), std::string::npos) << e;
  EXPECT_EQ(s.say("MAIL FROM:<a@example.test>\r\n"), "250 2.1.0 Ok\r\n") << "the script stayed at the same step";
}

TEST(replay, commands_match_in_any_case_of_verb_tag_and_keywords) {
  // RFC 5321 §2.4, as smtplib writes its commands.
  session_fixture s(script_of(replay));
  s.greet();
  EXPECT_EQ(
      s.say("ehlo c.example\r\nmail FROM:<a@example.test>\r\nrcpt to:<b@example.test>\r\ndata\r\n"),
      "250-mx.example.test greets c.example\r\n250 PIPELINING\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n");
  EXPECT_EQ(s.say("Subject: t\r\n\r\nbody with a bare LF\nand a CRLF line\r\n.\r\nquit\r\n"),
            "250 2.0.0 queued\r\n221 2.0.0 bye\r\n");
  EXPECT_EQ(s.findings, 0) << s.events();
  // The rest stays exact: the address, and a local part's case.
  session_fixture t(script_of(replay));
  t.greet();
  t.say("EHLO c.example\r\n");
  EXPECT_EQ(t.say("MAIL FROM:<A@example.test>\r\n"), "503 5.5.1 Unexpected command\r\n");
  EXPECT_EQ(t.findings, 1);
}

const char* const recorded_message =
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO c.example\n"
    "S: 250-mx.example.test\n"
    "S: 250 SIZE 1000000\n"
    "C: MAIL FROM:<a@example.test> SIZE=120\n"
    "S: 250 2.1.0 Ok\n"
    "C: RCPT TO:<b@example.test>\n"
    "S: 250 2.1.5 Ok\n"
    "C: DATA\n"
    "S: 354 go ahead\n"
    "C: Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
    "C: Message-ID: <1@c.example>\n"
    "C: Subject: t\n"
    "C:\n"
    "C: body\n"
    "C: .\n"
    "S: 250 2.0.0 queued as 1\n"
    "C: QUIT\n"
    "S: 221 2.0.0 bye\n";

const char* const fresh_message =
    "Subject: t\r\nDate: Fri, 2 Jan 2026 10:00:00 +0100\r\nMessage-ID: <22@c.example>\r\n\r\nbody\r\n.\r\n";

TEST(replay, a_fresh_message_with_new_dates_and_ids_matches_and_is_noted) {
  session_fixture s(script_of(recorded_message));
  s.greet();
  EXPECT_EQ(s.say("EHLO c.example\r\nMAIL FROM:<a@example.test> SIZE=131\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"),
            "250-mx.example.test\r\n250 SIZE 1000000\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n")
      << "SIZE goes with the message";
  EXPECT_EQ(s.say(fresh_message), "250 2.0.0 queued as 1\r\n");
  EXPECT_EQ(s.findings, 0) << s.events();
  EXPECT_EQ(s.count("\"varied\":[\"Date\",\"Message-ID\"]"), 1u) << s.events();
  EXPECT_EQ(s.count("\"varied\":[\"SIZE\"]"), 1u) << s.events();
  EXPECT_EQ(s.count("\"event\":\"message\""), 1u) << "stored by the reference, which followed";
}

TEST(replay, strict_data_compares_the_message_and_its_size) {
  session_fixture s(script_of(std::string("@strict-data\n") + recorded_message));
  s.greet();
  EXPECT_EQ(s.say("EHLO c.example\r\nMAIL FROM:<a@example.test> SIZE=131\r\n"),
            "250-mx.example.test\r\n250 SIZE 1000000\r\n503 5.5.1 Unexpected command\r\n");
  EXPECT_EQ(s.findings, 1);
  s.say("MAIL FROM:<a@example.test> SIZE=120\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
  EXPECT_EQ(s.say(fresh_message), "250 2.0.0 queued as 1\r\n");
  EXPECT_EQ(s.findings, 2);
  EXPECT_NE(s.events().find("\"expected\":\"C: Date: Thu, 01 Jan 2026 00:00:00 +0000\""), std::string::npos)
      << s.events();
}

TEST(replay, no_reply_is_written_inside_mail_data) {
  // A message that differs from its first line: every line of it comes,
  // in any pieces, and the only reply is the recorded one at its end.
  session_fixture s(script_of(recorded_message));
  s.greet();
  s.say("EHLO c.example\r\nMAIL FROM:<a@example.test> SIZE=120\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
  std::string other;
  for (int i = 0; i < 12; ++i) other += "RSET line " + std::to_string(i) + " of another message\r\n";
  std::string replies;
  for (std::size_t at = 0; at < other.size(); at += 7) replies += s.say(other.substr(at, 7));
  EXPECT_EQ(replies, "");
  EXPECT_EQ(s.findings, 0);
  EXPECT_EQ(s.say("\r\n.\r\nQUIT\r\n"), "250 2.0.0 queued as 1\r\n221 2.0.0 bye\r\n");
  EXPECT_EQ(s.findings, 1);
  std::string e = s.events();
  EXPECT_NE(e.find("the message differs from the recorded one at its line 1"), std::string::npos) << e;
  EXPECT_NE(e.find("expected C: Subject: t (t.smtp:13)"), std::string::npos) << e;
  // @on-mismatch close: closed at the end of the data, not inside it.
  session_fixture c(script_of(std::string("@on-mismatch close\n") + recorded_message));
  c.greet();
  c.say("EHLO c.example\r\nMAIL FROM:<a@example.test> SIZE=120\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
  auto inside = c.send(other);
  EXPECT_TRUE(inside.empty());
  auto end = c.send(".\r\n");
  EXPECT_EQ(wire(end), "");
  EXPECT_TRUE(has(end, act::close));
}

const char* const recorded_bdat =
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO c.example\n"
    "S: 250-mx.example.test\n"
    "S: 250 CHUNKING\n"
    "C: MAIL FROM:<a@example.test>\n"
    "S: 250 2.1.0 Ok\n"
    "C: RCPT TO:<b@example.test>\n"
    "S: 250 2.1.5 Ok\n"
    "C: BDAT 74 LAST\n"
    "C: Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
    "C: Message-ID: <1@c.example>\n"
    "C:\n"
    "C: body\n"
    "S: 250 2.0.0 queued as 1\n"
    "C: QUIT\n"
    "S: 221 2.0.0 bye\n";

TEST(replay, a_bdat_chunk_is_never_commands_and_its_size_goes_with_the_message) {
  // RFC 3030 §2: the chunk follows its command; the reply follows the chunk.
  session_fixture s(script_of(recorded_bdat));
  s.greet();
  s.say("EHLO c.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n");
  const std::string chunk = "Date: Fri, 2 Jan 2026 10:00:00 +0100\r\nMessage-ID: <222@c.example>\r\n\r\nbody\r\n";
  EXPECT_EQ(s.say("bdat " + std::to_string(chunk.size()) + " last\r\n" + chunk.substr(0, 20)), "");
  EXPECT_EQ(s.say(chunk.substr(20) + "QUIT\r\n"), "250 2.0.0 queued as 1\r\n221 2.0.0 bye\r\n");
  EXPECT_EQ(s.findings, 0) << s.events();
  EXPECT_EQ(s.count("\"varied\":[\"SIZE\"]"), 1u) << s.events();
  EXPECT_EQ(s.count("\"varied\":[\"Date\",\"Message-ID\"]"), 1u) << s.events();
  EXPECT_EQ(s.count("\"event\":\"message\""), 1u) << "the reference followed, chunk and all";
  // A BDAT line the script does not wait for: its chunk is still data, and
  // the one reply comes after it.
  session_fixture t(script_of(recorded_bdat));
  t.greet();
  t.say("EHLO c.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n");
  EXPECT_EQ(t.say("BDAT 12\r\nRSET\r\nQUIT\r\n"), "503 5.5.1 Unexpected command\r\n");
  EXPECT_EQ(t.findings, 1);
}

TEST(replay, an_auth_response_is_compared_exactly) {
  const char* auth =
      "S: 220 x\nC: EHLO c\nS: 250-x\nS: 250 AUTH LOGIN\nC: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\n"
      "C: YWxpY2U=\nS: 334 UGFzc3dvcmQ6\nC: cHc=\nS: 235 2.7.0 ok\n";
  session_fixture s(script_of(auth));
  s.greet();
  EXPECT_EQ(s.say("ehlo c\r\nauth LOGIN\r\n"), "250-x\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(s.say("YWXPY2U=\r\n"), "503 5.5.1 Unexpected command\r\n") << "base64 is case-sensitive";
  EXPECT_EQ(s.say("YWxpY2U=\r\ncHc=\r\n"), "334 UGFzc3dvcmQ6\r\n235 2.7.0 ok\r\n");
  EXPECT_EQ(s.findings, 1);
}

TEST(replay, on_mismatch_policies) {
  {
    session_fixture s(script_of(std::string("@on-mismatch close\n") + replay));
    s.greet();
    auto a = s.send("HELO c.example\r\n");
    EXPECT_EQ(wire(a), "");
    EXPECT_TRUE(has(a, act::close));
  }
  {
    session_fixture s(script_of(std::string("@on-mismatch reply 500 5.5.2 not in the script\n") + replay));
    s.greet();
    EXPECT_EQ(s.say("HELO c.example\r\n"), "500 5.5.2 not in the script\r\n");
  }
}

TEST(replay, a_client_that_closes_early_is_a_finding) {
  session_fixture s(script_of(replay));
  s.greet();
  s.say("EHLO c.example\r\n");
  s.close();
  EXPECT_EQ(s.findings, 1);
  EXPECT_NE(s.events().find("the client closed the connection"), std::string::npos);
}

TEST(replay, the_expected_close_ends_the_dialogue_quietly) {
  session_fixture s(script_of("S: 220 x\nC: QUIT\nS: 221 bye\n@close C\n"));
  s.greet();
  EXPECT_EQ(s.say("QUIT\r\n"), "221 bye\r\n");
  s.close();
  EXPECT_EQ(s.findings, 0);
}

TEST(replay, the_reference_server_takes_over_in_step) {
  session_fixture s(script_of("S: 220 custom banner\nC~ EHLO {*}\nS: 250 custom.example\n"));
  EXPECT_EQ(wire(s.greet()), "220 custom banner\r\n");
  EXPECT_EQ(s.say("EHLO c.example\r\n"), "250 custom.example\r\n");
  EXPECT_FALSE(s.beh().in_dialogue());
  EXPECT_EQ(s.say("MAIL FROM:<a@example.test>\r\n"), "250 2.1.0 Ok\r\n") << "the reference knows the EHLO";
  auto q = s.send("QUIT\r\n");
  EXPECT_EQ(wire(q).substr(0, 4), "221 ");
  EXPECT_TRUE(has(q, act::close));
  EXPECT_NE(s.events().find("\"dialogue\":\"done\""), std::string::npos);
}

TEST(replay, the_reference_follows_the_dialogue_and_stores_what_it_accepted) {
  session_fixture s(script_of(replay));
  s.greet();
  s.say("EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
  s.say("Subject: t\r\n\r\nbody with a bare LF\nand a CRLF line\r\n.\r\n");
  std::string e = s.events();
  EXPECT_EQ(s.count("\"event\":\"message\""), 1u) << e;
  EXPECT_NE(e.find("\"mail_from\":\"a@example.test\""), std::string::npos) << e;
  EXPECT_EQ(e.find("Ok: queued as"), std::string::npos) << "the reference's own reply is neither sent nor reported";
  // A dialogue that refuses the message: not stored.
  session_fixture t(
      script_of("S: 220 x\nC: HELO c\nS: 250 x\nC: MAIL FROM:<a@x.test>\nS: 250 ok\nC: RCPT TO:<b@x.test>\n"
                "S: 250 ok\nC: DATA\nS: 354 go\nC: hi\nC: .\nS: 554 5.7.1 refused\n"));
  t.greet();
  EXPECT_EQ(t.say("HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nhi\r\n.\r\n"),
            "250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n554 5.7.1 refused\r\n");
  EXPECT_EQ(t.count("\"event\":\"message\""), 0u) << t.events();
}

TEST(replay, a_dialogue_that_ends_at_354_leaves_the_message_to_the_reference) {
  session_fixture s(
      script_of("S: 220 x\nC~ EHLO {*}\nS: 250 x\nC~ MAIL FROM:{*}\nS: 250 ok\nC~ RCPT TO:{*}\nS: 250 ok\n"
                "C: DATA\nS: 354 send it\n"));
  s.greet();
  EXPECT_EQ(s.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"),
            "250 x\r\n250 ok\r\n250 ok\r\n354 send it\r\n");
  EXPECT_FALSE(s.beh().in_dialogue());
  EXPECT_EQ(s.say("any\r\nnumber of lines\r\n.\r\n").substr(0, 24), "250 2.0.0 Ok: queued as ");
  EXPECT_EQ(s.count("\"event\":\"message\""), 1u);
}

TEST(replay, tls_starts_after_the_220_and_the_dialogue_goes_on_inside) {
  session_fixture s(script_of("S: 220 x\nC: STARTTLS\nS: 220 go ahead\n@tls\nC: EHLO c\nS: 250 in tls\n"));
  s.greet();
  auto a = s.send("STARTTLS\r\n");
  EXPECT_EQ(wire(a), "220 go ahead\r\n");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.back().kind, act::start_tls);
  EXPECT_EQ(s.say("EHLO injected\r\n"), "") << "RFC 3207 §4.2: octets before the handshake are discarded";
  EXPECT_TRUE(wire(s.tls_started()).empty());
  EXPECT_EQ(s.say("EHLO c\r\n"), "250 in tls\r\n");
}

TEST(replay, implicit_tls_skips_the_leading_tls_record) {
  session_fixture s(script_of("@tls\nS: 220 tls from the start\n"), 1, /*tls=*/true);
  auto a = s.greet();
  EXPECT_EQ(wire(a), "220 tls from the start\r\n");
  EXPECT_FALSE(has(a, act::start_tls));
}

TEST(replay, partial_records_and_bare_lf_replies) {
  session_fixture s(script_of("S= 220 bare\\n\nC= EH\nC: LO c\nS= 250 part\nS= ial\\r\\n\n"));
  EXPECT_EQ(wire(s.greet()), "220 bare\n");
  EXPECT_EQ(s.say("EH"), "") << "a C= record without a line end is taken as it comes";
  EXPECT_EQ(s.say("LO c\r\n"), "250 partial\r\n");
}

TEST(replay, sessions_get_their_own_dialogue_and_the_rest_take_turns) {
  auto set = scripts({{"a.smtp", "S: 220 a\n@session 3\nS: 220 a3\n"}, {"b.smtp", "S: 220 b\n"}});
  EXPECT_EQ(wire(session_fixture(set, 1).greet()), "220 a\r\n");
  EXPECT_EQ(wire(session_fixture(set, 2).greet()), "220 b\r\n");
  EXPECT_EQ(wire(session_fixture(set, 3).greet()), "220 a3\r\n");
  EXPECT_EQ(wire(session_fixture(set, 4).greet()), "220 b\r\n");
}

// --- rules ------------------------------------------------------------------------

TEST(rules, a_rule_answers_before_the_reference_and_captures_are_sent_back) {
  session_fixture s(script_of("@rule RCPT TO:<{user}@blocked.test>{*}\nS: 550 5.7.1 {user} is blocked\n@end\n"));
  EXPECT_EQ(wire(s.greet()).substr(0, 4), "220 ");
  s.say("EHLO c\r\nMAIL FROM:<a@example.test>\r\n");
  EXPECT_EQ(s.say("RCPT TO:<Bob@blocked.test>\r\n"), "550 5.7.1 Bob is blocked\r\n");
  EXPECT_EQ(s.say("RCPT TO:<bob@fine.test>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_NE(s.events().find("\"rule_line\":1"), std::string::npos);
}

TEST(rules, times_counts_per_server_by_default_and_per_session_when_asked) {
  auto grey = script_of("@rule times=1 RCPT TO:{*}\nS: 450 4.2.0 greylisted\n@end\n");
  {
    session_fixture s(grey, 1);
    s.greet();
    s.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "450 4.2.0 greylisted\r\n");
    EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "250 2.1.5 Ok\r\n");
  }
  {
    session_fixture s(grey, 2);
    s.greet();
    s.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "250 2.1.5 Ok\r\n") << "the server already greylisted once";
  }
  auto each = script_of("@rule times=1 per=session RCPT TO:{*}\nS: 450 4.2.0 greylisted\n@end\n");
  for (std::size_t n : {1u, 2u}) {
    session_fixture s(each, n);
    s.greet();
    s.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "450 4.2.0 greylisted\r\n") << "session " << n;
  }
}

TEST(rules, nth_after_and_session) {
  auto set = script_of(
      "@rule nth=2 NOOP\nS: 250 second\n@end\n"
      "@rule after=3 NOOP\nS: 250 later\n@end\n"
      "@rule session=2 @connect\nS: 421 4.3.2 not you\n@close S\n@end\n");
  session_fixture s(set, 1);
  EXPECT_EQ(wire(s.greet()).substr(0, 4), "220 ");
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) got.push_back(s.say("NOOP\r\n"));
  EXPECT_EQ(got[0], "250 Ok\r\n");
  EXPECT_EQ(got[1], "250 second\r\n");
  EXPECT_EQ(got[2], "250 Ok\r\n");
  // A rule counts the lines it sees; the second NOOP went to the first rule.
  EXPECT_EQ(got[3], "250 Ok\r\n");
  EXPECT_EQ(got[4], "250 later\r\n");
  session_fixture t(set, 2);
  auto g = t.greet();
  EXPECT_EQ(wire(g), "421 4.3.2 not you\r\n");
  EXPECT_TRUE(has(g, act::close));
}

TEST(rules, chance_is_deterministic_with_its_seed) {
  const std::string text = "@seed 42\n@rule chance=0.5 NOOP\nS: 250 lucky\n@end\n";
  auto run = [&] {
    session_fixture s(script_of(text));
    s.greet();
    std::string pattern;
    for (int i = 0; i < 32; ++i) pattern += s.say("NOOP\r\n") == "250 lucky\r\n" ? '1' : '0';
    return pattern;
  };
  const std::string a = run();
  EXPECT_EQ(a, run());
  EXPECT_NE(a.find('1'), std::string::npos);
  EXPECT_NE(a.find('0'), std::string::npos);
}

TEST(rules, tls_and_auth_conditions) {
  session_fixture s(
      script_of("@rule tls=no MAIL FROM:{*}\nS: 530 5.7.0 Must issue a STARTTLS command first\n@end\n"
                "@rule auth=no RCPT TO:{*}\nS: 530 5.7.0 Authentication required\n@end\n"));
  s.greet();
  s.say("EHLO c\r\n");
  EXPECT_EQ(s.say("MAIL FROM:<a@x.test>\r\n"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
  auto a = s.send("STARTTLS\r\n");
  EXPECT_EQ(wire(a).substr(0, 4), "220 ");
  s.tls_started();
  s.say("EHLO c\r\n");
  EXPECT_EQ(s.say("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "530 5.7.0 Authentication required\r\n");
  s.say("RSET\r\n");
  EXPECT_EQ(s.say("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n").substr(0, 4), "235 ");
  s.say("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(rules, an_accepting_rule_keeps_the_reference_in_step) {
  session_fixture s(script_of("@rule EHLO {*}\nS: 250-small.example\nS: 250 SIZE 1000\n@end\n"));
  s.greet();
  EXPECT_EQ(s.say("EHLO c\r\n"), "250-small.example\r\n250 SIZE 1000\r\n");
  EXPECT_EQ(s.say("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n") << "the reference saw the EHLO";
  std::string e = s.events();
  EXPECT_NE(e.find("\"text\":\"small.example\""), std::string::npos) << "the reply event is the rule's: " << e;
  EXPECT_EQ(e.find("Hello c"), std::string::npos) << "the reference's own reply is not reported: " << e;
}

TEST(rules, a_refusing_rule_keeps_the_command_from_the_reference) {
  session_fixture s(script_of("@rule MAIL FROM:{*}\nS: 451 4.3.0 try later\n@end\n"));
  s.greet();
  s.say("EHLO c\r\n");
  EXPECT_EQ(s.say("MAIL FROM:<a@x.test>\r\n"), "451 4.3.0 try later\r\n");
  EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n").substr(0, 4), "503 ") << "no transaction was opened";
}

TEST(rules, fallback_puts_the_reference_answer_inside_the_rule) {
  session_fixture s(script_of("@rule {*}\n@pause 300ms\n@rate 100\n@fallback\nS: 250 and one more\n@end\n"));
  s.greet();
  auto a = s.send("NOOP\r\n");
  ASSERT_GE(a.size(), 3u);
  EXPECT_EQ(a[0].kind, act::pause);
  EXPECT_EQ(a[0].delay, std::chrono::milliseconds(300));
  EXPECT_EQ(a[1].kind, act::throttle);
  EXPECT_EQ(a[1].bytes, "250 Ok\r\n") << "no EHLO yet: no enhanced status code";
  EXPECT_EQ(a[1].rate, 100u);
  EXPECT_EQ(wire(a), "250 Ok\r\n250 and one more\r\n");
}

TEST(rules, fallback_passes_the_line_on_to_the_next_rules) {
  // Two scripts: a slow server wrapping every reply, and greylisting.
  auto set = scripts({{"slow.smtp", "@rule {*}\n@pause 100ms\n@fallback\n@end\n"},
                      {"grey.smtp",
                       "@rule times=1 RCPT TO:{*}\nS: 450 4.2.0 greylisted\n@end\n"
                       "@rule EHLO {*}\nS: 250 custom\n@end\n"}});
  session_fixture s(set);
  s.greet();
  auto e = s.send("EHLO c\r\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].kind, act::pause);
  EXPECT_EQ(e[1].bytes, "250 custom\r\n") << "the accepting rule inside the wrap";
  EXPECT_EQ(s.say("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n") << "the reference took the EHLO";
  auto r = s.send("RCPT TO:<b@x.test>\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kind, act::pause);
  EXPECT_EQ(r[1].bytes, "450 4.2.0 greylisted\r\n");
  EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "250 2.1.5 Ok\r\n") << "times=1: the reference, wrapped";
  EXPECT_EQ(s.count("\"script\":\"slow.smtp\",\"rule_line\":1"), 4u) << s.events();
  EXPECT_EQ(s.count("\"script\":\"grey.smtp\",\"rule_line\":1"), 1u) << s.events();
}

TEST(rules, connect_rules_replace_or_wrap_the_greeting) {
  {
    session_fixture s(script_of("@rule @connect\n@pause 1s\n@fallback\n@end\n"));
    auto g = s.greet();
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[0].kind, act::pause);
    EXPECT_EQ(g[1].bytes.substr(0, 4), "220 ");
  }
  {
    session_fixture s(
        script_of("@rule @connect\nS: 554 5.3.2 no service\n@end\nS: 220 dialogue\nC: QUIT\nS: 221 bye\n"));
    EXPECT_EQ(wire(s.greet()), "554 5.3.2 no service\r\n") << "the dialogue's greeting is replaced";
    EXPECT_EQ(s.say("QUIT\r\n"), "221 bye\r\n");
  }
}

TEST(rules, data_rules_answer_the_end_of_data_and_refusals_store_nothing) {
  session_fixture s(script_of("@rule @data\nS: 552 5.2.2 mailbox full\n@end\n"));
  s.greet();
  s.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n");
  EXPECT_EQ(s.say("Subject: x\r\n\r\nhi\r\n.\r\n"), "552 5.2.2 mailbox full\r\n");
  EXPECT_EQ(s.events().find("\"event\":\"message\""), std::string::npos);
  session_fixture u(script_of("@rule @data\nS: 250 2.0.0 taken, says the rule\n@end\n"));
  u.greet();
  u.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n");
  EXPECT_EQ(u.say("hi\r\n.\r\n"), "250 2.0.0 taken, says the rule\r\n");
  EXPECT_EQ(u.count("\"event\":\"message\""), 1u) << "an accepting @data rule stores the message";
  session_fixture t(script_of("@rule @data\n@pause 2s\n@fallback\n@end\n"));
  t.greet();
  t.say("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n");
  auto a = t.send("hi\r\n.\r\n");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, act::pause);
  EXPECT_EQ(a[1].bytes.substr(0, 4), "250 ");
  EXPECT_NE(t.events().find("\"event\":\"message\""), std::string::npos);
}

TEST(rules, a_rule_answering_the_expected_line_replaces_the_dialogues_reply) {
  session_fixture s(script_of(
      "@rule nth=1 RCPT TO:{*}\nS: 450 4.2.0 greylisted\n@end\n"
      "S: 220 x\nC: MAIL FROM:<a@x.test>\nS: 250 ok\nC: RCPT TO:<b@x.test>\nS: 250 recorded\nC: QUIT\nS: 221 bye\n"));
  s.greet();
  s.say("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(s.say("RCPT TO:<b@x.test>\r\n"), "450 4.2.0 greylisted\r\n");
  EXPECT_EQ(s.say("QUIT\r\n"), "221 bye\r\n") << "the dialogue moved past the RCPT and its reply";
  EXPECT_EQ(s.findings, 0);
}

TEST(rules, rules_do_not_look_inside_mail_data) {
  session_fixture s(script_of("@rule QUIT\nS: 221 rule\n@close S\n@end\n" + std::string(replay)));
  s.greet();
  s.say("EHLO c\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
  EXPECT_EQ(s.say("QUIT\r\n"), "") << "a data line, not a command: no rule, no reply";
  EXPECT_EQ(s.findings, 0);
  EXPECT_EQ(s.say(".\r\n"), "250 2.0.0 queued\r\n") << "the recorded reply to the end of data";
  EXPECT_EQ(s.findings, 1) << "the message differs from the recorded one";
}

// --- faults ------------------------------------------------------------------------

TEST(faults, every_fault_is_an_action) {
  session_fixture s(
      script_of("@rule HELO a\n@reset\n@end\n"
                "@rule HELO b\n@hang\n@end\n"
                "@rule HELO d\n@split 4 50ms\nS: 250 split reply\n@end\n"
                "@rule HELO e\nS= 250 bare\\n\n@end\n"
                "@rule HELO f\nS: 421 4.3.2 bye\n@close S\n@end\n"
                "@rule HELO g\nS= 250-mx\\r\\n250-PIPE\n@close S\n@end\n"
                // Last: the reference takes an accepted STARTTLS and waits for TLS.
                "@rule STARTTLS\nS: 220 go\n@stall-tls 3s\n@end\n"));
  s.greet();
  EXPECT_TRUE(has(s.send("HELO a\r\n"), act::reset));
  EXPECT_TRUE(has(s.send("HELO b\r\n"), act::hang));
  auto sp = s.send("HELO d\r\n");
  ASSERT_EQ(sp.size(), 9u) << "5 writes of 4 octets or less, 4 pauses";
  EXPECT_EQ(sp[0].bytes, "250 ");
  EXPECT_EQ(sp[1].kind, act::pause);
  EXPECT_EQ(sp[1].delay, std::chrono::milliseconds(50));
  EXPECT_EQ(wire(sp), "250 split reply\r\n");
  EXPECT_EQ(s.say("HELO e\r\n"), "250 bare\n");
  auto c = s.send("HELO f\r\n");
  EXPECT_EQ(wire(c), "421 4.3.2 bye\r\n");
  EXPECT_TRUE(has(c, act::close));
  auto g = s.send("HELO g\r\n");
  EXPECT_EQ(wire(g), "250-mx\r\n250-PIPE");
  EXPECT_TRUE(has(g, act::close));
  auto st = s.send("STARTTLS\r\n");
  EXPECT_EQ(wire(st), "220 go\r\n");
  ASSERT_TRUE(has(st, act::stall_tls));
  EXPECT_EQ(st.back().delay, std::chrono::milliseconds(3000));
}

}  // namespace
}  // namespace smtpkit::mock

namespace smtpkit::mock {
namespace {

// RFC 5321 §4.1.2: a command with invalid character codes is refused
// (501; 500 where the line itself is unusable), NOOP's and HELP's free
// strings included (§4.1.1.9: a parameter string is ignored, not its
// invalid octets). The in-process fuzzer found NOOP and HELP taking them.
TEST(reference, invalid_character_codes_refused_in_noop_and_help) {
  session_fixture s(scripts({}));
  s.greet();
  s.say("EHLO c.example\r\n");
  EXPECT_EQ(s.say(std::string("NOOP \0\r\n", 8)).substr(0, 4), "500 ");
  EXPECT_EQ(s.say("NOOP \x01x\r\n").substr(0, 4), "500 ");
  EXPECT_EQ(s.say(std::string("HELP \0\r\n", 8)).substr(0, 4), "500 ");
  EXPECT_EQ(s.say("HELP \xff\r\n").substr(0, 4), "501 ");
  EXPECT_EQ(s.say("NOOP anything at all\r\n").substr(0, 4), "250 ") << "§4.1.1.9: a parameter string is ignored";
  EXPECT_EQ(s.say("HELP MAIL\r\n").substr(0, 4), "214 ");
}

}  // namespace
}  // namespace smtpkit::mock
