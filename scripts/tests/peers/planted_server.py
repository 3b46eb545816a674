#!/usr/bin/python3
"""planted_server.py — a strict ESMTP server with bugs planted on purpose.

The evaluation target of a black-box SMTP fuzzer. Outside its planted bugs
it behaves as a correct, strict RFC 5321 server; each planted bug belongs
to a class real SMTP servers have had, fires on one precise trigger, and
shows itself in one of three ways (the fuzzer's oracles):

  crash      the process dies by SIGABRT (os.abort()) after writing
             "==PLANTED== crash: NAME" to stderr, the way a sanitizer
             report precedes an abort. In TCP mode the whole server dies,
             every session with it, and the port stops accepting.
  hang       the session never answers again: it sleeps without reading,
             while the process stays alive (SIGTERM and SIGKILL still end
             it; in TCP mode the other sessions go on).
  violation  a wrong reply, no crash.

Every planted bug that fires also writes "==PLANTED== KIND: NAME" to
stderr (crash, hang or violation), as ground truth for benchmarks; the
oracles above never need it. Standard library only.

    planted_server.py --stdio [--bugs all|none|NAME[,NAME]...]
    planted_server.py --listen HOST:PORT [--bugs all|none|NAME[,NAME]...]

  --stdio          one session on stdin/stdout, like `exim -bs`; the exit
                   status is 0 at the end of the session (QUIT, end of
                   input, the idle timeout) and on SIGTERM or SIGINT
  --listen H:P     TCP on H:P (port 0: any free port; an IPv6 address in
                   brackets, [::1]:0). Prints "listening H:PORT" on stdout
                   (flushed) once it accepts; one thread per session; exit
                   status 0 on SIGTERM or SIGINT
  --bugs LIST      which planted bugs are live: "all" (the default),
                   "none" (the correct server, the control), or names
                   separated by commas. An unknown name is a usage error
                   (exit 2)

An unexpected exception (a defect of this server, never a planted bug)
prints a traceback on stderr and ends the session: exit 70 in stdio mode;
in TCP mode only that connection is closed.

Depth is how much of a valid dialogue must come before the trigger:
  shallow  at most EHLO/HELO and one command
  medium   an open mail transaction, or EHLO's extensions used in earnest
  deep     a longer valid exchange: many recipients, a SASL payload built
           to a structure, a sequence of BDAT chunks

The planted bugs (BUGS holds the same table; trigger_dialogue(NAME) is a
minimal client byte sequence, the whole session from the first command,
that fires NAME). "Correct:" is the reply of the server without the bug.

  path-length        crash, shallow. Class: a stack buffer overflow in
                     the path copy (the buffer holds 64 octets and a NUL,
                     the length check before it tests for more than 80).
                     RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
                     Trigger: a MAIL FROM or RCPT TO path is parsed whose
                     local part, as written (quotes and backslashes
                     counted), is 65 to 80 octets long. A path is parsed
                     for MAIL after EHLO/HELO outside a transaction, for
                     RCPT inside one (and outside one under
                     rcpt-without-mail, see there). Correct: 553 5.1.7
                     (MAIL) / 553 5.1.3 (RCPT), as for any longer local part.
  quoted-escape      crash, medium. Class: a quoted-string scanner that
                     takes a DQUOTE after a backslash for an escaped one,
                     not tracking quoted-pairs, and runs off its buffer.
                     RFC 5321 §4.1.2 (Quoted-string, quoted-pairSMTP).
                     Trigger: RCPT TO (in a transaction) whose local part is
                     a Quoted-string whose last QcontentSMTP is the
                     quoted-pair "\\\\" (an escaped backslash right before the
                     closing DQUOTE), e.g. <"abc\\\\"@example.test>; MAIL FROM
                     is parsed by other code and is not affected.
                     Correct: 250 2.1.5 (the path is valid).
  address-literal    crash, medium. Class: IPv6 groups written into a
                     fixed array of 8 without a bound check.
                     RFC 5321 §4.1.3 (IPv6-addr: at most 8 groups).
                     Trigger: RCPT TO (in a transaction) whose domain is an
                     address literal with the tag "IPv6:" (any case) whose
                     rest holds only hex digits and colons and has more
                     than 8 non-empty colon-separated groups, each of 1 to 4
                     hex digits, e.g. [IPv6:1:2:3:4:5:6:7:8:9]. MAIL FROM
                     is not affected. Correct: 501 5.1.3.
  rcpt-counter       crash, deep. Class: a fixed array of 16 recipients.
                     RFC 5321 §4.5.3.1.8: at least 100 recipients must be
                     accepted. Trigger: the 17th RCPT that would be accepted
                     within one transaction (refused RCPTs do not count; RSET,
                     EHLO/HELO and the end of a transaction start the count
                     again). Correct: 250 2.1.5 (452 4.5.3 from the 101st).
  size-param         crash, medium. Class: an integer overflow, the 64-bit
                     SIZE value narrowed to 32 bits.
                     RFC 1870 §6 (size-value 1*20DIGIT, §6.1 552 over the
                     limit). Trigger: MAIL FROM with SIZE=n (after EHLO, the
                     path valid), n read as a decimal number with
                     2^32 <= n < 2^64. Correct: 552 5.3.4, as for any n over
                     10485760 (2^64 and up included); more than 20 digits is
                     501 5.5.4.
  auth-payload       crash, deep. Class: a 256-octet buffer for the
                     authentication identity.
                     RFC 4616 §2 (authcid: up to 255 octets must be
                     accepted), RFC 4954 §4. Trigger: after EHLO, AUTH PLAIN
                     whose response (the initial response on the AUTH line,
                     or the line after the 334) is valid base64 decoding to
                     exactly three NUL-separated fields of which the second
                     (authcid) is longer than 255 octets. Correct: 535 5.7.8.
  bdat-hang          hang, deep. Class: a chunk state machine that a
                     zero-length chunk leaves waiting for octets that were
                     already read. RFC 3030 §2 (a chunk may be 0 octets;
                     every BDAT gets a reply). Trigger: in a transaction
                     with an accepted recipient, "BDAT n LAST" with n > 0
                     whose previous BDAT in the same transaction was
                     "BDAT 0" without LAST. The session hangs before reading
                     the chunk. Correct: 250 2.0.0, the message accepted.
  vrfy-hang          hang, shallow. Class: a loop over quoted words that
                     does not advance past a space inside quotes.
                     RFC 5321 §4.1.1.6, §4.1.2 (VRFY SP String, String =
                     Atom / Quoted-string). Trigger: VRFY (at any time)
                     whose whole argument is a Quoted-string whose content,
                     unescaped, contains a space, e.g. VRFY "John Smith".
                     Correct: 252 2.1.5.
  eod-lf             violation, medium. Class: SMTP smuggling, an inbound
                     server that takes <LF>.<LF> for the end of the data.
                     RFC 5321 §4.1.1.4, §2.3.8 (the data ends with
                     <CRLF>.<CRLF> only). Trigger: in DATA, when the data
                     starts with a header field (a field name of printable
                     ASCII but ":", then ":"), the octets LF "." LF where
                     the first LF is not preceded by CR: the data ends
                     there and is answered at once as at a <CRLF>.<CRLF>
                     (250, or 552 over a limit), and what follows is read
                     as commands. Correct: the octets are data; 250 at the
                     <CRLF>.<CRLF>.
  rcpt-without-mail  violation, shallow. Class: a missing state check.
                     RFC 5321 §4.1.4 (RCPT before MAIL is 503). Trigger:
                     RCPT TO outside a mail transaction, in a session whose
                     last greeting was EHLO (not HELO), with a valid path
                     (no parameters) whose domain ends with ".test" (any
                     case): 250 2.1.5, nothing recorded. Correct: 503 5.5.1.
  helo-unbounded     violation, shallow. Class: a missing length check,
                     the client's name echoed into the reply.
                     RFC 5321 §4.5.3.1.2 (a domain is at most 255 octets),
                     §4.5.3.1.5 (a reply line at most 512 octets).
                     Trigger: EHLO whose argument is longer than 255 octets
                     and made only of letters, digits, "-" and ".": 250,
                     the argument echoed in the first reply line (over 512
                     octets once the argument is over 480). Correct:
                     501 5.5.4.

The correct server (everything not a planted bug):
- Greeting "220 planted.smtpkit.test ESMTP". EHLO offers PIPELINING,
  SIZE 10485760, 8BITMIME, BINARYMIME (RFC 3030 §3, for BODY=BINARYMIME),
  SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING, AUTH PLAIN LOGIN, HELP (HELP is
  not among the commands of RFC 5321 §4.5.1 every server has, so §4.1.1.1
  wants it listed). HELO works;
  the EHLO argument is a Domain or an address literal, HELO's a Domain
  (501 5.5.4 otherwise). EHLO/HELO resets the transaction.
- Command lines: CRLF only; over 1000 octets (CRLF included; more than
  the 512 of RFC 5321 §4.5.3.1.4, which §4.5.3.1 allows) 500 5.5.2, read
  to their end; a bare LF or bare CR 500 5.5.2; an unknown verb 500
  5.5.1 (§4.2.4); in a known command another control character (NUL, HT,
  DEL...), invalid UTF-8, or UTF-8 before EHLO (no SMTPUTF8 in force)
  501 5.5.2 (RFC 5321 §4.1.2). Verbs in any case; one SP before the
  argument. EXPN 502 5.5.1; HELP 214; NOOP 250; RSET 250 (no argument);
  VRFY 252 (501 without argument; UTF-8 needs " SMTPUTF8", RFC 6531
  §3.7.4.2); QUIT 221 and the end of the session. An argument to DATA,
  RSET or QUIT is 501 5.5.4.
- Sequence (RFC 5321 §4.1.4; MAIL, RCPT and AUTH check it before their
  syntax): MAIL before EHLO/HELO or inside a transaction, RCPT without
  MAIL, DATA without MAIL, BDAT without an accepted recipient or without
  EHLO, AUTH before EHLO, after a success or inside a transaction:
  503 5.5.1. DATA without an accepted recipient 554 5.5.1, after BDAT or
  with BODY=BINARYMIME 503 5.5.1; RCPT after BDAT 503 5.5.1.
- Paths (RFC 5321 §4.1.2): "FROM:"/"TO:" then <...> with no space between;
  an optional source route (ignored); Dot-string or Quoted-string local
  part; a Domain (labels 1..63 octets, LDH, U-labels with SMTPUTF8) or an
  address literal [IPv4] / [IPv6:...] (RFC 5321 §4.1.3 grammar, "::" for at
  least two groups); MAIL FROM:<> and RCPT TO:<Postmaster>. Syntax errors
  501 5.1.7 (MAIL) / 501 5.1.3 (RCPT); a local part over 64 octets, a
  domain over 255, a label over 63 or a path over 256 553 with the same
  enhanced codes; UTF-8 without SMTPUTF8 553 5.6.7 (RFC 6531 §3.4). Any
  domain is accepted (no relaying policy: mail is discarded).
- Parameters (SP-separated esmtp-params): MAIL takes SIZE=1*20DIGIT,
  BODY=7BIT|8BITMIME|BINARYMIME, SMTPUTF8 (no value) and AUTH=xtext or
  AUTH=<> (RFC 4954 §5, ignored); RCPT takes none. Unknown keywords, and
  any parameter after HELO, 555 5.5.4; a bad value or a repeated keyword
  501 5.5.4; SIZE over 10485760 552 5.3.4.
- At most 100 recipients a transaction (452 4.5.3 after).
- DATA: 354, then text lines to <CRLF>.<CRLF>, dot-unstuffed; bare CR and
  LF are data. A line over 1000 octets (CRLF included), or a message over
  10485760 octets, is 552 5.3.4 at the end; else 250 2.0.0. The message is
  discarded.
- BDAT n [LAST] (RFC 3030): exactly n octets read, each chunk 250 2.0.0;
  the octets are read even when the command is refused (503) so the
  session stays in step. Over 10485760 octets in total: 552 5.3.4 and the
  transaction is dropped.
- AUTH PLAIN and LOGIN (RFC 4954, 4616), initial response or after 334;
  the only account is alice / wonderland (authzid empty or the same).
  "*" cancels (501 5.0.0); bad base64 or a malformed PLAIN message
  501 5.5.2; wrong credentials 535 5.7.8; success 235 2.7.0. A response
  line after 334 may be 12288 octets long (RFC 4954 §4 wants responses as
  long as a mechanism needs; longer: 500 5.5.6). Mail does not need AUTH.
- 300 s without input: 421 4.4.2 and the end of the session.
Limits: no STARTTLS; a client that talks before the greeting is not told
apart (stdio cannot tell); core dumps are switched off (RLIMIT_CORE 0) so
that a planted crash leaves no core file.
"""
import argparse
import base64
import binascii
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback

HOSTNAME = "planted.smtpkit.test"
SIZE_LIMIT = 10485760
MAX_LINE = 1000  # a command line or text line, CRLF included
MAX_SASL_LINE = 12288  # a SASL response line after 334, CRLF included (RFC 4954 §4)
MAX_RECIPIENTS = 100
IDLE_TIMEOUT = 300.0
USERS = {"alice": "wonderland"}
INTERNAL_ERROR = 70

BUGS = {
    "path-length": {
        "kind": "crash", "depth": "shallow", "rfc": "RFC 5321 §4.5.3.1.1",
        "class": "off-by-one buffer overflow",
        "trigger": "MAIL FROM or RCPT TO path parsed whose local part (as written) is 65..80 octets",
    },
    "quoted-escape": {
        "kind": "crash", "depth": "medium", "rfc": "RFC 5321 §4.1.2",
        "class": "quoted-pair scanning past the end of a buffer",
        "trigger": 'RCPT TO whose Quoted-string local part ends with the quoted-pair \\\\ before the closing DQUOTE',
    },
    "address-literal": {
        "kind": "crash", "depth": "medium", "rfc": "RFC 5321 §4.1.3",
        "class": "unbounded write into a fixed array",
        "trigger": "RCPT TO domain [IPv6:...] of hex digits and colons with more than 8 non-empty groups",
    },
    "rcpt-counter": {
        "kind": "crash", "depth": "deep", "rfc": "RFC 5321 §4.5.3.1.8",
        "class": "fixed-size recipient array",
        "trigger": "the 17th RCPT that would be accepted within one transaction",
    },
    "size-param": {
        "kind": "crash", "depth": "medium", "rfc": "RFC 1870 §6",
        "class": "integer overflow (64-bit value narrowed to 32 bits)",
        "trigger": "MAIL FROM (after EHLO) with SIZE=n, 2^32 <= n < 2^64",
    },
    "auth-payload": {
        "kind": "crash", "depth": "deep", "rfc": "RFC 4616 §2, RFC 4954 §4",
        "class": "fixed-size buffer for a decoded credential",
        "trigger": "AUTH PLAIN response decoding to authzid NUL authcid NUL passwd with authcid over 255 octets",
    },
    "bdat-hang": {
        "kind": "hang", "depth": "deep", "rfc": "RFC 3030 §2",
        "class": "state machine stuck after a zero-length chunk",
        "trigger": "BDAT n LAST (n > 0) whose previous BDAT in the transaction was BDAT 0 without LAST",
    },
    "vrfy-hang": {
        "kind": "hang", "depth": "shallow", "rfc": "RFC 5321 §4.1.1.6, §4.1.2",
        "class": "parser loop that does not advance",
        "trigger": "VRFY whose whole argument is a Quoted-string containing a space",
    },
    "eod-lf": {
        "kind": "violation", "depth": "medium", "rfc": "RFC 5321 §4.1.1.4, §2.3.8",
        "class": "SMTP smuggling (lenient end-of-data)",
        "trigger": "DATA starting with a header field: bare LF '.' LF ends the data (250, the rest are commands)",
    },
    "rcpt-without-mail": {
        "kind": "violation", "depth": "shallow", "rfc": "RFC 5321 §4.1.4",
        "class": "missing state check",
        "trigger": "RCPT TO outside a transaction after EHLO, valid path, domain ending .test: 250 not 503",
    },
    "helo-unbounded": {
        "kind": "violation", "depth": "shallow", "rfc": "RFC 5321 §4.5.3.1.2, §4.5.3.1.5",
        "class": "missing length check, echoed input",
        "trigger": "EHLO argument over 255 octets of letters, digits, '-', '.': 250 echoing it",
    },
}


def trigger_dialogue(name):
    """A minimal client byte sequence (the whole session from the first
    command) that fires the planted bug NAME; KeyError for another name."""
    if name not in BUGS:
        raise KeyError(name)
    ehlo = b"EHLO client.example.test\r\n"
    mail = b"MAIL FROM:<sender@example.test>\r\n"
    rcpt = b"RCPT TO:<rcpt@example.test>\r\n"
    quit_ = b"QUIT\r\n"
    if name == "path-length":
        return ehlo + b"MAIL FROM:<" + b"l" * 70 + b"@example.test>\r\n" + quit_
    if name == "quoted-escape":
        return ehlo + mail + b'RCPT TO:<"abc\\\\"@example.test>\r\n' + quit_
    if name == "address-literal":
        return ehlo + mail + b"RCPT TO:<rcpt@[IPv6:1:2:3:4:5:6:7:8:9]>\r\n" + quit_
    if name == "rcpt-counter":
        return ehlo + mail + b"".join(b"RCPT TO:<r%d@example.test>\r\n" % i for i in range(1, 18)) + quit_
    if name == "size-param":
        return ehlo + b"MAIL FROM:<sender@example.test> SIZE=4294967296\r\n" + quit_
    if name == "auth-payload":
        payload = base64.b64encode(b"\0" + b"u" * 256 + b"\0" + b"secret")
        return ehlo + b"AUTH PLAIN " + payload + b"\r\n" + quit_
    if name == "bdat-hang":
        return ehlo + mail + rcpt + b"BDAT 0\r\nBDAT 5 LAST\r\nhello" + quit_
    if name == "vrfy-hang":
        return b'VRFY "John Smith"\r\n' + quit_
    if name == "eod-lf":
        return (ehlo + mail + rcpt + b"DATA\r\n"
                + b"Subject: smuggled\r\n\r\nbody\n.\nNOOP\r\n.\r\n" + quit_)
    if name == "rcpt-without-mail":
        return ehlo + rcpt + quit_
    if name == "helo-unbounded":
        return b"EHLO " + b".".join([b"h" * 60] * 10) + b".test\r\n" + quit_
    raise KeyError(name)


# --- grammar (RFC 5321 §4.1.2, §4.1.3; RFC 6531 §3.3 for UTF-8) -------------------------

U8 = "[^\\x00-\\x7f]"  # any non-ASCII character (a negated class: quick to compile)
ATEXT = "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|" + U8 + ")"
DOT_STRING = "%s+(?:\\.%s+)*" % (ATEXT, ATEXT)
QUOTED = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|' + U8 + '|\\\\[\\x20-\\x7e])*"'
LET_DIG = "(?:[A-Za-z0-9]|" + U8 + ")"
LABEL = "%s(?:(?:[A-Za-z0-9-]|%s)*%s)?" % (LET_DIG, U8, LET_DIG)
DOMAIN = "%s(?:\\.%s)*" % (LABEL, LABEL)
LITERAL = "\\[[\\x21-\\x5a\\x5e-\\x7e]*\\]"  # "[" *dcontent "]", checked further below
# The source route is only split here; its domains are checked one by one.
PATH_RE = re.compile("<(@[^,:<>]+(?:,@[^,:<>]+)*:)?(%s|%s)@(%s|%s)>" % (DOT_STRING, QUOTED, DOMAIN, LITERAL))
QUOTED_RE = re.compile(QUOTED)
DOMAIN_RE = re.compile(DOMAIN)
ASCII_DOMAIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
PARAM_RE = re.compile("([A-Za-z0-9][A-Za-z0-9-]*)(?:=((?:[\\x21-\\x3c\\x3e-\\x7e]|" + U8 + ")+))?")
IPV4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")
HEX4_RE = re.compile(r"[0-9A-Fa-f]{1,4}")
CONTROL_RE = re.compile(rb"[\x00-\x1f\x7f]")  # in a command line, CR and LF already taken out
HEADER_RE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")  # a field name and its colon (RFC 5322 §3.6.8)
FTEXT_RE = re.compile(rb"[\x21-\x39\x3b-\x7e]*")
XTEXT_RE = re.compile(r"(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})+")


def ipv4_ok(text):
    m = IPV4_RE.fullmatch(text)
    return bool(m) and all(int(x) <= 255 for x in m.groups())


def ipv6_ok(text):
    """RFC 5321 §4.1.3 IPv6-addr: 8 groups, or "::" with at most 6 around
    it; an IPv4 tail counts as two groups."""
    m = re.fullmatch(r"(.*:)(\d{1,3}(?:\.\d{1,3}){3})", text)
    if m:
        if not ipv4_ok(m.group(2)):
            return False
        text = m.group(1) + "0:0"
    if text.count("::") > 1:
        return False
    if "::" in text:
        left, right = text.split("::")
        groups = [g for part in (left, right) if part for g in part.split(":")]
        return len(groups) <= 6 and all(HEX4_RE.fullmatch(g) for g in groups)
    groups = text.split(":")
    return len(groups) == 8 and all(HEX4_RE.fullmatch(g) for g in groups)


def literal_ok(literal):
    inner = literal[1:-1]
    if inner[:5].lower() == "ipv6:":
        return ipv6_ok(inner[5:])
    return ipv4_ok(inner)  # no other tag is registered (RFC 5321 §4.1.3)


def octets(text):
    return len(text.encode("utf-8", "surrogateescape"))


def unquote(quoted):
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


# --- the session ----------------------------------------------------------------------


class Closed(Exception):
    """The client went away (end of input, reset, or an idle timeout)."""


class Reply(Exception):
    """A refusal: the reply line, raised from deep in a check."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


def planted(kind, name):
    sys.stderr.write("==PLANTED== %s: %s\n" % (kind, name))
    sys.stderr.flush()


def crash(name):
    """A planted crash: the report line, then SIGABRT for the whole process."""
    planted("crash", name)
    os.abort()


def hang(name):
    """A planted hang: this session never reads or answers again."""
    planted("hang", name)
    while True:
        time.sleep(3600)


class StdioChannel:
    def __init__(self):
        self.fin, self.fout = sys.stdin.fileno(), sys.stdout.fileno()

    def recv(self):
        ready, _, _ = select.select([self.fin], [], [], IDLE_TIMEOUT)
        if not ready:
            raise TimeoutError
        return os.read(self.fin, 65536)

    def send(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fout, view)
            view = view[n:]


class SocketChannel:
    def __init__(self, sock):
        self.sock = sock
        sock.settimeout(IDLE_TIMEOUT)

    def recv(self):
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError

    def send(self, data):
        self.sock.sendall(data)


class Session:
    def __init__(self, channel, bugs):
        self.channel = channel
        self.bugs = bugs
        self.buf = bytearray()
        self.greeted = None  # None, "HELO" or "EHLO"
        self.authenticated = False
        self.reset()

    def bug(self, name):
        return name in self.bugs

    def reset(self):
        self.mail = None  # the reverse-path of the open transaction
        self.rcpts = []
        self.utf8 = False
        self.binarymime = False
        self.bdat = None  # None, or [octets so far, the previous chunk was "BDAT 0"]

    # --- I/O ------------------------------------------------------------------

    def send(self, *lines):
        self.channel.send(b"".join(line.encode("utf-8", "surrogateescape") + b"\r\n" for line in lines))

    def reply(self, code, lines):
        """A reply of one or more lines: "ddd-text" ... "ddd text"."""
        self.send(*["%d-%s" % (code, x) for x in lines[:-1]] + ["%d %s" % (code, lines[-1])])

    def fill(self):
        try:
            data = self.channel.recv()
        except TimeoutError:
            self.send("421 4.4.2 %s idle too long, closing connection" % HOSTNAME)
            raise Closed
        except OSError:
            raise Closed
        if not data:
            raise Closed
        self.buf += data

    def read_line(self, limit):
        """One line up to LF: (content, crlf, too_long). The rest of an
        over-long line is read and dropped, so the session stays in step."""
        too_long = False
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                too_long = too_long or len(line) > limit
                if line.endswith(b"\r\n"):
                    return line[:-2], True, too_long
                return line[:-1], False, too_long
            if len(self.buf) > limit:
                too_long = True
                del self.buf[:-1]  # keep a CR that may start the CRLF
            self.fill()

    def read_octets(self, n):
        """n octets read and dropped (a BDAT chunk)."""
        while n:
            if not self.buf:
                self.fill()
            take = min(n, len(self.buf))
            del self.buf[:take]
            n -= take

    # --- the dialogue ---------------------------------------------------------

    def run(self):
        try:
            self.send("220 %s ESMTP planted-bug test server" % HOSTNAME)
            while True:
                raw, crlf, too_long = self.read_line(MAX_LINE)
                if too_long:
                    self.send("500 5.5.2 Line too long (at most %d octets with CRLF)" % MAX_LINE)
                    continue
                if not crlf:
                    self.send("500 5.5.2 Bare LF: command lines end with CRLF")
                    continue
                if b"\r" in raw:
                    self.send("500 5.5.2 Bare CR in a command line")
                    continue
                verb = raw.partition(b" ")[0].decode("latin-1")
                handler = getattr(self, "cmd_" + verb.upper(), None) if re.fullmatch("[A-Za-z]+", verb) else None
                if handler is None:
                    # unrecognized (RFC 5321 §4.2.4: 500), whatever else it holds
                    self.send("500 5.5.1 Command not recognized")
                    continue
                # invalid character codes, in a command it knows: 501 (RFC 5321 §4.1.2)
                if CONTROL_RE.search(raw):
                    self.send("501 5.5.2 Control character in a command line")
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.send("501 5.5.2 Invalid UTF-8 in a command line")
                    continue
                if not line.isascii() and self.greeted != "EHLO":
                    # no SMTPUTF8 in force
                    self.send("501 5.5.2 UTF-8 in a command line before EHLO")
                    continue
                verb, space, arg = line.partition(" ")
                try:
                    if handler(arg if space else None) == "quit":
                        return
                except Reply as r:
                    self.send(r.text)
        except (Closed, OSError):  # the client is gone (or its pipe or socket failed)
            return

    def no_argument(self, arg, verb):
        if arg is not None:
            raise Reply("501 5.5.4 %s takes no argument" % verb)

    def cmd_EHLO(self, arg):
        if not arg:
            raise Reply("501 5.5.4 Syntax: EHLO domain")
        if (self.bug("helo-unbounded") and octets(arg) > 255
                and re.fullmatch("[A-Za-z0-9.-]+", arg)):
            planted("violation", "helo-unbounded")
        elif not self.helo_name_ok(arg, literal=True):
            raise Reply("501 5.5.4 Syntax: EHLO domain or address literal (at most 255 octets)")
        self.greeted = "EHLO"
        self.reset()
        self.reply(250, ["%s Hello %s" % (HOSTNAME, arg), "PIPELINING", "SIZE %d" % SIZE_LIMIT, "8BITMIME",
                         "BINARYMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "AUTH PLAIN LOGIN", "HELP"])

    def cmd_HELO(self, arg):
        if not arg or not self.helo_name_ok(arg, literal=False):
            raise Reply("501 5.5.4 Syntax: HELO domain")
        self.greeted = "HELO"
        self.reset()
        self.send("250 %s Hello %s" % (HOSTNAME, arg))

    @staticmethod
    def helo_name_ok(arg, literal):
        if literal and arg.startswith("["):
            return re.fullmatch(LITERAL, arg) is not None and literal_ok(arg)
        return (ASCII_DOMAIN_RE.fullmatch(arg) is not None and len(arg) <= 255
                and all(len(label) <= 63 for label in arg.split(".")))

    # --- paths ------------------------------------------------------------------

    def parse_path(self, text, mail):
        """(local part, domain, rest) of "<...>..." at the start of text; the
        null path is ("", None, rest), <Postmaster> ("Postmaster", None, rest).
        Raises Reply. The planted path bugs fire here."""
        x = "5.1.7" if mail else "5.1.3"
        if mail and text.startswith("<>"):
            return "", None, text[2:]
        m = re.match(r"<(postmaster)>", text, re.I)
        if not mail and m:
            return m.group(1), None, text[m.end():]
        m = PATH_RE.match(text)
        if not m:
            raise Reply("501 %s Syntax error in the %s address" % (x, "sender" if mail else "recipient"))
        route, local, domain, rest = m.group(1), m.group(2), m.group(3), text[m.end():]
        if route and not all(DOMAIN_RE.fullmatch(d[1:]) for d in route[:-1].split(",")):
            raise Reply("501 %s Syntax error in the source route" % x)
        # Planted bugs, in the parser's own order.
        if self.bug("path-length") and 65 <= octets(local) <= 80:
            crash("path-length")
        if not mail and self.bug("quoted-escape") and local.startswith('"'):
            items = re.findall(r'\\[\x20-\x7e]|[^\\]', local[1:-1])
            if items and items[-1] == "\\\\":
                crash("quoted-escape")
        if not mail and self.bug("address-literal") and domain[:6].lower() == "[ipv6:":
            rest6 = domain[6:-1]
            groups = [g for g in rest6.split(":") if g]
            if (re.fullmatch("[0-9A-Fa-f:]+", rest6) and len(groups) > 8
                    and all(HEX4_RE.fullmatch(g) for g in groups)):
                crash("address-literal")
        # The limits (RFC 5321 §4.5.3.1).
        if octets(local) > 64:
            raise Reply("553 %s Local part longer than 64 octets" % x)
        if octets(domain) > 255:
            raise Reply("553 %s Domain longer than 255 octets" % x)
        if octets(text[:m.end()]) > 256:
            raise Reply("553 %s Path longer than 256 octets" % x)
        if domain.startswith("["):
            if not literal_ok(domain):
                raise Reply("501 %s Invalid address literal" % x)
        elif any(octets(label) > 63 for label in domain.split(".")):
            raise Reply("553 %s Domain label longer than 63 octets" % x)
        return local, domain, rest

    @staticmethod
    def parse_params(rest):
        """The esmtp-params after a path: [(KEYWORD, value or None)]."""
        if rest == "":
            return []
        if not rest.startswith(" "):
            raise Reply("501 5.5.4 Syntax error after the path")
        params, seen = [], set()
        for word in rest[1:].split(" "):
            m = PARAM_RE.fullmatch(word)
            if not m:
                raise Reply("501 5.5.4 Syntax error in parameters")
            key = m.group(1).upper()
            if key in seen:
                raise Reply("501 5.5.4 Parameter %s given twice" % key)
            seen.add(key)
            params.append((key, m.group(2)))
        return params

    def cmd_MAIL(self, arg):
        if self.greeted is None:
            raise Reply("503 5.5.1 Send EHLO or HELO first")
        if self.mail is not None or self.bdat is not None:
            raise Reply("503 5.5.1 Nested MAIL command")
        if arg is None or arg[:5].upper() != "FROM:":
            raise Reply("501 5.5.4 Syntax: MAIL FROM:<address>")
        local, domain, rest = self.parse_path(arg[5:], mail=True)
        params = self.parse_params(rest)
        utf8 = binarymime = False
        for key, value in params:
            if self.greeted != "EHLO":
                raise Reply("555 5.5.4 No parameters after HELO")
            if key == "SIZE":
                if value is None or not re.fullmatch(r"[0-9]{1,20}", value):
                    raise Reply("501 5.5.4 Syntax: SIZE=1*20DIGIT")
                n = int(value)
                if self.bug("size-param") and 2 ** 32 <= n < 2 ** 64:
                    crash("size-param")
                if n > SIZE_LIMIT:
                    raise Reply("552 5.3.4 Message size exceeds fixed maximum message size")
            elif key == "BODY":
                if value is None or value.upper() not in ("7BIT", "8BITMIME", "BINARYMIME"):
                    raise Reply("501 5.5.4 Syntax: BODY=7BIT|8BITMIME|BINARYMIME")
                binarymime = value.upper() == "BINARYMIME"
            elif key == "SMTPUTF8":
                if value is not None:
                    raise Reply("501 5.5.4 SMTPUTF8 takes no value")
                utf8 = True
            elif key == "AUTH":
                if value is None or not (value == "<>" or XTEXT_RE.fullmatch(value)):
                    raise Reply("501 5.5.4 Syntax: AUTH=xtext")
            else:
                raise Reply("555 5.5.4 Parameter %s not recognized" % key)
        if not utf8 and not (local + (domain or "")).isascii():
            raise Reply("553 5.6.7 UTF-8 address without SMTPUTF8")
        self.mail = "%s@%s" % (local, domain) if domain else local
        self.utf8, self.binarymime = utf8, binarymime
        self.send("250 2.1.0 Ok")

    def cmd_RCPT(self, arg):
        if self.mail is None:
            if self.bug("rcpt-without-mail") and self.greeted == "EHLO" and arg and arg[:3].upper() == "TO:":
                try:
                    _, domain, rest = self.parse_path(arg[3:], mail=False)
                except Reply:
                    domain = rest = None
                if domain and rest == "" and domain.lower().endswith(".test"):
                    planted("violation", "rcpt-without-mail")
                    return self.send("250 2.1.5 Ok")
            raise Reply("503 5.5.1 Need MAIL before RCPT")
        if self.bdat is not None:
            raise Reply("503 5.5.1 RCPT after BDAT")
        if arg is None or arg[:3].upper() != "TO:":
            raise Reply("501 5.5.4 Syntax: RCPT TO:<address>")
        local, domain, rest = self.parse_path(arg[3:], mail=False)
        for key, _ in self.parse_params(rest):
            raise Reply("555 5.5.4 Parameter %s not recognized" % key)
        if not self.utf8 and not (local + (domain or "")).isascii():
            raise Reply("553 5.6.7 UTF-8 address without SMTPUTF8")
        if len(self.rcpts) >= MAX_RECIPIENTS:
            raise Reply("452 4.5.3 Too many recipients")
        if self.bug("rcpt-counter") and len(self.rcpts) == 16:
            crash("rcpt-counter")
        self.rcpts.append("%s@%s" % (local, domain) if domain else local)
        self.send("250 2.1.5 Ok")

    # --- message data ---------------------------------------------------------

    def cmd_DATA(self, arg):
        self.no_argument(arg, "DATA")
        if self.mail is None:
            raise Reply("503 5.5.1 Need MAIL before DATA")
        if self.bdat is not None:
            raise Reply("503 5.5.1 DATA after BDAT")
        if self.binarymime:
            raise Reply("503 5.5.1 BODY=BINARYMIME needs BDAT")
        if not self.rcpts:
            raise Reply("554 5.5.1 No valid recipients")
        self.send("354 End data with <CR><LF>.<CR><LF>")
        size, long_line = self.read_data()
        self.reset()
        if long_line:
            raise Reply("552 5.3.4 A text line is longer than %d octets" % MAX_LINE)
        if size > SIZE_LIMIT:
            raise Reply("552 5.3.4 Message size exceeds fixed maximum message size")
        self.send("250 2.0.0 Ok: message accepted (discarded)")

    def read_data(self):
        """The data up to <CRLF>.<CRLF> (or, planted eod-lf, a bare
        <LF>.<LF> in data that starts with a header field); the rest of
        the buffer is commands. Returns (unstuffed octets, a long line?)."""
        size, long_line = 0, False
        header = None  # whether the data starts with a header field; None: not known yet
        first = True  # in the first line
        line_start = True  # no octet of the current line dropped yet
        while True:
            end = self.buf.find(b"\r\n")
            segment = self.buf if end < 0 else self.buf[:end]
            if first and header is None:
                if HEADER_RE.match(segment):
                    header = True
                elif end >= 0 or FTEXT_RE.match(segment).end() < len(segment):
                    header = False
            if header and self.bug("eod-lf"):
                at = self.bare_lf_dot_lf(segment)
                if at >= 0:
                    planted("violation", "eod-lf")
                    size += at
                    del self.buf[:at + 3]
                    return size, long_line
            if end < 0:
                if len(self.buf) > MAX_LINE:
                    long_line = True
                    size += len(self.buf) - 3
                    del self.buf[:-3]  # a CR, or LF "." of a bare LF-dot-LF, may go on
                    line_start = False
                    if first and header is None:
                        header = False
                self.fill()
                continue
            line = bytes(self.buf[:end])
            del self.buf[:end + 2]
            if line_start and line == b".":
                return size, long_line
            if len(line) + 2 > MAX_LINE or not line_start:
                long_line = True
            if line_start and line.startswith(b"."):
                line = line[1:]
            size += len(line) + 2
            first, line_start = False, True

    @staticmethod
    def bare_lf_dot_lf(segment):
        """Where LF "." LF starts in segment with its first LF not after a
        CR (the segment starts after a CRLF: an LF there is bare); -1."""
        at = segment.find(b"\n.\n")
        while at >= 0:
            if at == 0 or segment[at - 1] != 0x0D:
                return at
            at = segment.find(b"\n.\n", at + 1)
        return -1

    def cmd_BDAT(self, arg):
        m = re.fullmatch(r"([0-9]+)(?: (LAST))?", arg or "", re.I)
        if not m:
            raise Reply("501 5.5.4 Syntax: BDAT chunk-size [LAST]")
        n, last = int(m.group(1)), m.group(2) is not None
        if self.greeted != "EHLO" or self.mail is None or not self.rcpts:
            self.read_octets(n)
            raise Reply("503 5.5.1 BDAT needs EHLO, MAIL and RCPT first")
        if self.bdat is None:
            self.bdat = [0, False]
        if self.bug("bdat-hang") and last and n > 0 and self.bdat[1]:
            hang("bdat-hang")
        self.read_octets(n)
        self.bdat[0] += n
        self.bdat[1] = n == 0 and not last
        if self.bdat[0] > SIZE_LIMIT:
            self.reset()
            raise Reply("552 5.3.4 Message size exceeds fixed maximum message size")
        if last:
            total = self.bdat[0]
            self.reset()
            return self.send("250 2.0.0 Ok: message accepted (discarded), %d octets" % total)
        self.send("250 2.0.0 %d octets received" % n)

    # --- the other commands -------------------------------------------------

    def cmd_RSET(self, arg):
        self.no_argument(arg, "RSET")
        self.reset()
        self.send("250 2.0.0 Ok")

    def cmd_NOOP(self, arg):
        self.send("250 2.0.0 Ok")

    def cmd_HELP(self, arg):
        self.send("214 2.0.0 See RFC 5321")

    def cmd_EXPN(self, arg):
        self.send("502 5.5.1 EXPN not implemented")

    def cmd_VRFY(self, arg):
        if not arg:
            raise Reply("501 5.5.4 Syntax: VRFY string")
        if self.bug("vrfy-hang") and QUOTED_RE.fullmatch(arg) and " " in unquote(arg):
            hang("vrfy-hang")
        text = arg[:-9] if arg.upper().endswith(" SMTPUTF8") else arg
        if not text:
            raise Reply("501 5.5.4 Syntax: VRFY string")
        if text is arg and not arg.isascii():
            raise Reply("553 5.6.7 UTF-8 in VRFY without SMTPUTF8")
        self.send("252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery")

    def cmd_QUIT(self, arg):
        self.no_argument(arg, "QUIT")
        self.send("221 2.0.0 %s closing connection" % HOSTNAME)
        return "quit"

    # --- AUTH (RFC 4954) ------------------------------------------------------

    def cmd_AUTH(self, arg):
        if self.greeted != "EHLO":
            raise Reply("503 5.5.1 Send EHLO first")
        if self.authenticated:
            raise Reply("503 5.5.1 Already authenticated")
        if self.mail is not None:
            raise Reply("503 5.5.1 AUTH not permitted during a mail transaction")
        m = re.fullmatch(r"([A-Za-z0-9_-]{1,20})(?: (\S+))?", arg or "")
        if not m:
            raise Reply("501 5.5.4 Syntax: AUTH mechanism [initial-response]")
        mechanism, initial = m.group(1).upper(), m.group(2)
        if mechanism == "PLAIN":
            message = self.sasl_decode(initial) if initial is not None else self.challenge("")
            fields = message.split(b"\0")
            if len(fields) != 3 or not fields[1]:
                raise Reply("501 5.5.2 Malformed PLAIN message")
            authzid, authcid, password = fields
            if self.bug("auth-payload") and len(authcid) > 255:
                crash("auth-payload")
        elif mechanism == "LOGIN":
            authcid = self.sasl_decode(initial) if initial is not None else self.challenge("VXNlcm5hbWU6")
            password = self.challenge("UGFzc3dvcmQ6")
            authzid = b""
        else:
            raise Reply("504 5.5.4 Unrecognized authentication mechanism")
        try:
            user, pw, zid = authcid.decode("utf-8"), password.decode("utf-8"), authzid.decode("utf-8")
        except UnicodeDecodeError:
            raise Reply("535 5.7.8 Authentication credentials invalid")
        if len(authcid) > 255 or USERS.get(user) != pw or zid not in ("", user):
            raise Reply("535 5.7.8 Authentication credentials invalid")
        self.authenticated = True
        self.send("235 2.7.0 Authentication successful")

    def challenge(self, text):
        """334 text, then the client's response line, decoded."""
        self.send("334 " + text)
        raw, crlf, too_long = self.read_line(MAX_SASL_LINE)
        if too_long:
            raise Reply("500 5.5.6 Authentication exchange line too long")
        if not crlf:
            raise Reply("501 5.5.2 Bare LF in an authentication response")
        try:
            response = raw.decode("ascii")
        except UnicodeDecodeError:
            raise Reply("501 5.5.2 Cannot decode the response")
        if response == "*":
            raise Reply("501 5.0.0 Authentication cancelled")
        return self.sasl_decode(response) if response else b""

    @staticmethod
    def sasl_decode(text):
        if text == "=":
            return b""
        if text == "*":
            raise Reply("501 5.0.0 Authentication cancelled")
        try:
            if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", text):
                raise binascii.Error
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise Reply("501 5.5.2 Cannot decode the response")


# --- modes ----------------------------------------------------------------------------


def parse_bugs(text):
    if text == "all":
        return frozenset(BUGS)
    if text == "none":
        return frozenset()
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in names if x not in BUGS]
    if not names or unknown:
        raise argparse.ArgumentTypeError("unknown bug %s (known: all, none, %s)"
                                         % (", ".join(unknown) or repr(text), ", ".join(BUGS)))
    return frozenset(names)


def parse_address(text):
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([^:\[\]]+):(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    host = m.group(1) or m.group(3)
    return host, int(m.group(2) or m.group(4))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="planted_server.py",
                                description="A strict ESMTP server with planted bugs (see the module docstring).")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", action="store_true", help="one session on stdin/stdout")
    mode.add_argument("--listen", type=parse_address, metavar="HOST:PORT", help="TCP, one thread per session")
    p.add_argument("--bugs", type=parse_bugs, default=frozenset(BUGS), metavar="all|none|LIST",
                   help="planted bugs that are live (default all)")
    return p.parse_args(argv)


def serve_stdio(bugs):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        Session(StdioChannel(), bugs).run()
    except Stop:
        pass
    except Exception:
        traceback.print_exc()
        return INTERNAL_ERROR
    return 0


class Stop(BaseException):
    """SIGTERM or SIGINT: the end of the server (exit 0)."""


def on_signal(signum, frame):
    raise Stop


def serve_tcp(address, bugs):
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(64)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bound = listener.getsockname()
    shown = "[%s]" % bound[0] if family == socket.AF_INET6 else bound[0]
    sys.stdout.write("listening %s:%d\n" % (shown, bound[1]))
    sys.stdout.flush()

    def session(sock):
        try:
            Session(SocketChannel(sock), bugs).run()
        except Exception:
            traceback.print_exc()
        finally:
            try:
                sock.close()
            except OSError:
                pass

    try:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                time.sleep(0.05)  # e.g. out of file descriptors; the listener stays
                continue
            threading.Thread(target=session, args=(sock,), daemon=True).start()
    except Stop:
        pass
    listener.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # sessions (a hung one too) are daemon threads: none is waited for


def main(argv=None):
    args = parse_args(argv)
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    if args.stdio:
        return serve_stdio(args.bugs)
    return serve_tcp(args.listen, args.bugs)


if __name__ == "__main__":
    sys.exit(main())
