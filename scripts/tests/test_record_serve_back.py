# test_record_serve_back.py — "record a real session, serve it back": each
# real client (curl, swaks, msmtp, s-nail, smtplib; plain, STARTTLS, AUTH,
# pipelined) is recorded by `smtpkit record` in front of a real server
# (aiosmtpd or exim), then served its own recording by `smtpkit serve
# --script` and run again with a fresh message — new Date:, Message-ID:,
# boundaries, and so a new SIZE — as it would be in a test suite. The
# client must exit 0 and the server report no deviation (no finding at
# all), with the recording as it is (what clients generate is not compared,
# docs/dialogue-format.md "Mail data"; a note says what varied) and with
# `record --generalize` (C~ patterns, and another EHLO name on the rerun).
#
# Also here: no reply is ever written inside mail data (a message that
# differs is answered once, at its end, with the recorded reply), and a
# transcripts folder used again keeps every earlier file (serve
# --transcripts and record --out).
#
# Limits: Linux; a client or server that is not installed makes its tests
# skip; every wait is bounded. No Debian client here sends BDAT, so BDAT
# is not among the recordings.
import email.message
import email.policy
import email.utils
import json
import os
import shutil
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from peers import clients
from peers.record import Recorder
from smtpkit import binary

SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
AUTH = ("alice", "wonderland")
BODY = b"Hello.\r\n.A line that starts with a dot.\r\nLast line.\r\n"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def fresh_message():
    """What an application writes: a Date and a Message-ID of its own, each time."""
    return (b"From: Sender <sender@example.test>\r\nTo: rcpt@example.test\r\nSubject: served back\r\n"
            b"Date: " + email.utils.formatdate().encode() + b"\r\n"
            b"Message-ID: " + email.utils.make_msgid(domain="client.smtpkit.test").encode() + b"\r\n\r\n" + BODY)


def bare_message():
    """For clients that write Date: and Message-ID: themselves (msmtp, s-nail)."""
    return b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: served back\r\n\r\n" + BODY


def mime_message():
    """smtplib's email package: a multipart message, its boundary chosen at random."""
    m = email.message.EmailMessage()
    m["From"], m["To"], m["Subject"] = SENDER, RCPT, "served back"
    m["Date"] = email.utils.formatdate()
    m["Message-ID"] = email.utils.make_msgid(domain="client.smtpkit.test")
    m.set_content("Hello.\n.A line that starts with a dot.\n")
    m.add_attachment(b"\x00\x01attachment", maintype="application", subtype="octet-stream", filename="a.bin")
    return m.as_bytes(policy=email.policy.SMTP)


def smtplib_send(host, port, message, tls=False, auth=None, ehlo=clients.EHLO_NAME, pipelined=False):
    """smtplib, lower-case verbs and all; `pipelined` sends MAIL, RCPT and
    DATA in one write (RFC 2920), as a pipelining client does."""
    if not pipelined:
        return clients.python_smtplib(host, port, SENDER, [RCPT], message, tls=tls, auth=auth, ehlo=ehlo)
    try:
        with smtplib.SMTP(host, port, local_hostname=ehlo, timeout=10) as c:
            c.ehlo()
            assert c.has_extn("pipelining")
            c.send(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (SENDER.encode(), RCPT.encode()))
            codes = [c.getreply()[0] for _ in range(3)]
            assert codes == [250, 250, 354], codes
            c.send(message.replace(b"\r\n.", b"\r\n..") + b".\r\n")
            assert c.getreply()[0] == 250
        return clients.Result(0)
    except (smtplib.SMTPException, OSError, AssertionError) as e:
        return clients.Result(1, b"", repr(e).encode())


# name -> (tool, server fixture, send(host, port, ehlo) -> Result)
CASES = {
    "curl": ("curl", "aiosmtpd_server",
             lambda h, p, e: clients.curl(h, p, SENDER, [RCPT], fresh_message(), ehlo=e)),
    "curl-starttls-auth": ("curl", "aiosmtpd_tls_auth",
                           lambda h, p, e: clients.curl(h, p, SENDER, [RCPT], fresh_message(), tls=True, auth=AUTH,
                                                        ehlo=e)),
    "swaks": ("swaks", "exim_server",
              lambda h, p, e: clients.swaks(h, p, SENDER, [RCPT], None, ehlo=e,
                                            extra=["--header", "Subject: served back"])),
    "swaks-pipelined": ("swaks", "exim_server",
                        lambda h, p, e: clients.swaks(h, p, SENDER, [RCPT], fresh_message(), pipeline=True, ehlo=e)),
    "swaks-starttls-auth": ("swaks", "exim_tls_auth",
                            lambda h, p, e: clients.swaks(h, p, SENDER, [RCPT], None, tls=True, auth=AUTH, ehlo=e,
                                                          extra=["--header", "Subject: served back"])),
    "msmtp-pipelined": ("msmtp", "exim_server",
                        lambda h, p, e: clients.msmtp(h, p, SENDER, [RCPT], bare_message(), ehlo=e)),
    "msmtp-starttls-auth": ("msmtp", "aiosmtpd_tls_auth",
                            lambda h, p, e: clients.msmtp(h, p, SENDER, [RCPT], bare_message(), tls=True, auth=AUTH,
                                                          ehlo=e)),
    "s-nail-mime": ("s-nail", "aiosmtpd_server",
                    lambda h, p, e: clients.s_nail(h, p, SENDER, [], bare_message(), ehlo=e, fixed_date=False,
                                                   attach=[("notes.txt", b"attached\n")])),
    "s-nail-starttls-auth": ("s-nail", "aiosmtpd_tls_auth",
                             lambda h, p, e: clients.s_nail(h, p, SENDER, [], bare_message(), tls=True, auth=AUTH,
                                                            ehlo=e, fixed_date=False)),
    "smtplib-mime": ("python3", "aiosmtpd_server", lambda h, p, e: smtplib_send(h, p, mime_message(), ehlo=e)),
    "smtplib-starttls-auth": ("python3", "aiosmtpd_tls_auth",
                              lambda h, p, e: smtplib_send(h, p, fresh_message(), tls=True, auth=AUTH, ehlo=e)),
    "smtplib-pipelined": ("python3", "exim_server",
                          lambda h, p, e: smtplib_send(h, p, fresh_message(), ehlo=e, pipelined=True)),
}


@pytest.mark.parametrize("generalize", [False, True], ids=["as-recorded", "generalized"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_client_served_its_own_recording(case, generalize, request, record, smtp_server_factory):
    tool, server, send = CASES[case]
    need(tool)
    peer = request.getfixturevalue(server)
    rec = record(peer, *(["--generalize"] if generalize else []))
    first = send("127.0.0.1", rec.port, clients.EHLO_NAME)
    assert first.ok, first
    text, closed = rec.transcript()
    assert ("\nC~ " in text) == generalize, text
    if generalize:
        assert "# recorded: C: " in text, "the recorded lines stay, as comments"

    # A second second: the clients' Date: headers differ from the recording's.
    time.sleep(max(0.0, 1.05 - (time.time() % 1.0)))
    srv = smtp_server_factory(closed["transcript"])
    again = send(srv.host, srv.port, "another-host.smtpkit.test" if generalize else clients.EHLO_NAME)
    assert again.ok, again
    srv.wait_for_messages(1)
    session, = srv.wait_for_sessions_closed()
    assert srv.findings == [], "\n".join(str(f) for f in srv.findings) + "\n" + session.transcript
    if generalize:
        assert session.notes == [], "the patterns take what varies: nothing to note"
    else:
        # What was not compared is said: at least the Date the client wrote anew.
        assert "Date" in {v for n in session.notes for v in n["varied"]}, session.notes


def test_a_date_in_swaks_subject_is_a_difference_unless_generalized(record, exim_server, smtp_server_factory):
    # swaks' own message says "Subject: test DATE". Subject is not a field
    # clients generate, so a recording served as it is compares it; the
    # generalized one has the date as a pattern (RFC 5322 §3.3 date-time).
    need("swaks")
    scripts = []
    for flags in ((), ("--generalize",)):
        rec = record(exim_server, *flags)
        assert clients.swaks("127.0.0.1", rec.port, SENDER, [RCPT], None).ok
        scripts.append(rec.transcript()[1]["transcript"])
    assert "C~ Subject: test {*}\n" in open(scripts[1]).read()
    time.sleep(max(0.0, 1.05 - (time.time() % 1.0)))
    for path, findings in zip(scripts, (1, 0)):
        srv = smtp_server_factory(path)
        assert clients.swaks(srv.host, srv.port, SENDER, [RCPT], None).ok
        srv.wait_for_sessions_closed()
        assert len(srv.findings) == findings, srv.findings
        if findings:
            assert srv.findings[0].expected.startswith("C: Subject: test "), srv.findings[0]


def test_strict_data_compares_every_octet(record, aiosmtpd_server, smtp_server_factory):
    # serve --strict-data: the fresh Date: is a difference, and so is SIZE.
    need("curl")
    rec = record(aiosmtpd_server)
    assert clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], fresh_message()).ok
    path = rec.transcript()[1]["transcript"]
    time.sleep(max(0.0, 1.05 - (time.time() % 1.0)))
    srv = smtp_server_factory(path, strict_data=True)
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], fresh_message()).returncode is not None
    srv.wait_for_sessions_closed()
    expected = [f.expected for f in srv.findings if f.rule == "script.mismatch"]
    assert any(e.startswith(("C: Date: ", "C: Message-ID: ", "C: MAIL FROM:")) for e in expected), expected


RECORDED = """S: 220 mx.example.test ESMTP
C: EHLO client.smtpkit.test
S: 250-mx.example.test
S: 250 PIPELINING
C: MAIL FROM:<sender@example.test>
S: 250 2.1.0 Ok
C: RCPT TO:<rcpt@example.test>
S: 250 2.1.5 Ok
C: DATA
S: 354 go ahead
C: Subject: recorded
C:
C: The recorded message.
C: .
S: 250 2.0.0 queued as 1
C: QUIT
S: 221 2.0.0 bye
@close S
"""


def test_no_reply_is_written_inside_mail_data(smtp_server_factory, tmp_path):
    # A message of 12 lines, none of them the recorded ones: the client
    # gets nothing while it sends them (RFC 5321 §4.1.1.4, rule
    # server.data.early-reply), then one reply, the recorded one.
    path = tmp_path / "recorded.smtp"
    path.write_text(RECORDED)
    srv = smtp_server_factory(str(path))
    with socket.create_connection(srv.address, timeout=10) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"220 ")
        s.sendall(b"EHLO client.smtpkit.test\r\n")
        assert [f.readline() for _ in range(2)][-1] == b"250 PIPELINING\r\n"
        s.sendall(b"MAIL FROM:<sender@example.test>\r\nRCPT TO:<rcpt@example.test>\r\nDATA\r\n")
        replies = [f.readline() for _ in range(3)]
        assert replies[-1] == b"354 go ahead\r\n", replies
        s.settimeout(0.3)
        for n in range(12):
            s.sendall(b"RSET line %d of another message\r\n" % n)
            with pytest.raises(socket.timeout):
                got = s.recv(100)
                pytest.fail("a reply inside mail data: %r" % got)
        s.settimeout(10)
        s.sendall(b".\r\nQUIT\r\n")
        assert f.readline() == b"250 2.0.0 queued as 1\r\n"
        assert f.readline() == b"221 2.0.0 bye\r\n"
    session, = srv.wait_for_sessions_closed()
    assert [r.code for r in session.replies] == [220, 250, 250, 250, 354, 250, 221]
    f, = srv.findings
    assert f.rule == "script.mismatch" and f.script_line == 11 and f.expected == "C: Subject: recorded"
    assert "the message differs from the recorded one at its line 1" in f.message


def test_swaks_with_another_message_gets_one_reply_not_one_per_line(record, exim_server, smtp_server_factory):
    # The case: swaks served its recording, with a message that is
    # not the recorded one. Its 12 lines get no reply; the end of data gets
    # the recorded one, and the difference is one finding.
    need("swaks")
    rec = record(exim_server)
    assert clients.swaks("127.0.0.1", rec.port, SENDER, [RCPT], fresh_message()).ok
    _, closed = rec.transcript()
    srv = smtp_server_factory(closed["transcript"])
    other = b"Subject: another one\r\n\r\n" + b"".join(b"line %d\r\n" % n for n in range(10))
    assert clients.swaks(srv.host, srv.port, SENDER, [RCPT], other).ok
    session, = srv.wait_for_sessions_closed()
    codes = [r.code for r in session.replies]
    assert codes[codes.index(354) + 1:] == [250, 221], codes
    f, = srv.findings
    assert f.rule == "script.mismatch" and "the message differs from the recorded one" in f.message


def run_serve_once(transcripts):
    """One `smtpkit serve --transcripts DIR` run with one session; its transcript's path."""
    proc = subprocess.Popen([binary.find_binary(), "serve", "--listen", "127.0.0.1:0", "--discard", "--transcripts",
                             str(transcripts), "--events", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    bound = threading.Timer(30, proc.kill)  # the reads below end when it does
    bound.start()
    try:
        port = None
        for line in proc.stdout:
            e = json.loads(line)
            if e["event"] == "listening":
                port = e["port"]
            if e["event"] == "ready":
                break
        assert clients.python_smtplib("127.0.0.1", port, SENDER, [RCPT], fresh_message()).ok
        for line in proc.stdout:
            e = json.loads(line)
            if e["event"] == "session" and e.get("state") == "closed":
                return e["transcript"]
    finally:
        bound.cancel()
        proc.terminate()
        proc.wait(10)


def test_a_transcripts_folder_used_again_keeps_every_earlier_file(tmp_path, aiosmtpd_server):
    # serve --transcripts: three runs, the last two in the same second.
    folder = tmp_path / "transcripts"
    first = run_serve_once(folder)
    kept = open(first).read()
    second, third = run_serve_once(folder), run_serve_once(folder)
    assert len({first, second, third}) == 3 and sorted(os.listdir(folder)) == sorted(
        os.path.basename(p) for p in (first, second, third))
    assert open(first).read() == kept, "the first run's transcript is as it was"
    assert all("-s000001" in os.path.basename(p) for p in (first, second, third))
    # record --out: two proxies on one folder at once, and one after them.
    out = tmp_path / "recordings"
    paths = []
    with Recorder(aiosmtpd_server.host, aiosmtpd_server.port, out) as a, \
            Recorder(aiosmtpd_server.host, aiosmtpd_server.port, out) as b:
        for r in (a, b):
            assert clients.python_smtplib("127.0.0.1", r.port, SENDER, [RCPT], fresh_message()).ok
            paths.append(r.transcript()[1]["transcript"])
    with Recorder(aiosmtpd_server.host, aiosmtpd_server.port, out) as c:
        assert clients.python_smtplib("127.0.0.1", c.port, SENDER, [RCPT], fresh_message()).ok
        paths.append(c.transcript()[1]["transcript"])
    assert len(set(paths)) == 3 and sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in paths)
    for p in paths:
        assert "S: 250 " in open(p).read() and "C: QUIT" in open(p).read()
