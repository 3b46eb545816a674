# test_planted_server.py — peers/planted_server.py, the strict ESMTP server
# with planted bugs that a black-box fuzzer is measured against:
#
# - every planted bug, in stdio mode: trigger_dialogue(NAME) shows exactly
#   that bug's oracle (crash: SIGABRT and the "==PLANTED== crash: NAME"
#   line; hang: no reply for 2 s after the trigger while the process lives;
#   violation: the wrong reply), the replies before the trigger are the
#   correct ones, and with --bugs none the same octets get the correct
#   replies throughout;
# - the edges of each trigger (one octet, one group, one recipient short of
#   it; HELO instead of EHLO; a domain not under .test) get correct replies
#   with every bug live;
# - normal sessions (EHLO, MAIL, RCPT, dot-stuffed DATA, BDAT, AUTH PLAIN and
#   LOGIN, QUIT) work over stdio and over TCP (smtplib), with every bug live;
# - TCP: a crash trigger kills the whole server (the port stops accepting);
#   a hung session leaves the others working and SIGTERM still ends the
#   server with exit 0; the bare <LF>.<LF> is answered without waiting for
#   more octets.
#
# Limits: every process is killed and waited for in a finally; every read
# has a deadline. The table-driven stdio sessions run up front, eight
# processes at a time (the module fixture `batch`); the two stdio hangs are
# watched together for 2 s. About 10 s in all.
import base64
import os
import re
import select
import signal
import smtplib
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from peers.planted_server import BUGS, trigger_dialogue

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "planted_server.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
HANG_WAIT = 2.0

EHLO = b"EHLO client.example.test\r\n"
MAIL = b"MAIL FROM:<sender@example.test>\r\n"
RCPT = b"RCPT TO:<rcpt@example.test>\r\n"
QUIT = b"QUIT\r\n"
PLAIN_OK = base64.b64encode(b"\0alice\0wonderland")

# Per bug: the reply codes of the correct server (--bugs none) to
# trigger_dialogue(NAME), and where the trigger is: the index of the reply
# the bug takes the place of (crash, hang), or the codes of the buggy
# server (violation).
CORRECT = {
    "path-length": ([220, 250, 553, 221], 2),
    "quoted-escape": ([220, 250, 250, 250, 221], 3),
    "address-literal": ([220, 250, 250, 501, 221], 3),
    "rcpt-counter": ([220, 250, 250] + [250] * 17 + [221], 19),
    "size-param": ([220, 250, 552, 221], 2),
    "auth-payload": ([220, 250, 535, 221], 2),
    "bdat-hang": ([220, 250, 250, 250, 250, 250, 221], 5),
    "vrfy-hang": ([220, 252, 221], 1),
    "eod-lf": ([220, 250, 250, 250, 354, 250, 221], [220, 250, 250, 250, 354, 250, 250, 500, 221]),
    "rcpt-without-mail": ([220, 250, 503, 221], [220, 250, 250, 221]),
    "helo-unbounded": ([220, 501, 221], [220, 250, 221]),
}
# The enhanced status codes of the correct refusals.
CORRECT_TEXT = {
    "path-length": (2, "553 5.1.7"),
    "address-literal": (3, "501 5.1.3"),
    "size-param": (2, "552 5.3.4"),
    "auth-payload": (2, "535 5.7.8"),
    "rcpt-without-mail": (2, "503 5.5.1"),
    "helo-unbounded": (1, "501 5.5.4"),
}


def parse_replies(out):
    """[(code, [first line, ...])] from the octets a server wrote; every
    line must end with CRLF and a reply may not be cut short."""
    assert out == b"" or out.endswith(b"\r\n"), out[-200:]
    replies, lines = [], []
    for line in out.split(b"\r\n")[:-1]:
        assert re.match(rb"^\d{3}[ -]", line) or re.match(rb"^\d{3}$", line), line[:200]
        lines.append(line.decode("utf-8"))
        if line[3:4] != b"-":
            replies.append((int(line[:3]), lines))
            lines = []
    assert not lines, "a multi-line reply cut short: %r" % lines
    return replies


def codes(out):
    return [code for code, _ in parse_replies(out)]


def planted_lines(err):
    return re.findall(r"==PLANTED== (\w+): ([\w-]+)", err.decode("utf-8", "replace"))


def run_stdio(data, bugs="all", timeout=30):
    """One stdio session fed data all at once: (returncode, stdout, stderr)."""
    p = subprocess.Popen([PYTHON, SERVER, "--stdio", "--bugs", bugs], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(data, timeout=timeout)
        return p.returncode, out, err
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def read_for(fds, seconds):
    """What each fd gives within `seconds` (the process may not end)."""
    got = {fd: b"" for fd in fds}
    deadline = time.monotonic() + seconds
    open_fds = list(fds)
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(open_fds, [], [], left)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                got[fd] += chunk
            else:
                open_fds.remove(fd)
    return got


def run_hangs(inputs, bugs="all"):
    """Feed each input to its own process (stdin is then closed) and watch
    them all for HANG_WAIT seconds: [(alive at the end, stdout, stderr)].
    A process still alive must end on SIGTERM; every one is killed after."""
    procs = [subprocess.Popen([PYTHON, SERVER, "--stdio", "--bugs", bugs], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in inputs]
    try:
        for p, data in zip(procs, inputs):
            p.stdin.write(data)
            p.stdin.close()
        got = read_for([f.fileno() for p in procs for f in (p.stdout, p.stderr)], HANG_WAIT)
        results = []
        for p in procs:
            alive = p.poll() is None
            if alive:
                p.terminate()
                p.wait(5)
            results.append((alive, got[p.stdout.fileno()], got[p.stderr.fileno()]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()


def others(name):
    return ",".join(n for n in BUGS if n != name)


# --- the table ------------------------------------------------------------------------


def test_bug_table():
    assert len(BUGS) >= 10
    assert set(CORRECT) == set(BUGS)
    doc = open(SERVER, encoding="utf-8").read()
    for name, bug in BUGS.items():
        assert bug["kind"] in ("crash", "hang", "violation"), name
        assert bug["depth"] in ("shallow", "medium", "deep"), name
        assert bug["rfc"].startswith("RFC ") and bug["trigger"], name
        assert re.search(r"^  %s +%s, %s\." % (re.escape(name), bug["kind"], bug["depth"]), doc, re.M), name
        assert trigger_dialogue(name).endswith(QUIT)
    with pytest.raises(KeyError):
        trigger_dialogue("no-such-bug")


# --- every bug: its oracle, and the control -------------------------------------------

CRASHES = [n for n in BUGS if BUGS[n]["kind"] == "crash"]
HANGS = [n for n in BUGS if BUGS[n]["kind"] == "hang"]
VIOLATIONS = [n for n in BUGS if BUGS[n]["kind"] == "violation"]


@pytest.fixture(scope="module")
def batch():
    """Every stdio session of the table-driven tests, run up front, eight
    processes at a time: {(input, bugs): (returncode, stdout, stderr)}."""
    jobs = {(trigger_dialogue(n), b) for n in CRASHES + VIOLATIONS for b in ("all", n, others(n))}
    jobs |= {(trigger_dialogue(n), "none") for n in BUGS}
    jobs |= {(data + QUIT, "all") for _, data, _ in EDGES + STRICT}
    jobs |= {(NORMAL, "all"), (NORMAL, "none")}
    jobs = sorted(jobs)
    with ThreadPoolExecutor(8) as pool:
        results = dict(zip(jobs, pool.map(lambda job: run_stdio(*job), jobs)))
    return lambda data, bugs="all": results.get((data, bugs)) or run_stdio(data, bugs)


@pytest.fixture(scope="module")
def hangs():
    """{NAME: (alive, stdout, stderr)} for the hang bugs, watched together."""
    return dict(zip(HANGS, run_hangs([trigger_dialogue(n) for n in HANGS])))


@pytest.mark.parametrize("bugs", ["all", "only"])
@pytest.mark.parametrize("name", CRASHES)
def test_crash(batch, name, bugs):
    rc, out, err = batch(trigger_dialogue(name), name if bugs == "only" else "all")
    assert rc == -signal.SIGABRT, (rc, err)
    assert planted_lines(err) == [("crash", name)]
    assert err.decode().startswith("==PLANTED== crash: %s\n" % name)
    correct, at = CORRECT[name]
    assert codes(out) == correct[:at]  # everything before the trigger answered correctly


@pytest.mark.parametrize("name", HANGS)
def test_hang(hangs, name):
    alive, out, err = hangs[name]
    assert alive, "the process ended instead of hanging"
    correct, at = CORRECT[name]
    assert codes(out) == correct[:at]  # no reply to the trigger, nor to anything after it
    assert planted_lines(err) == [("hang", name)]


@pytest.mark.parametrize("bugs", ["all", "only"])
@pytest.mark.parametrize("name", VIOLATIONS)
def test_violation(batch, name, bugs):
    rc, out, err = batch(trigger_dialogue(name), name if bugs == "only" else "all")
    assert rc == 0, err
    assert codes(out) == CORRECT[name][1]
    assert planted_lines(err) == [("violation", name)]
    if name == "helo-unbounded":
        first = parse_replies(out)[1][1][0]
        assert len(first) + 2 > 512 and first.startswith("250-planted.smtpkit.test Hello h")


@pytest.mark.parametrize("name", list(BUGS))
def test_control(batch, name):
    """--bugs none: the correct server, the same octets, no crash, no hang."""
    rc, out, err = batch(trigger_dialogue(name), "none")
    assert rc == 0 and err == b"", err
    assert codes(out) == CORRECT[name][0]
    if name in CORRECT_TEXT:
        i, text = CORRECT_TEXT[name]
        assert parse_replies(out)[i][1][-1].startswith(text)


@pytest.mark.parametrize("name", CRASHES + VIOLATIONS)
def test_other_bugs_do_not_fire(batch, name):
    """With every bug but NAME live, NAME's trigger gets the correct replies."""
    rc, out, err = batch(trigger_dialogue(name), others(name))
    assert (rc, planted_lines(err), codes(out)) == (0, [], CORRECT[name][0])


# --- the edges of the triggers, every bug live --------------------------------------------


def local(n):
    return b"l" * n


EDGES = [
    # path-length: 64 is fine, 81 and more refused; RCPT too.
    ("local part of 64", EHLO + b"MAIL FROM:<" + local(64) + b"@example.test>\r\n", [220, 250, 250]),
    ("local part of 81", EHLO + b"MAIL FROM:<" + local(81) + b"@example.test>\r\n", [220, 250, 553]),
    ("local part of 200", EHLO + MAIL + b"RCPT TO:<" + local(200) + b"@example.test>\r\n", [220, 250, 250, 553]),
    # quoted-escape: an escaped quote, a backslash not last, MAIL FROM.
    ("escaped quote", EHLO + MAIL + b'RCPT TO:<"ab\\"c"@example.test>\r\n', [220, 250, 250, 250]),
    ("escaped backslash inside", EHLO + MAIL + b'RCPT TO:<"a\\\\b"@example.test>\r\n', [220, 250, 250, 250]),
    ("quoted-escape in MAIL", EHLO + b'MAIL FROM:<"abc\\\\"@example.test>\r\n', [220, 250, 250]),
    ("unterminated quote", EHLO + MAIL + b'RCPT TO:<"abc\\"@example.test>\r\n', [220, 250, 250, 501]),
    # address-literal: 8 groups, "::" forms, IPv4, 9 groups in MAIL FROM.
    ("IPv6 of 8 groups", EHLO + MAIL + b"RCPT TO:<r@[IPv6:1:2:3:4:5:6:7:8]>\r\n", [220, 250, 250, 250]),
    ("IPv6 with ::", EHLO + MAIL + b"RCPT TO:<r@[IPv6:2001:db8::1]>\r\n", [220, 250, 250, 250]),
    ("IPv6 with IPv4 tail", EHLO + MAIL + b"RCPT TO:<r@[IPv6:::ffff:192.0.2.1]>\r\n", [220, 250, 250, 250]),
    ("IPv4 literal", EHLO + MAIL + b"RCPT TO:<r@[192.0.2.1]>\r\n", [220, 250, 250, 250]),
    ("IPv4 literal over 255", EHLO + MAIL + b"RCPT TO:<r@[192.0.2.256]>\r\n", [220, 250, 250, 501]),
    ("IPv6 of 9 groups in MAIL", EHLO + b"MAIL FROM:<s@[IPv6:1:2:3:4:5:6:7:8:9]>\r\n", [220, 250, 501]),
    ("IPv6 group of 5 digits", EHLO + MAIL + b"RCPT TO:<r@[IPv6:1:2:3:4:5:6:7:8:12345]>\r\n", [220, 250, 250, 501]),
    # rcpt-counter: 16, then RSET, then 16 again.
    ("16 + RSET + 16 recipients",
     EHLO + (MAIL + b"".join(b"RCPT TO:<r%d@example.test>\r\n" % i for i in range(16)) + b"RSET\r\n") * 2,
     [220, 250] + ([250] * 17 + [250]) * 2),
    # size-param: just under 2^32, 2^64, 20 and 21 digits, the limit itself.
    ("SIZE=2^32-1", EHLO + MAIL[:-2] + b" SIZE=4294967295\r\n", [220, 250, 552]),
    ("SIZE=2^64", EHLO + MAIL[:-2] + b" SIZE=18446744073709551616\r\n", [220, 250, 552]),
    ("SIZE of 21 digits", EHLO + MAIL[:-2] + b" SIZE=100000000000000000000\r\n", [220, 250, 501]),
    ("SIZE at the limit", EHLO + MAIL[:-2] + b" SIZE=10485760 BODY=8BITMIME\r\n", [220, 250, 250]),
    ("SIZE after HELO", b"HELO client.example.test\r\n" + MAIL[:-2] + b" SIZE=4294967296\r\n", [220, 250, 555]),
    # auth-payload: an authcid of 255 octets is refused, not a crash; LOGIN.
    ("authcid of 255", EHLO + b"AUTH PLAIN " + base64.b64encode(b"\0" + b"u" * 255 + b"\0pw") + b"\r\n",
     [220, 250, 535]),
    ("LOGIN user of 300", EHLO + b"AUTH LOGIN " + base64.b64encode(b"u" * 300) + b"\r\n"
     + base64.b64encode(b"pw") + b"\r\n", [220, 250, 334, 535]),
    ("PLAIN of two fields", EHLO + b"AUTH PLAIN " + base64.b64encode(b"\0" + b"u" * 300) + b"\r\n", [220, 250, 501]),
    # bdat-hang: BDAT 0 then a chunk that is not LAST, or LAST of 0 octets.
    ("BDAT 0, 3, 5 LAST", EHLO + MAIL + RCPT + b"BDAT 0\r\nBDAT 3\r\nabcBDAT 5 LAST\r\nhello",
     [220, 250, 250, 250, 250, 250, 250]),
    ("BDAT 0, 0 LAST", EHLO + MAIL + RCPT + b"BDAT 0\r\nBDAT 0 LAST\r\n", [220, 250, 250, 250, 250, 250]),
    # vrfy-hang: no space, not the whole argument.
    ("VRFY quoted, no space", b'VRFY "John"\r\n', [220, 252]),
    ("VRFY unquoted with space", b'VRFY John Smith\r\n', [220, 252]),
    ("VRFY quoted then SMTPUTF8", b'VRFY "John Smith" SMTPUTF8\r\n', [220, 252]),
    # eod-lf: no header, or a CR before the first LF.
    ("LF.LF without a header", EHLO + MAIL + RCPT + b"DATA\r\nbody\n.\nNOOP\r\n.\r\n", [220, 250, 250, 250, 354, 250]),
    ("CRLF.LF", EHLO + MAIL + RCPT + b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\nNOOP\r\n.\r\n",
     [220, 250, 250, 250, 354, 250]),
    # rcpt-without-mail: after HELO, a domain not under .test, after RSET.
    ("RCPT after HELO", b"HELO client.example.test\r\n" + RCPT, [220, 250, 503]),
    ("RCPT to .example", EHLO + b"RCPT TO:<rcpt@example.org>\r\n", [220, 250, 503]),
    ("RCPT with a parameter", EHLO + RCPT[:-2] + b" NOTIFY=NEVER\r\n", [220, 250, 503]),
    # helo-unbounded: 255 octets is a valid name; HELO is not affected.
    ("EHLO of 255", b"EHLO " + b".".join([b"h" * 63] * 4) + b"\r\n", [220, 250]),
    ("HELO of 614", b"HELO " + b".".join([b"h" * 60] * 10) + b".test\r\n", [220, 501]),
]


@pytest.mark.parametrize("label,data,expected", EDGES, ids=[e[0] for e in EDGES])
def test_trigger_edges(batch, label, data, expected):
    rc, out, err = batch(data + QUIT)
    assert (rc, planted_lines(err)) == (0, []), err
    assert codes(out) == expected + [221]


# --- the correct server ----------------------------------------------------------------

STRICT = [
    ("bare LF", b"NOOP\n", [500]),
    ("bare CR", b"NO\rOP\r\n", [500]),
    ("line of 1001", b"NOOP " + b"x" * 994 + b"\r\n", [500]),
    ("line of 1000", b"NOOP " + b"x" * 993 + b"\r\n", [250]),
    ("unknown verb", b"FOO\r\n", [500]),
    ("EXPN", b"EXPN list\r\n", [502]),
    ("MAIL before EHLO", MAIL, [503]),
    ("space after the colon", EHLO + b"MAIL FROM: <s@example.test>\r\n", [250, 501]),
    ("no angle brackets", EHLO + b"MAIL FROM:s@example.test\r\n", [250, 501]),
    ("unknown parameter", EHLO + MAIL[:-2] + b" FOO=1\r\n", [250, 555]),
    ("bad BODY", EHLO + MAIL[:-2] + b" BODY=9BIT\r\n", [250, 501]),
    ("nested MAIL", EHLO + MAIL + MAIL, [250, 250, 503]),
    ("DATA without RCPT", EHLO + MAIL + b"DATA\r\n", [250, 250, 554]),
    ("DATA with an argument", EHLO + MAIL + RCPT + b"DATA now\r\n", [250, 250, 250, 501]),
    ("UTF-8 without SMTPUTF8", EHLO + "MAIL FROM:<jörg@example.test>\r\n".encode(), [250, 553]),
    ("UTF-8 with SMTPUTF8", EHLO + "MAIL FROM:<jörg@example.test> SMTPUTF8\r\n".encode()
     + "RCPT TO:<björn@exämple.test>\r\n".encode(), [250, 250, 250]),
    ("null path, Postmaster, source route", EHLO + b"MAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n"
     b"RCPT TO:<@a.example,@b.example:r@example.test>\r\n", [250, 250, 250, 250]),
    ("a label of 64", EHLO + MAIL + b"RCPT TO:<r@" + b"d" * 64 + b".test>\r\n", [250, 250, 553]),
    ("RCPT parameter", EHLO + MAIL + RCPT[:-2] + b" NOTIFY=NEVER\r\n", [250, 250, 555]),
    ("bad source route", EHLO + MAIL + b"RCPT TO:<@a_b.example:r@example.test>\r\n", [250, 250, 501]),
    ("BINARYMIME needs BDAT", EHLO + MAIL[:-2] + b" BODY=BINARYMIME\r\n" + RCPT + b"DATA\r\n", [250, 250, 250, 503]),
    ("BDAT before MAIL, octets read", EHLO + b"BDAT 6\r\nNOOP\r\nNOOP\r\n", [250, 503, 250]),
    ("AUTH before EHLO", b"AUTH PLAIN " + PLAIN_OK + b"\r\n", [503]),
    ("AUTH unknown mechanism", EHLO + b"AUTH CRAM-MD5\r\n", [250, 504]),
    ("AUTH bad base64", EHLO + b"AUTH PLAIN !!!!\r\n", [250, 501]),
    ("AUTH cancelled", EHLO + b"AUTH PLAIN\r\n*\r\n", [250, 334, 501]),
    ("AUTH wrong password", EHLO + b"AUTH PLAIN " + base64.b64encode(b"\0alice\0queen") + b"\r\n", [250, 535]),
    ("AUTH twice", EHLO + (b"AUTH PLAIN " + PLAIN_OK + b"\r\n") * 2, [250, 235, 503]),
    ("AUTH in a transaction", EHLO + MAIL + b"AUTH PLAIN " + PLAIN_OK + b"\r\n", [250, 250, 503]),
    ("VRFY without argument", b"VRFY\r\n", [501]),
    ("long data line", EHLO + MAIL + RCPT + b"DATA\r\nSubject: x\r\n\r\n" + b"y" * 999 + b"\r\n.\r\n",
     [250, 250, 250, 354, 552]),
    ("data line of 998", EHLO + MAIL + RCPT + b"DATA\r\nSubject: x\r\n\r\n" + b"y" * 998 + b"\r\n.\r\n",
     [250, 250, 250, 354, 250]),
]


@pytest.mark.parametrize("label,data,expected", STRICT, ids=[e[0] for e in STRICT])
def test_strict(batch, label, data, expected):
    rc, out, err = batch(data + QUIT)
    assert (rc, planted_lines(err)) == (0, []), err
    assert codes(out) == [220] + expected + [221]


# DATA with dot-stuffed lines (one a stuffed lone dot, one a command's
# text), then BDAT chunks holding what would end DATA or be a command.
CHUNKS = [b"Subject: b\r\n", b"\r\n.\r\nQUIT\r\n", b"end\n"]
NORMAL = (EHLO + MAIL + RCPT + b"RCPT TO:<second@example.test>\r\nDATA\r\n"
          b"From: sender@example.test\r\nSubject: normal\r\n\r\n..A line that starts with a dot.\r\n"
          b"..\r\n...\r\nQUIT\r\n.\r\n"
          + MAIL + RCPT + b"BDAT %d\r\n%sBDAT %d\r\n%sBDAT %d LAST\r\n%s" % sum(((len(c), c) for c in CHUNKS), ())
          + b"AUTH PLAIN " + PLAIN_OK + b"\r\n" + b"NOOP\r\nRSET\r\nQUIT\r\n")


@pytest.mark.parametrize("bugs", ["all", "none"])
def test_normal_session_stdio(batch, bugs):
    rc, out, err = batch(NORMAL, bugs)
    assert (rc, err) == (0, b"")
    replies = parse_replies(out)
    assert [c for c, _ in replies] == [220, 250, 250, 250, 250, 354, 250, 250, 250, 250, 250, 250, 235, 250, 250,
                                       221]
    ehlo = [line[4:] for line in replies[1][1]]
    assert ehlo[1:] == ["PIPELINING", "SIZE 10485760", "8BITMIME", "BINARYMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                        "CHUNKING", "AUTH PLAIN LOGIN", "HELP"]
    assert replies[11][1][0] == "250 2.0.0 Ok: message accepted (discarded), %d octets" % len(b"".join(CHUNKS))


def test_auth_after_334_stdio():
    data = EHLO + b"AUTH PLAIN\r\n" + PLAIN_OK + b"\r\n" + QUIT
    rc, out, err = run_stdio(data)
    assert codes(out) == [220, 250, 334, 235, 221]
    data = (EHLO + b"AUTH LOGIN\r\n" + base64.b64encode(b"alice") + b"\r\n" + base64.b64encode(b"wonderland")
            + b"\r\n" + QUIT)
    rc, out, err = run_stdio(data)
    assert codes(out) == [220, 250, 334, 334, 235, 221]
    assert parse_replies(out)[2][1] == ["334 VXNlcm5hbWU6"]


def test_auth_payload_after_334():
    """The auth-payload trigger in a response line after the 334 as well."""
    data = EHLO + b"AUTH PLAIN\r\n" + base64.b64encode(b"\0" + b"u" * 300 + b"\0pw") + b"\r\n" + QUIT
    rc, out, err = run_stdio(data)
    assert rc == -signal.SIGABRT and planted_lines(err) == [("crash", "auth-payload")]
    assert codes(out) == [220, 250, 334]
    rc, out, err = run_stdio(data, "none")
    assert codes(out) == [220, 250, 334, 535, 221]


def test_usage():
    for argv in (["--stdio", "--bugs", "no-such-bug"], ["--stdio", "--bugs", ""], [],
                 ["--stdio", "--listen", "127.0.0.1:0"], ["--listen", "nowhere"]):
        p = subprocess.run([PYTHON, SERVER] + argv, input=b"", capture_output=True, timeout=10)
        assert p.returncode == 2, (argv, p.stderr)


def test_stdio_sigterm():
    p = subprocess.Popen([PYTHON, SERVER, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline().startswith(b"220 ")
        p.terminate()
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()


# --- TCP --------------------------------------------------------------------------------


class TcpServer:
    def __init__(self, bugs="all"):
        self.proc = subprocess.Popen([PYTHON, SERVER, "--listen", "127.0.0.1:0", "--bugs", bugs],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], 10)
            assert ready, "the server did not say where it listens"
            m = re.fullmatch(rb"listening 127\.0\.0\.1:(\d+)\n", self.proc.stdout.readline())
            assert m
            self.port = int(m.group(1))
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Ends the server (if it still runs); its stderr."""
        if self.proc.stderr.closed:
            return self.err
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()
        self.err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.err

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


@pytest.fixture
def tcp_server():
    servers = []

    def start(bugs="all"):
        servers.append(TcpServer(bugs))
        return servers[-1]

    try:
        yield start
    finally:
        for s in servers:
            s.stop()


def recv_replies(sock, count, timeout=5):
    """Octets up to the end of the count-th reply."""
    sock.settimeout(timeout)
    data = b""
    while len(re.findall(rb"(?m)^\d{3}(?: [^\r\n]*)?\r\n", data)) < count:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # a server that died with octets unread
            break
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("bugs", ["all", "none"])
def test_tcp_smtplib(tcp_server, bugs):
    srv = tcp_server(bugs)
    message = ("From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: tcp\r\n\r\n"
               ".A line that starts with a dot.\r\n.\r\n..\r\nlast\r\n")
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
        code, _ = s.ehlo("client.example.test")
        assert code == 250
        for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "chunking"):
            assert s.has_extn(ext), ext
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert s.login("alice", "wonderland")[0] == 235  # PLAIN, the initial response
        assert s.sendmail("sender@example.test", ["rcpt@example.test", "other@example.test"], message) == {}
        assert s.noop()[0] == 250
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
        s.ehlo("client.example.test")
        s.user, s.password = "alice", "wonderland"
        assert s.auth("LOGIN", s.auth_login)[0] == 235
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("sender@example.test", ["r@[IPv6:1::2:3:4:5:6:7]"], message)  # invalid literal: 501
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
        s.ehlo("client.example.test")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("alice", "queen")
    sock = srv.connect()
    try:  # BDAT over TCP, pipelined
        sock.sendall(EHLO + MAIL + RCPT + b"BDAT 7\r\n\r\n.\r\nxyBDAT 0\r\nBDAT 0 LAST\r\n" + QUIT)
        assert codes(recv_replies(sock, 8)) == [220, 250, 250, 250, 250, 250, 250, 221]
    finally:
        sock.close()
    assert srv.proc.poll() is None


def test_tcp_crash_kills_server(tcp_server):
    srv = tcp_server()
    other = srv.connect()  # a second session, dies with the server
    try:
        assert recv_replies(other, 1).startswith(b"220 ")
        sock = srv.connect()
        try:
            sock.sendall(trigger_dialogue("size-param"))
            out = recv_replies(sock, 10)
        finally:
            sock.close()
        assert codes(out) == [220, 250]
        assert srv.proc.wait(10) == -signal.SIGABRT
        assert recv_replies(other, 1) == b""  # closed (or reset) by the dying server
    finally:
        other.close()
    assert planted_lines(srv.stop()) == [("crash", "size-param")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()


def test_tcp_hang_keeps_others_and_sigterm(tcp_server):
    srv = tcp_server()
    hung = srv.connect()
    try:
        hung.sendall(trigger_dialogue("bdat-hang"))
        assert codes(recv_replies(hung, 5)) == [220, 250, 250, 250, 250]
        hung.settimeout(1.0)
        with pytest.raises(socket.timeout):
            hung.recv(100)
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:  # the server still works
            assert s.ehlo("client.example.test")[0] == 250
            assert s.sendmail("sender@example.test", ["rcpt@example.test"], "Subject: x\r\n\r\nhi\r\n") == {}
        srv.proc.terminate()
        assert srv.proc.wait(5) == 0
    finally:
        hung.close()
    assert planted_lines(srv.stop()) == [("hang", "bdat-hang")]


def test_tcp_eod_lf_answered_at_once(tcp_server):
    """The smuggling trigger is answered without the client sending more."""
    srv = tcp_server()
    sock = srv.connect()
    try:
        sock.sendall(EHLO + MAIL + RCPT + b"DATA\r\n")
        assert codes(recv_replies(sock, 5)) == [220, 250, 250, 250, 354]
        sock.sendall(b"Subject: smuggled\r\n\r\nbody\n")
        sock.sendall(b".\n")
        assert codes(recv_replies(sock, 1)) == [250]
        sock.sendall(b"MAIL FROM:<smuggled@example.test>\r\n" + QUIT)
        assert codes(recv_replies(sock, 2)) == [250, 221]
    finally:
        sock.close()
