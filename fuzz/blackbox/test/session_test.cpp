// session_test.cpp — one fuzzing session against a server that reads lines
// to their CRLF (RFC 5321 §2.3.8 lets it): a write that leaves a line with a
// bare LF open draws no reply, and a run that has seen the server frame so
// stops waiting for one (fuzz/blackbox/src/session.cpp, framing_profile).
// The server is a small Python program on stdin/stdout, as `--exec` runs
// one.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "smtpkit/fuzz/dialogue.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"

namespace smtpkit::fuzz {
namespace {

// Answers each CRLF-ended line (a bare LF stays inside the line); 221 and
// an exit after QUIT.
constexpr const char* k_crlf_server = R"(python3 -u -c '
import sys
out = sys.stdout.buffer
out.write(b"220 crlf.test ESMTP\r\n"); out.flush()
buf = b""
while True:
    chunk = sys.stdin.buffer.read1(4096)
    if not chunk:
        break
    buf += chunk
    while b"\r\n" in buf:
        line, buf = buf.split(b"\r\n", 1)
        if line.upper() == b"QUIT":
            out.write(b"221 bye\r\n"); out.flush(); sys.exit(0)
        ehlo = line[:5].upper() == b"EHLO "
        out.write(b"501 bare LF\r\n" if b"\n" in line else b"250 crlf.test\r\n" if ehlo else b"250 ok\r\n")
        out.flush()
')";

dialogue bare_lf_dialogue() {
  dialogue d;
  d.writes = {{"EHLO fuzz.test\r\n", 0}, {"NOOP\n", 0}, {"X\r\n", 0}, {"QUIT\r\n", 0}};
  return d;
}

// The same line sent whole: nothing is left open, and the one reply to it
// (then QUIT) shows the server read it as one line.
dialogue whole_line_dialogue() {
  dialogue d;
  d.writes = {{"EHLO fuzz.test\r\n", 0}, {"NOOP\nX\r\n", 0}, {"QUIT\r\n", 0}};
  return d;
}

session_options options(framing_profile* framing) {
  session_options o;
  o.target.command = k_crlf_server;
  o.framing = framing;
  // Room for Python to start on a loaded machine (ctest runs this beside
  // the peer tests): waits end when the replies come, and only the one
  // stall the first test expects takes all of it.
  o.reply_timeout = std::chrono::milliseconds(3000);
  o.hang_timeout = std::chrono::milliseconds(2000);
  o.fail_on = fail_level::must;
  return o;
}

TEST(FuzzSession, WaitsForTheBareLfReplyUntilTheServerIsKnown) {
  // Nothing known of the server: the reply the engine counts for "NOOP\n"
  // is waited for, and does not come.
  const session_result r = run_session(bare_lf_dialogue(), options(nullptr));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.stalled);
  EXPECT_FALSE(r.crashed);
  EXPECT_FALSE(r.hung) << r.hang_at;
}

TEST(FuzzSession, LearnsThatTheServerReadsToTheCrlfAndStopsWaiting) {
  framing_profile framing;
  int sessions = 0;
  for (; sessions < 12 && !framing.reads_to_crlf(); ++sessions) {
    const session_result r = run_session(whole_line_dialogue(), options(&framing));
    ASSERT_TRUE(r.connected) << r.error;
    EXPECT_FALSE(r.hung) << r.hang_at;
  }
  // One vote a session, eight needed (more if a session went astray).
  ASSERT_TRUE(framing.reads_to_crlf()) << "not learnt in " << sessions << " sessions";
  const session_result r = run_session(bare_lf_dialogue(), options(&framing));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_FALSE(r.stalled) << "the open line's reply was waited for";
  EXPECT_FALSE(r.hung) << r.hang_at;
  EXPECT_TRUE(r.violations.empty()) << r.violations.front().r().id << ": " << r.violations.front().message;
  EXPECT_EQ(r.replies, 4u) << r.transcript;  // the greeting, EHLO, "NOOP\nX", QUIT
}

}  // namespace
}  // namespace smtpkit::fuzz
