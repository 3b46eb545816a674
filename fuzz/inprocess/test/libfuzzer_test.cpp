// libfuzzer_test.cpp — smtpkit::fuzz without libFuzzer: the custom mutator
// and crossover (output reads back as a transcript, stays within max_size,
// one seed gives one result), the input rule (a transcript's client side,
// else raw octets), and the driver's oracle: planted violations in toy
// servers are reported with their rule (RFC 5321 §4.1.4, §4.3.2), a hang
// when a reply is owed at the close, and nothing on a correct toy server
// or on the reference server over the example's seeds.
#include "smtpkit/fuzz/libfuzzer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "smtpkit/mock/server/standalone.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {
namespace {

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator("corpus/inprocess_server")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

bool reads_back(std::string_view text) {
  read_options ro;
  ro.patterns = true;
  ro.extensions = true;
  return read_transcript(text, "t", ro).ok();
}

std::string mutated(const std::string& in, std::size_t max_size, unsigned seed) {
  std::string buf = in;
  buf.resize(std::max(max_size, in.size()));
  const std::size_t n =
      custom_mutate(reinterpret_cast<std::uint8_t*>(buf.data()), in.size(), max_size, seed, mutator_options{});
  EXPECT_LE(n, max_size);
  buf.resize(n);
  return buf;
}

TEST(custom_mutate, output_reads_back_and_fits) {
  const auto all = seeds();
  ASSERT_FALSE(all.empty());
  for (const std::string& s : all) {
    for (unsigned seed = 0; seed < 300; ++seed) {
      // libFuzzer never asks for less room than the input has.
      const std::size_t max_size = std::max<std::size_t>(s.size(), seed % 3 == 0 ? 64 : 4096);
      const std::string m = mutated(s, max_size, seed);
      ASSERT_FALSE(m.empty());
      ASSERT_LE(m.size(), max_size);
      ASSERT_TRUE(reads_back(m)) << m;
    }
  }
}

TEST(custom_mutate, small_limits_and_odd_inputs) {
  for (const std::string& in : {std::string(), std::string("\xff\x00garbage\\q", 11), std::string("C: \\z\n"),
                                std::string("# only a comment\n"), std::string("EHLO x\r\nMAIL FROM:<>\r\n")}) {
    for (std::size_t max_size : {std::size_t{1}, std::size_t{5}, std::size_t{12}, std::size_t{40}, std::size_t{4096}}) {
      for (unsigned seed = 0; seed < 50; ++seed) {
        const std::string m = mutated(in, std::max(max_size, in.size()), seed);
        ASSERT_TRUE(reads_back(m)) << m;
      }
    }
  }
}

TEST(custom_mutate, one_seed_one_result) {
  const auto all = seeds();
  for (unsigned seed = 0; seed < 100; ++seed) {
    const std::string& s = all[seed % all.size()];
    EXPECT_EQ(mutated(s, 4096, seed), mutated(s, 4096, seed));
  }
  // ... and different seeds give different dialogues.
  std::vector<std::string> seen;
  for (unsigned seed = 0; seed < 50; ++seed) seen.push_back(mutated(all[0], 4096, seed));
  std::sort(seen.begin(), seen.end());
  EXPECT_GT(std::unique(seen.begin(), seen.end()) - seen.begin(), 25);
}

TEST(custom_mutate, a_dialogue_writes_back_as_one) {
  // The text the mutator writes is the dialogue it made: writes survive.
  dialogue d;
  d.writes = {{"EHLO a\r\n", 0}, {"MAIL FROM:<>\r\nRCPT TO:<b@c.test>\r\n", 0}, {"DA", 0}, {"TA\r\n", 0}};
  const dialogue back = input_dialogue(to_transcript_text(d));
  ASSERT_EQ(back.writes.size(), d.writes.size());
  for (std::size_t i = 0; i < d.writes.size(); ++i) EXPECT_EQ(back.writes[i].bytes, d.writes[i].bytes);
}

TEST(custom_crossover, splices_two_dialogues) {
  const std::string a = "C: EHLO a.test\n@pause 0ms\nC: MAIL FROM:<a@a.test>\n@pause 0ms\nC: QUIT\n";
  const std::string b = "C: HELO b.test\n@pause 0ms\nC: RCPT TO:<b@b.test>\n@pause 0ms\nC: NOOP\n";
  bool mixed = false;
  for (unsigned seed = 0; seed < 200; ++seed) {
    std::string out(4096, '\0');
    const std::size_t n = custom_crossover(reinterpret_cast<const std::uint8_t*>(a.data()), a.size(),
                                           reinterpret_cast<const std::uint8_t*>(b.data()), b.size(),
                                           reinterpret_cast<std::uint8_t*>(out.data()), out.size(), seed);
    out.resize(n);
    ASSERT_TRUE(reads_back(out)) << out;
    const dialogue d = input_dialogue(out);
    ASSERT_FALSE(d.writes.empty());
    // Writes of `a` (if any) come first, then writes of `b`.
    bool in_b = false;
    for (const write& w : d.writes) {
      const bool from_b = b.find(w.bytes.substr(0, w.bytes.size() - 2)) != std::string::npos;
      EXPECT_TRUE(from_b || !in_b) << out;
      in_b = in_b || from_b;
      if (from_b && d.writes.front().bytes.find("a.test") != std::string::npos) mixed = true;
    }
    std::string small(24, '\0');
    const std::size_t m = custom_crossover(reinterpret_cast<const std::uint8_t*>(a.data()), a.size(),
                                           reinterpret_cast<const std::uint8_t*>(b.data()), b.size(),
                                           reinterpret_cast<std::uint8_t*>(small.data()), small.size(), seed);
    ASSERT_LE(m, small.size());
    small.resize(m);
    ASSERT_TRUE(reads_back(small)) << small;
  }
  EXPECT_TRUE(mixed);
}

TEST(input_dialogue, transcript_or_raw) {
  EXPECT_TRUE(input_dialogue("").writes.empty());
  const dialogue t = input_dialogue("S: 220 x.test\nC: EHLO a\nS: 250 x.test\nC: QUIT\n");
  ASSERT_EQ(t.writes.size(), 2u);
  EXPECT_EQ(t.writes[1].bytes, "QUIT\r\n");
  const dialogue raw = input_dialogue("EHLO a\r\nQUIT\r\n");  // not a transcript: one write of its octets
  ASSERT_EQ(raw.writes.size(), 1u);
  EXPECT_EQ(raw.writes[0].bytes, "EHLO a\r\nQUIT\r\n");
}

// ---- The oracle --------------------------------------------------------------------------------------------------

// A toy server, one line per command, just enough of RFC 5321 §4.1.4 and
// §4.3.2 for the dialogues below (no DATA); `plant` breaks it on purpose.
// It takes a bare LF as a line end too, as lenient servers do.
enum class plant { none, rcpt_without_mail, malformed_accepted, silent_noop };

session_callbacks toy(plant p) {
  struct state {
    std::string buf;
    bool mail = false;
    bool closed = false;
  };
  auto st = std::make_shared<state>();
  session_callbacks cb;
  cb.greet = [] { return std::string("220 toy.smtpkit.test ESMTP\r\n"); };
  cb.closed = [st] { return st->closed; };
  cb.receive = [st, p](std::string_view in) {
    std::string out;
    st->buf.append(in);
    for (std::size_t eol; !st->closed && (eol = st->buf.find('\n')) != std::string::npos;) {
      std::string line = st->buf.substr(0, eol);
      st->buf.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto is = [&](std::string_view v) { return line.compare(0, v.size(), v) == 0; };
      // RFC 5321 §4.1.2: invalid character codes get 501 ('_' in a domain, 8-bit octets).
      const bool odd = std::any_of(line.begin(), line.end(), [](char c) { return c == '_' || (c & 0x80) != 0; });
      if (odd && p != plant::malformed_accepted) {
        out += "501 Invalid character\r\n";
      } else if (is("EHLO ") || is("HELO ")) {
        out += "250 toy.smtpkit.test\r\n";
      } else if (is("MAIL FROM:<") && line.back() == '>') {
        st->mail = true;
        out += "250 Ok\r\n";
      } else if (is("RCPT TO:<") && line.back() == '>') {
        out += st->mail || p == plant::rcpt_without_mail ? "250 Ok\r\n" : "503 MAIL first\r\n";
      } else if (is("RCPT TO:")) {
        out += "501 Syntax error\r\n";
      } else if (line == "NOOP") {
        if (p != plant::silent_noop) out += "250 Ok\r\n";
      } else if (line == "RSET") {
        st->mail = false;
        out += "250 Ok\r\n";
      } else if (line == "QUIT") {
        out += "221 Bye\r\n";
        st->closed = true;
      } else {
        out += "500 Unrecognised\r\n";
      }
    }
    return out;
  };
  return cb;
}

check_result run(plant p, std::string_view input, oracle_options o = {}) {
  auto s = make_session(toy(p));
  return check_input(*s, input, o);
}

TEST(oracle, reports_rcpt_without_mail) {
  const std::string in = "C: EHLO a.test\n@pause 0ms\nC: RCPT TO:<b@b.test>\n@pause 0ms\nC: QUIT\n";
  const check_result r = run(plant::rcpt_without_mail, in);
  ASSERT_EQ(r.what, verdict::violation);
  EXPECT_EQ(r.finding.r().id, "server.sequence.rcpt-without-mail");
  const std::string text = describe(r);
  EXPECT_NE(text.find("server.sequence.rcpt-without-mail (MUST, RFC 5321 §4.1.4)"), std::string::npos) << text;
  EXPECT_NE(text.find("C: RCPT TO:<b@b.test>"), std::string::npos) << text;  // the input
  EXPECT_NE(text.find("S: 250 Ok"), std::string::npos) << text;              // the live session
  // The input part of the report reads back as the same dialogue.
  EXPECT_EQ(input_dialogue(r.dialogue).bytes(), input_dialogue(in).bytes());
  // The same server, told MAIL first, is fine.
  EXPECT_FALSE(run(plant::rcpt_without_mail,
                   "C: EHLO a.test\n@pause 0ms\nC: MAIL FROM:<a@a.test>\n@pause 0ms\nC: RCPT TO:<b@b.test>\n")
                   .found());
}

TEST(oracle, reports_a_malformed_command_accepted) {
  const check_result r =
      run(plant::malformed_accepted, "C: EHLO a.test\nC: MAIL FROM:<a@a.test>\nC: RCPT TO:<b@b_c.test>\nC: QUIT\n");
  ASSERT_EQ(r.what, verdict::violation);
  EXPECT_EQ(r.finding.r().id, "server.syntax.invalid-character");
  EXPECT_EQ(r.finding.r().lvl, conformance::level::must);
  EXPECT_FALSE(run(plant::none, "C: EHLO a.test\nC: MAIL FROM:<a@a.test>\nC: RCPT TO:<b@b_c.test>\nC: QUIT\n").found());
}

TEST(oracle, reports_a_reply_owed_at_the_close) {
  const std::string in = "C: EHLO a.test\n@pause 0ms\nC: NOOP\n";
  const check_result r = run(plant::silent_noop, in);
  ASSERT_EQ(r.what, verdict::hang);
  EXPECT_EQ(r.hang_at, "NOOP");
  EXPECT_NE(describe(r).find("hang"), std::string::npos);
  oracle_options no_hang;
  no_hang.hang = false;
  EXPECT_FALSE(run(plant::silent_noop, in, no_hang).found());
}

TEST(oracle, nothing_after_a_bare_line_end) {
  // After "NOOP<LF>", which reply answers which command is the engine's
  // inference (oracle.hpp): the planted 250 to RCPT without MAIL that
  // follows is not counted.
  const check_result r = run(plant::rcpt_without_mail, "C: EHLO a.test\nC= NOOP\\n\nC: RCPT TO:<b@b.test>\nC: NOOP\n");
  EXPECT_FALSE(r.found()) << describe(r);
}

TEST(oracle, waived_rules_do_not_count) {
  oracle_options o;
  o.waive = {"server.sequence.rcpt-without-mail"};
  EXPECT_FALSE(run(plant::rcpt_without_mail, "C: EHLO a.test\n@pause 0ms\nC: RCPT TO:<b@b.test>\n", o).found());
}

TEST(oracle, silent_on_a_correct_server) {
  for (const char* in : {
           "C: EHLO a.test\nC: MAIL FROM:<a@a.test>\nC: RCPT TO:<b@b.test>\nC: RSET\nC: QUIT\n",
           "C: EHLO a.test\n@pause 0ms\nC: RCPT TO:<b@b.test>\n@pause 0ms\nC: QUIT\n",
           "C: HELO a.test\nC: MAIL FROM:<a@a.test>\nC: RCPT TO:b@b.test\nC: NOOP\nC: XYZZY\n",
           "C: EHLO a.test\nC: NOOP\nC: QUIT\nC: NOOP\n",  // after 221 nothing is owed
           "C: EHLO a.test\nC= MAIL FROM:<a@a",            // a partial line is owed nothing
       }) {
    const check_result r = run(plant::none, in);
    EXPECT_FALSE(r.found()) << in << "\n" << describe(r);
  }
}

// base64 of "\0user\0" and 590 octets of password: 800 octets.
constexpr const char* kLongPlain =
    "AHVzZXIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH"
    "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw"
    "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH"
    "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw"
    "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH"
    "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw"
    "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHA=";

// The example's server: the reference ESMTP server's behaviour.
session_callbacks reference() {
  struct state {
    std::unique_ptr<mock::behaviour> b;
    bool closed = false;
    std::string take(mock::actions& a) {
      std::string out;
      for (const auto& x : a.take()) {
        if (closed) break;  // nothing is sent after a close (mockserver's session stops there)
        if (x.kind == mock::act::write) out += x.bytes;
        if (x.kind == mock::act::close) closed = true;
      }
      return out;
    }
  };
  auto st = std::make_shared<state>();
  mock::server_config cfg;
  cfg.hostname = "mx.smtpkit.test";
  st->b = mock::make_reference_behaviour(cfg);
  session_callbacks cb;
  cb.greet = [st] {
    mock::actions a;
    st->b->greet(a);
    return st->take(a);
  };
  cb.receive = [st](std::string_view in) {
    mock::actions a;
    st->b->receive(in, a);
    return st->take(a);
  };
  cb.client_closed = [st] {
    st->b->peer_closed();
    st->closed = true;
    return std::string();
  };
  cb.closed = [st] { return st->closed; };
  return cb;
}

TEST(oracle, silent_on_the_reference_server) {
  oracle_options should;
  should.fail_on = conformance::level::should;
  oracle_options must;  // mutants: an empty line gets 501, not 500 (SHOULD, §4.2.4), and so on
  for (const std::string& s : seeds()) {
    auto session = make_session(reference());
    const check_result r = check_input(*session, s, should);
    EXPECT_FALSE(r.found()) << describe(r);
  }
  const auto all = seeds();
  for (unsigned seed = 0; seed < 2000; ++seed) {
    const std::string m = mutated(all[seed % all.size()], 4096, seed);
    auto session = make_session(reference());
    const check_result r = check_input(*session, m, must);
    EXPECT_FALSE(r.found()) << describe(r);
  }
}

TEST(oracle, nothing_after_a_sasl_response_with_a_bare_line_end) {
  // The reference server reads "c210cGtpdA<CR><CR><LF>" as one line; the
  // engine frames a SASL response at the bare CR and would pair every later
  // reply one off (oracle.hpp).
  auto session = make_session(reference());
  const check_result r = check_input(*session,
                                     "C: EHLO a.test\n@pause 0ms\nC: AUTH LOGIN\n@pause 0ms\nC: c210cGtpdA\\r\n"
                                     "@pause 0ms\nC: ==\n@pause 0ms\nC: MAIL FROM:<a@a.test>\n@pause 0ms\n"
                                     "C: RCPT TO:<b@b.test>\n@pause 0ms\nC: DATA\n");
  EXPECT_FALSE(r.found()) << describe(r);
}

TEST(oracle, nothing_after_a_positive_reply_to_an_unread_line) {
  // AUTH PLAIN with an 800-octet initial response (RFC 4954 §4 allows up to
  // 12288): over the engine's 512-octet line, so it cannot follow the
  // server into the transaction pipelined behind it (oracle.hpp).
  const std::string in = "C: EHLO a.test\n@pause 0ms\nC: AUTH PLAIN " + std::string(kLongPlain) +
                         "\nC: MAIL FROM:<a@a.test>\nC: RCPT TO:<b@b.test>\nC: DATA\n@pause 0ms\n"
                         "C: Subject: t\nC:\nC: .\n@pause 0ms\nC: QUIT\n";
  auto session = make_session(reference());
  const check_result r = check_input(*session, in);
  EXPECT_FALSE(r.found()) << describe(r);
}

TEST(oracle, nothing_after_a_command_the_engine_took_for_a_sasl_response) {
  // AUTH in a transaction (refused with 503, RFC 4954 §4) with DATA
  // pipelined behind it: the server reads DATA as a command (354), the
  // engine as the SASL response, and would call the close a reply missing.
  auto session = make_session(reference());
  const check_result r =
      check_input(*session,
                  "C: EHLO a.test\n@pause 0ms\nC: MAIL FROM:<a@a.test>\n@pause 0ms\nC: RCPT TO:<b@b.test>\n"
                  "@pause 0ms\nC: AUTH PLAIN *\nC: DATA\n@pause 0ms\nC: QUIT\n");
  EXPECT_FALSE(r.found()) << describe(r);
}

// What the first in-process runs found in the reference server, fixed:
// NOOP and HELP took NUL and control octets in their free strings (RFC 5321
// §4.1.2 wants 501). HELP with UTF-8 pipelined behind EHLO was the engine's
// mistake (the server had advertised SMTPUTF8 by the time it read it).
TEST(oracle, the_reference_servers_noop_and_help_findings_stay_fixed) {
  for (const char* in :
       {"C: EHLO a.test\nC: HELP \\0\n", "C: EHLO a.test\nC: NOOP x\\x01\n", "C: EHLO a.test\nC: HELP \\xc3\\xa9\n"}) {
    auto session = make_session(reference());
    const check_result r = check_input(*session, in);
    EXPECT_FALSE(r.found()) << describe(r);
  }
}

}  // namespace
}  // namespace smtpkit::fuzz
