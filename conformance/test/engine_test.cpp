// engine_test.cpp — the conformance engine on small dialogues: each case
// names the rules it must report, and is fed coalesced, record by record
// and byte by byte with the same findings.
#include "smtpkit/conformance/engine.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "smtpkit/conformance/check.hpp"

namespace smtpkit::conformance {
namespace {

std::multiset<std::string> ids(const session_report& r) {
  std::multiset<std::string> out;
  for (const auto& f : r.findings) out.insert(f.r().id);
  return out;
}

session_report run(const std::string& text, feed_mode mode = feed_mode::record) {
  auto t = read_transcript(text, "case.smtp");
  EXPECT_TRUE(t.ok()) << t.error.to_string();
  return check_transcript(*t.value, {}, mode);
}

// Everything a report shows of a finding, so the three feeds must agree on
// more than the rule ids.
std::vector<std::string> shown(const session_report& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings)
    out.push_back(std::to_string(f.line) + " " + f.r().id + " " + std::to_string(f.offset) + " " + f.message + " | " +
                  f.excerpt);
  return out;
}

struct engine_case {
  int line;
  const char* rfc;
  std::string dialogue;
  std::multiset<std::string> expect;
  std::size_t at = 0;  ///< when set: the dialogue line (1-based) of the first finding
};

const std::string hello =
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO client.example.test\n"
    "S: 250-mx.example.test\n"
    "S: 250-PIPELINING\n"
    "S: 250-SIZE 1000\n"
    "S: 250-8BITMIME\n"
    "S: 250-ENHANCEDSTATUSCODES\n"
    "S: 250-STARTTLS\n"
    "S: 250 AUTH PLAIN LOGIN\n";

const std::string hello_chunking =
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO client.example.test\n"
    "S: 250-mx.example.test\n"
    "S: 250 CHUNKING\n"
    "C: MAIL FROM:<a@example.test>\n"
    "S: 250 ok\n"
    "C: RCPT TO:<b@example.test>\n"
    "S: 250 ok\n";

const std::string hello_plain =
    "S: 220 mx.example.test ESMTP\n"
    "C: EHLO client.example.test\n"
    "S: 250 mx.example.test\n";

const engine_case cases[] = {
    {__LINE__,
     "RFC 5321 D.1",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 OK\nC: RCPT TO:<b@example.test>\nS: 250 OK\nC: DATA\n"
                   "S: 354 go\nC: hello\nC: .\nS: 250 OK\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {}},
    {__LINE__,
     "RFC 5321 §4.3.1 early talker",
     "C: EHLO client.example.test\nS: 220 mx.example.test\nS: 250 mx.example.test\n",
     {"client.greeting.early-talker"}},
    {__LINE__,
     "RFC 5321 §4.3.1 lockstep",
     hello_plain + "C: MAIL FROM:<a@example.test>\nC: RCPT TO:<b@example.test>\nS: 250 OK\nS: 250 OK\n",
     {"client.sequence.lockstep"}},
    {__LINE__,
     "RFC 2920 pipelined transaction",
     hello + "C: MAIL FROM:<a@example.test>\nC: RCPT TO:<b@example.test>\nC: DATA\nS: 250 2.1.0 OK\nS: 250 2.1.5 OK\n"
             "S: 354 go\nC: x\nC: .\nC: QUIT\nS: 250 2.0.0 OK\nS: 221 2.0.0 bye\n",
     {}},
    {__LINE__,
     "RFC 2920 §3.1 sync point",
     hello + "C: NOOP\nC: MAIL FROM:<a@example.test>\nS: 250 2.0.0 ok\nS: 250 2.1.0 ok\n",
     {"client.pipelining.sync-point"}},
    {__LINE__,
     "RFC 5321 §4.1.4 MAIL before EHLO",
     "S: 220 mx.example.test\nC: MAIL FROM:<a@example.test>\nS: 503 EHLO first\n",
     {"client.sequence.no-ehlo"}},
    {__LINE__,
     "RFC 5321 §4.1.4 server accepts RCPT without MAIL",
     hello_plain + "C: RCPT TO:<b@example.test>\nS: 250 ok\n",
     {"client.sequence.rcpt-without-mail", "server.sequence.rcpt-without-mail"}},
    {__LINE__,
     "RFC 5321 §4.1.4 nested MAIL",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: MAIL FROM:<a@example.test>\nS: 503 nested\n",
     {"client.sequence.nested-mail"}},
    {__LINE__,
     "RFC 5321 §4.1.4 DATA without RCPT",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: DATA\nS: 554 no valid recipients\n",
     {"client.sequence.data-without-rcpt"}},
    {__LINE__, "RFC 5321 §4.1.1.10 no QUIT", hello_plain + "@close C\n", {"client.session.no-quit"}},
    {__LINE__, "RFC 5321 §4.2 unsolicited", hello_plain + "S: 250 surprise\n", {"server.reply.unsolicited"}},
    {__LINE__,
     "RFC 5321 §4.1.1.10 QUIT not 221",
     hello_plain + "C: QUIT\nS: 250 bye\n",
     {"server.quit.reply", "server.reply.unexpected-code"}},
    {__LINE__, "RFC 2034 §4 missing status code", hello + "C: NOOP\nS: 250 OK\n", {"server.esc.missing"}},
    {__LINE__, "RFC 2034 §4 class mismatch", hello + "C: NOOP\nS: 250 5.0.0 OK\n", {"server.esc.class"}},
    {__LINE__,
     "RFC 3207 §4 STARTTLS pipelined",
     hello + "C: STARTTLS\nC: NOOP\nS: 220 2.0.0 go\n@tls\n",
     {"client.starttls.pipelined"}},
    {__LINE__,
     "RFC 3207 §4.2 injection answered",
     hello + "C: STARTTLS\nC: NOOP\nS: 220 2.0.0 go\n@tls\nS: 250 2.0.0 NOOP ok\n",
     {"client.starttls.pipelined", "server.starttls.injection"}},
    {__LINE__,
     "RFC 3207 §4.2 state reset and EHLO first",
     hello + "C: STARTTLS\nS: 220 2.0.0 go\n@tls\nC: MAIL FROM:<a@example.test>\nS: 503 EHLO first\n",
     {"client.starttls.ehlo-first", "client.sequence.no-ehlo"}},
    {__LINE__,
     "RFC 3207 §4.2 readvertised",
     hello + "C: STARTTLS\nS: 220 2.0.0 go\n@tls\nC: EHLO client.example.test\n"
             "S: 250-mx.example.test\nS: 250 STARTTLS\n",
     {"server.starttls.readvertised"}},
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF command",
     hello_plain + "C= NOOP\\n\nS: 250 ok\n",
     {"client.line.bare-lf", "server.line.bare-lf-accepted"}},
    {__LINE__,
     "RFC 5321 §2.3.8 smuggling accepted",
     hello_plain +
         "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<b@example.test>\nS: 250 ok\nC: DATA\nS: 354 go\n"
         "C= x\\n.\\n\nS: 250 queued\n",
     {"client.data.bare-lf", "client.data.bare-lf", "client.data.eod.lf-dot-lf", "server.data.eod-variant-accepted"}},
    // The whole message at once: the replies come after the real end, and
    // the second one has no command to answer (was: server.reply.unsolicited).
    {__LINE__,
     "RFC 5321 §2.3.8 smuggling accepted, message sent at once",
     hello_plain +
         "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<b@example.test>\nS: 250 ok\nC: DATA\nS: 354 go\n"
         "C= x\\n.\\nNOOP\\r\\n\nC: .\nS: 250 queued\nS: 250 ok\nS: 500 what\n",
     {"client.data.bare-lf", "client.data.bare-lf", "client.data.eod.lf-dot-lf", "server.data.eod-variant-accepted"}},
    {__LINE__,
     "RFC 1870 §4 SIZE over the limit",
     hello + "C: MAIL FROM:<a@example.test> SIZE=5000\nS: 250 2.1.0 ok\n",
     {"client.size.over-limit", "server.size.over-limit-accepted"}},
    {__LINE__,
     "RFC 5321 §4.1.1.2 unadvertised parameter",
     hello_plain + "C: MAIL FROM:<a@example.test> BODY=8BITMIME\nS: 250 ok\n",
     {"client.param.unadvertised"}},
    {__LINE__,
     "RFC 5321 §2.2.2 unregistered keyword",
     "S: 220 mx.example.test\nC: EHLO client.example.test\nS: 250-mx.example.test\nS: 250-FOO\nS: 250 XFOO\n",
     {"server.ehlo.keyword-unregistered"}},
    {__LINE__,
     "RFC 5321 §2.3.5 unqualified EHLO",
     "S: 220 mx.example.test\nC: EHLO client\nS: 250 mx.example.test\n",
     {"client.domain.unqualified"}},
    {__LINE__,
     "RFC 6761 localhost is qualified",
     "S: 220 mx.example.test\nC: EHLO localhost\nS: 250 mx.example.test\n",
     {}},
    {__LINE__,
     "RFC 4954 §4 AUTH exchange",
     hello + "C: STARTTLS\nS: 220 2.0.0 go\n@tls\nC: EHLO client.example.test\n"
             "S: 250-mx.example.test\nS: 250-ENHANCEDSTATUSCODES\nS: 250 AUTH PLAIN LOGIN\nC: AUTH LOGIN\nS: 334 "
             "VXNlcm5hbWU6\n"
             "C: dXNlcg==\nS: 334 UGFzc3dvcmQ6\nC: cGFzcw==\nS: 235 2.7.0 ok\n",
     {}},
    {__LINE__,
     "RFC 4954 §4 cancel",
     hello + "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: *\nS: 535 5.7.8 no\n",
     {"client.auth.plaintext", "server.auth.cancel"}},
    {__LINE__,
     "RFC 5321 §4.5.1 postmaster",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<Postmaster>\nS: 550 no\n",
     {"server.postmaster.rejected"}},
    {__LINE__,
     "RFC 5321 §4.5.1 postmaster at a domain the server took a recipient at",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<b@Example.TEST>\nS: 250 ok\n"
                   "C: RCPT TO:<postmaster@example.test>\nS: 550 no\n",
     {"server.postmaster.rejected"}},
    {__LINE__,
     "RFC 5321 §4.5.1 postmaster at a domain not shown to be served: a relay may refuse it (was: "
     "server.postmaster.rejected; Exim 4.96: 550 relay not permitted)",
     hello_plain + "C: MAIL FROM:<>\nS: 250 OK\nC: RCPT TO:<postmaster@X>\nS: 550 relay not permitted\n",
     {"client.domain.unqualified"}},

    // Regressions: one row per engine bug, with the rule it got wrong.
    {__LINE__,
     "RFC 3030 §2 BDAT after BDAT LAST (was: data-without-rcpt, after-last never)",
     hello_chunking + "C: BDAT 2 LAST\nC= hi\nS: 250 queued\nC: BDAT 2\nC= hi\nS: 503 bad sequence\n",
     {"client.bdat.after-last"}},
    {__LINE__,
     "RFC 3030 §2 BDAT after BDAT LAST accepted (was: not seen by the server judge)",
     hello_chunking + "C: BDAT 2 LAST\nC= hi\nS: 250 queued\nC: BDAT 2\nC= hi\nS: 250 ok\n",
     {"client.bdat.after-last", "server.sequence.bdat-mixed"}},
    {__LINE__,
     "RFC 5321 §4.1.1.10 QUIT answered, not by 221 (was: client.session.quit-wait)",
     hello_plain + "C: QUIT\nS: 530 authenticate first\n@close C\n@close S\n",
     {"server.quit.reply"}},
    {__LINE__,
     "RFC 5321 §4.1.1.4 reply inside the data (was: lockstep and reply.missing after it)",
     hello_plain +
         "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<b@example.test>\nS: 250 ok\nC: DATA\nS: 354 go\n"
         "C: one\nS: 250 queued\nC: two\nC: .\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"server.data.early-reply"}},
    {__LINE__,
     "RFC 5321 §2.3.8 reply to a line ended by a bare CR (was: reply.unsolicited, then lockstep)",
     hello_plain + "C= NOOP\\r\nS: 250 ok\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.bare-cr", "server.line.bare-lf-accepted"}},
    // A bare LF or CR inside a client line: the replies show how the server
    // framed it. One reply and then the next command: one line, as §2.3.8
    // asks (was: the 221 paired with the second piece, QUIT unanswered).
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF inside a line read as one line (was: reply.missing, lockstep, noop.reply)",
     hello_plain + "C= NOOP\\nNOOP\\r\\n\nS: 500 bad\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.bare-lf"}},
    {__LINE__,
     "RFC 5321 §2.3.8 bare CR inside a line read as one line (was: reply.missing, lockstep, noop.reply)",
     hello_plain + "C= NOOP\\rNOOP\\r\\n\nS: 500 bad\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.bare-cr"}},
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF inside a line, one reply, then the close",
     hello_plain + "C= NOOP\\nNOOP\\r\\n\nS: 500 bad\n@close S\n@close C\n",
     {"client.line.bare-lf", "server.session.closed"}},
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF inside a line, unanswered at the close: one command",
     hello_plain + "C= NOOP\\nNOOP\\r\\n\n@close S\n@close C\n",
     {"client.line.bare-lf", "server.reply.missing"}},
    // RFC 5321 §7.8: a server may close "after generating an appropriate
    // number of 5yz (normally 550) replies". Exim 4.96's way, as a fuzzing
    // run recorded it: three 500s, a 501, then the close.
    {__LINE__,
     "RFC 5321 §7.8 close after 5yz replies, a command unanswered (was: server.reply.missing)",
     "S: 220 mx.example.test ESMTP\nC: X\nS: 500 unrecognized command\nC: X\nS: 500 unrecognized command\n"
     "C: X\nS: 500 unrecognized command\nC: EHLO\nS: 501 Syntactically invalid EHLO argument(s)\nC: NOOP\n"
     "@close S\n@close C\n",
     {"client.command.private", "client.command.private", "client.command.private", "client.command.missing-argument",
      "client.sequence.before-ehlo"}},
    {__LINE__,
     "RFC 5321 §7.8 close after three 5yz replies, the last a multi-line one (was: server.session.closed)",
     hello_plain + "C: X\nS: 500 unknown\nC: X\nS: 500 unknown\nC: DATA\nS: 503-need RCPT\n"
                   "S: 503 Too many syntax or protocol errors\n@close S\n@close C\n",
     {"client.command.private", "client.command.private", "client.sequence.data-without-rcpt"}},
    {__LINE__,
     "RFC 5321 §7.8 close after ten VRFYs and '554 Too many nonmail commands' (Exim 4.96; was: "
     "server.reply.missing)",
     hello_plain +
         [] {
           std::string s;
           for (int i = 0; i < 10; ++i) s += "C: VRFY x\nS: 252 Administrative prohibition\n";
           return s;
         }() +
         "C: VRFY x\nS: 554 Too many nonmail commands\nC: NOOP\n@close S\n@close C\n",
     {}},
    {__LINE__,
     "RFC 5321 §7.8 Postfix's 221 to a client pipelining mail data after a refused DATA, then the close (was: "
     "server.reply.missing)",
     hello_plain + "C: DATA\nC: Subject: x\nC:\nC: body\nC: .\n@close C\nS: 503 5.5.1 Error: need RCPT command\n"
                   "S: 221 2.7.0 Error: I can break rules, too. Goodbye.\n@close S\n",
     {"client.command.empty", "client.command.unknown", "client.command.unknown", "client.command.unknown",
      "client.data.before-354", "client.sequence.data-without-rcpt", "client.sequence.lockstep",
      "client.sequence.lockstep", "client.sequence.lockstep", "client.session.no-quit", "server.esc.unadvertised"}},
    {__LINE__,
     "RFC 5321 §3.8 close after one 5yz reply: no defence, a command unanswered",
     hello_plain + "C: X\nS: 500 unknown\nC: NOOP\n@close S\n@close C\n",
     {"client.command.private", "server.reply.missing"}},
    {__LINE__,
     "RFC 5321 §3.8 close after three 5yz replies and a 250: no defence",
     hello_plain + "C: X\nS: 500 unknown\nC: X\nS: 500 unknown\nC: X\nS: 500 unknown\nC: NOOP\nS: 250 ok\n"
                   "@close S\n@close C\n",
     {"client.command.private", "client.command.private", "client.command.private", "server.session.closed"}},
    // RFC 3030 §2: a BDAT whose chunk never came is owed no reply; Exim 4.96
    // without CHUNKING refuses it at once, and that reply answers it.
    {__LINE__,
     "RFC 3030 §2 BDAT refused before its chunk, the client gone (was: server.reply.unsolicited)",
     hello_plain + "C: BDAT 3\n@close C\nS: 503 BDAT command used when CHUNKING not advertised\n"
                   "S: 421 lost input connection\n@close S\n",
     {"client.bdat.unadvertised", "client.sequence.data-without-rcpt", "client.session.no-quit"}},
    {__LINE__,
     "RFC 3030 §2 BDAT without its chunk, the client gone, no reply: none owed",
     hello_chunking + "C: BDAT 3\n@close C\n@close S\n",
     {"client.session.no-quit"}},
    {__LINE__,
     "RFC 5321 §4.5.3.1.4 a line past the limit answered twice, cut at the server's buffer (was: "
     "server.reply.unsolicited)",
     hello_plain + "C: NOOP " + std::string(600, 'a') +
         "\nS: 500 unrecognized command\nS: 500 unrecognized command\n"
         "C: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.too-long"}},
    {__LINE__,
     "RFC 3030 §2 BDAT without CHUNKING refused, its chunk read as commands (was: server.reply.unsolicited x3)",
     hello_plain + "C: BDAT 20 LAST\nC: Subject: x\nC:\nC: body\nS: 503 BDAT command used when CHUNKING not "
                   "advertised\nS: 500 unrecognized command\nS: 500 unrecognized command\nS: 500 unrecognized command\n"
                   "C: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.bdat.unadvertised", "client.sequence.data-without-rcpt"}},
    {__LINE__,
     "RFC 5321 §4.5.3.1.4 a line past the limit, unanswered, then the close (was: server.reply.missing)",
     hello_plain + "C: NOOP " + std::string(3000, 'a') + "\n@close S\n@close C\n",
     {"client.line.too-long"}},
    {__LINE__,
     "RFC 5321 §4.3.1 DATA refused, QUIT pipelined behind it, the client gone before the replies (was: "
     "server.reply.unsolicited, client.session.no-quit)",
     hello_plain + "C: DATA\nC: QUIT\n@close C\nS: 503 valid RCPT command must precede DATA\nS: 221 closing\n"
                   "@close S\n",
     {"client.sequence.data-without-rcpt", "client.data.before-354", "client.session.quit-wait"}},
    // Two replies with nothing else to answer: the server split the line.
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF inside a line split into two commands",
     hello_plain + "C= NOOP\\nNOOP\\r\\n\nS: 250 ok\nS: 250 ok\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.bare-lf", "server.line.bare-lf-accepted"},
     4},
    {__LINE__,
     "RFC 5321 §2.3.8 bare CR inside a line split, the first piece refused",
     hello_plain + "C= NOOP\\rNOOP\\r\\n\nS: 500 bad\nS: 250 ok\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.line.bare-cr", "server.line.bare-lf-accepted"}},
    // More commands behind the line before its first reply: counting cannot
    // tell, and the server is taken to read one line.
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF inside a line, QUIT behind it",
     hello + "C= RSET\\nRSET\\r\\nQUIT\\r\\n\nS: 500 5.5.2 bad\nS: 221 2.0.0 bye\n@close S\n@close C\n",
     {"client.line.bare-lf"}},
    {__LINE__,
     "RFC 5321 §2.3.8 bare LF line refused (was: server.line.bare-lf-accepted, server.noop.reply)",
     hello + "C= NOOP\\n\nS: 500 5.5.2 Error: bare <LF> received\n",
     {"client.line.bare-lf"}},
    {__LINE__,
     "RFC 5321 §2.3.8 last reply line without CRLF (was: reply.missing)",
     hello_plain + "C: QUIT\nS= 221 bye\n@close S\n@close C\n",
     {"server.reply.line-ending"}},
    {__LINE__,
     "RFC 5321 §4.2.1 multi-line reply cut by the close (was: reply.missing)",
     hello_plain + "C: QUIT\nS: 221-bye\n@close S\n@close C\n",
     {"server.reply.incomplete"}},
    {__LINE__,
     "RFC 5321 §4.2 empty reply (was: also unexpected-code 0 and noop.reply)",
     hello_plain + "C: NOOP\nS: \n",
     {"server.reply.empty"}},
    {__LINE__,
     "RFC 5321 §4.2 unreadable greeting code (was: also greeting.code 0)",
     "S: 2x0 mx.example.test\nC: EHLO client.example.test\nS: 250 mx.example.test\n",
     {"server.reply.code"}},
    {__LINE__,
     "RFC 5321 §4.2 unreadable code read by its first digit (was: MAIL taken as refused)",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 2x0 ok\nC: RCPT TO:<b@example.test>\nS: 250 ok\n",
     {"server.reply.code"}},
    {__LINE__,
     "RFC 5321 §4.1.2 NUL in a command (was: also command.string at the same octet)",
     hello_plain + "C: NOOP \\0\nS: 500 bad\n",
     {"client.line.nul"}},
    {__LINE__,
     "RFC 5321 §4.2 control in a reply (was: also reply.text at the same octet)",
     hello_plain + "C: NOOP\nS: 250 O\\x1bK\n",
     {"server.line.control"}},
    {__LINE__,
     "RFC 5321 §4.1.1 malformed QUIT refused with 501 (was: server.quit.reply, then after-quit on the retry)",
     hello_plain + "C: QUIT now\nS: 501 no arguments\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.command.unexpected-argument"}},
    {__LINE__,
     "RFC 5321 §4.1.2 unparseable parameter list (was: also param.unknown)",
     hello_plain + "C: MAIL FROM:<a@example.test> =100\nS: 501 syntax\n",
     {"client.param.syntax"}},
    {__LINE__,
     "RFC 3207 §4.2 nothing visible after TLS (was: client.session.no-quit on a recording)",
     hello + "C: STARTTLS\nS: 220 2.0.0 go\n@tls\n@close C\n@close S\n",
     {}},
    {__LINE__,
     "RFC 5321 §4.1.1.10 no QUIT inside TLS is still no QUIT",
     hello + "C: STARTTLS\nS: 220 2.0.0 go\n@tls\nC: EHLO client.example.test\nS: 250 mx.example.test\n@close "
             "C\n@close S\n",
     {"client.session.no-quit"}},
    {__LINE__,
     "RFC 5321 §2.2.2 unregistered keyword names its own line (was: the reply's first line)",
     "S: 220 mx.example.test\nC: EHLO client.example.test\nS: 250-mx.example.test\nS: 250-SIZE 100\nS: 250 FOO\n",
     {"server.ehlo.keyword-unregistered"},
     5},
    {__LINE__,
     "RFC 5321 §4.3.1 early talker: same excerpt however the octets arrive (was: the first piece)",
     "C: EHLO client.example.test\nS: 220 mx.example.test\nS: 250 mx.example.test\n",
     {"client.greeting.early-talker"},
     1},
    {__LINE__,
     "RFC 3207 §4 octets after STARTTLS: same excerpt however they arrive (was: the first piece)",
     hello + "C: STARTTLS\nC: NOOP\nS: 220 2.0.0 go\n@tls\n",
     {"client.starttls.pipelined"},
     11},
    // A server that holds under a client's breach gets no finding of its own.
    {__LINE__,
     "RFC 5321 §2.3.8 smuggling attempt refused",
     hello_plain +
         "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: RCPT TO:<b@example.test>\nS: 250 ok\nC: DATA\nS: 354 go\n"
         "C= x\\n.\\n\\r\\n\nC: .\nS: 250 queued\n",
     {"client.data.bare-lf", "client.data.bare-lf", "client.data.eod.lf-dot-lf"}},
    {__LINE__,
     "RFC 5321 §4.1.4 nested MAIL refused",
     hello_plain + "C: MAIL FROM:<a@example.test>\nS: 250 ok\nC: MAIL FROM:<a@example.test>\nS: 503 nested\n",
     {"client.sequence.nested-mail"}},
    // Conservative verdicts (found by fuzzing a strict server): a refusal the
    // RFC allows is not a MUST broken, and where counting cannot tell which
    // reply answers which command no verdict rests on it.
    {__LINE__,
     "RFC 5321 §4.1.1 trailing white space is tolerated at SHOULD: a 501 to \"QUIT \" is no server.quit.reply",
     hello_plain + "C: QUIT \nS: 501 no argument\nC: QUIT\nS: 221 bye\n@close S\n@close C\n",
     {"client.command.trailing-space"}},
    {__LINE__,
     "RFC 4954 §4 an AUTH line over 512 octets refused with 500: no server.ehlo.listed-not-implemented",
     hello_plain.substr(0, hello_plain.size() - std::string("S: 250 mx.example.test\n").size()) +
         "S: 250-mx.example.test\nS: 250 AUTH PLAIN\nC: AUTH PLAIN " + std::string(600, 'A') +
         "\nS: 500 line too long\n",
     {"client.line.too-long", "client.auth.plaintext"}},
    {__LINE__,
     "RFC 3030 §2 a BDAT whose chunk never came whole is owed no reply",
     hello_chunking + "C: BDAT 8\nC= abc\n@close C\n@close S\n",
     {"client.session.no-quit"}},
    {__LINE__,
     "RFC 3030 §4 a BDAT size past 64 bits may start a chunk: no verdict on the replies after it",
     hello_chunking + "C: BDAT 18446744073709551616\n@close C\n@close S\n",
     {"client.bdat.size", "client.session.no-quit"}},
    {__LINE__,
     "RFC 5321 §2.3.8 a bare LF line with commands pipelined behind it: three replies, no verdict on their pairing",
     hello_plain + "C= \\n\nC:\nC:\nS: 500 bare LF\nS: 500 unknown\nS: 500 unknown\n",
     {"client.line.bare-lf", "client.command.empty", "client.command.empty", "client.sequence.lockstep"}},
    {__LINE__,
     "RFC 5321 §2.3.8 a second reply after a bare CR line may answer the command held behind it",
     hello_plain + "C= \\r\nC: AUTH\nS: 500 bare CR\nC: MAIL FROM:<a@example.test>\nS: 250 ok\n",
     {"client.line.bare-cr", "client.extension.unadvertised", "client.command.missing-argument",
      "client.sequence.lockstep"}},
    {__LINE__,
     "RFC 6531 §3.3 UTF-8 pipelined behind EHLO, taken by a server that advertised SMTPUTF8: no server verdict",
     "S: 220 mx.example.test ESMTP\nC: EHLO client.example.test\nC: HELP \\xc3\\xa9\nS: 250-mx.example.test\n"
     "S: 250-PIPELINING\nS: 250-8BITMIME\nS: 250-SMTPUTF8\nS: 250 HELP\nS: 214 help\n",
     {"client.sequence.lockstep", "client.smtputf8.eight-bit"}},
    {__LINE__,
     "RFC 5321 §4.1.2 the same 8-bit taken without SMTPUTF8 advertised",
     "S: 220 mx.example.test ESMTP\nC: EHLO client.example.test\nC: HELP \\xc3\\xa9\nS: 250-mx.example.test\n"
     "S: 250-PIPELINING\nS: 250 HELP\nS: 214 help\n",
     {"client.sequence.lockstep", "client.smtputf8.eight-bit", "server.syntax.invalid-character"}},
    {__LINE__,
     "RFC 4954 §4 AUTH in a transaction refused",
     hello + "C: MAIL FROM:<a@example.test>\nS: 250 2.1.0 ok\nC: AUTH LOGIN\nS: 503 5.5.1 not now\n",
     {"client.auth.in-transaction", "client.auth.plaintext"}},
};

class engine_table : public ::testing::TestWithParam<engine_case> {};

TEST_P(engine_table, reports_exactly_the_named_rules) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  auto whole = run(c.dialogue, feed_mode::coalesce);
  EXPECT_EQ(ids(whole), c.expect);
  if (ids(whole) != c.expect)
    for (const auto& f : whole.findings)
      ADD_FAILURE() << "found " << f.r().id << " at line " << f.line << ": " << f.message;
  EXPECT_EQ(shown(run(c.dialogue, feed_mode::record)), shown(whole)) << "record by record";
  EXPECT_EQ(shown(run(c.dialogue, feed_mode::bytes)), shown(whole)) << "byte by byte";
  if (c.at != 0 && !whole.findings.empty()) EXPECT_EQ(whole.findings.front().line, c.at) << "line of the first finding";
}

INSTANTIATE_TEST_SUITE_P(rfc5321, engine_table, ::testing::ValuesIn(cases));

// What a live driver (the server fuzzer) reads off the engine about lines
// with a bare LF (RFC 5321 §2.3.8): what is owed for a line still open,
// and how the server's replies framed such lines.
engine greeted() {
  engine e;
  e.server_bytes("220 mx.example.test ESMTP\r\n");
  e.client_bytes("EHLO client.example.test\r\n");
  e.server_bytes("250 mx.example.test\r\n");
  return e;
}

TEST(engine_framing, a_server_that_reads_to_the_crlf) {
  engine e = greeted();
  e.client_bytes("NOOP\n");
  EXPECT_EQ(e.awaiting(), 1u);
  EXPECT_EQ(e.awaiting_open(), 1u) << "the line is still open: nothing is owed for it yet by such a server";
  e.client_bytes("X\r\n");
  EXPECT_EQ(e.awaiting_open(), 0u);
  e.server_bytes("501 5.5.2 bare LF\r\n");
  e.client_bytes("QUIT\r\n");  // the next command: one reply was all the line drew
  e.server_bytes("221 2.0.0 bye\r\n");
  EXPECT_EQ(e.framing().whole, 1u);
  EXPECT_EQ(e.framing().split, 0u);
  EXPECT_EQ(e.awaiting(), 0u);
}

TEST(engine_framing, a_server_that_answers_at_the_bare_lf) {
  engine e = greeted();
  e.client_bytes("NOOP\n");
  e.server_bytes("250 2.0.0 ok\r\n");
  EXPECT_EQ(e.framing().split, 1u);
  EXPECT_EQ(e.framing().whole, 0u);
  EXPECT_EQ(e.awaiting_open(), 0u) << "answered at its bare LF, the line ended there";
}

TEST(engine_framing, a_refusal_of_an_overlong_line_is_no_framing) {
  // Answered before the CRLF, but past the 512 octets of §4.5.3.1.4: the
  // reply may refuse the length, whatever the server does with a bare LF.
  engine e = greeted();
  e.client_bytes("NOOP " + std::string(600, 'a') + "\n");
  e.server_bytes("500 5.5.2 line too long\r\n");
  EXPECT_EQ(e.framing().split, 0u);
}

}  // namespace
}  // namespace smtpkit::conformance
