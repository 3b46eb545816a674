# test_record_peers.py — `smtpkit record` between real clients and real
# servers (curl → aiosmtpd, swaks → exim, msmtp → aiosmtpd), with and
# without STARTTLS: the proxy forwards every octet unchanged (the server
# stores what the client sent), writes one transcript per session that is
# exact to the byte, and the server side of each recording, served back by
# `smtpkit serve --script`, gives the same client the same dialogue: the
# same client octets and no script.mismatch.
#
# What a client varies by itself, run to run (docs/dialogue-format.md,
# "Mail data"): msmtp and s-nail add Date: and a random Message-ID: to a
# message without them, which a served recording does not compare; the
# EHLO names here are fixed by the helpers. The server side is replayed
# verbatim (exim's queue id included), so it never varies. Serving a
# recording to clients with fresh messages, as recorded and generalized:
# test_record_serve_back.py.
#
# Limits: Linux; a peer that is not installed makes its tests skip; every
# wait is bounded.
import shutil
import smtplib
import ssl
import subprocess
import time
import types

import pytest

from peers import clients, dialogue
from peers.record import Recorder
from smtpkit import binary

SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
MESSAGE = (b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: recorded\r\n"
           b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <record@client.smtpkit.test>\r\n\r\n"
           b"Hello.\r\n.A line that starts with a dot.\r\n")


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def records_of(text):
    """v1 records (@pause lines, which --timing adds, left out)."""
    return dialogue.read_transcript("\n".join(l for l in text.split("\n") if not l.startswith("@pause")))


def served_client_bytes(srv):
    """Client octets of the mock server's one session, from its own transcript."""
    session, = srv.wait_for_sessions_closed()
    return dialogue.side_bytes(records_of(session.transcript), "C")


def replay_to(smtp_server_factory, path, send, expect_messages=1):
    """Serve a recording as a script, run the client again; the mock server."""
    srv = smtp_server_factory(path)
    r = send(srv)
    assert r.ok, r
    srv.wait_for_messages(expect_messages)
    assert [f for f in srv.findings if f.rule == "script.mismatch"] == []
    return srv


def test_curl_to_aiosmtpd_recorded_exactly_and_replayed(aiosmtpd_server, record, smtp_server_factory):
    need("curl")
    rec = record(aiosmtpd_server)
    r = clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE)
    assert r.ok, r
    (env, stored), = aiosmtpd_server.wait_messages(1)
    assert stored == MESSAGE, "forwarded unchanged"
    text, closed = rec.transcript()
    records = records_of(text)
    client = dialogue.side_bytes(records, "C")
    server = dialogue.side_bytes(records, "S")
    assert closed["octets"] == {"client": len(client), "server": len(server)}, "every octet is in the transcript"
    assert client.startswith(b"EHLO client.smtpkit.test\r\nMAIL FROM:<sender@example.test> SIZE=%d\r\n" % len(MESSAGE))
    assert b"\r\n..A line that starts with a dot.\r\n.\r\nQUIT\r\n" in client, "dot-stuffed as sent"
    assert server.startswith(b"220 aiosmtpd.smtpkit.test")
    # What the writer would write for these records is the file: exact.
    w = dialogue.TranscriptWriter()
    for rec_ in records:
        if rec_.kind == "directive":
            w.tls() if rec_.name == "tls" else w.close(rec_.who)
        else:
            w.sent(rec_.who, rec_.bytes())
    assert [l for l in text.split("\n") if l and not l.startswith("#")] == [l for l in w.take().split("\n") if l]
    # Served back, the same client gets the same dialogue.
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.curl(s.host, s.port, SENDER, [RCPT], MESSAGE))
    assert served_client_bytes(srv) == client
    assert srv.messages[0].raw == MESSAGE, "the reference server followed the replay and stored the message"


def test_swaks_to_exim_recorded_and_replayed(exim_server, record, smtp_server_factory):
    need("swaks")
    rec = record(exim_server)
    r = clients.swaks("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE)
    assert r.ok, r
    assert exim_server.wait_messages(1)[0] == MESSAGE
    text, closed = rec.transcript()
    assert "S: 220 exim.smtpkit.test ESMTP Exim 4.96" in text and "\nC: QUIT\n" in text
    client = dialogue.side_bytes(records_of(text), "C")
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.swaks(s.host, s.port, SENDER, [RCPT], MESSAGE))
    assert served_client_bytes(srv) == client
    assert "250 OK id=" in srv.sessions[0].transcript, "exim's queue id replayed verbatim"


def test_swaks_pipelining_is_recorded_in_the_order_sent(exim_server, record, smtp_server_factory):
    need("swaks")
    rec = record(exim_server)
    r = clients.swaks("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE, pipeline=True)
    assert r.ok, r
    text, closed = rec.transcript()
    lines = [l for l in text.split("\n") if l[:2] in ("C:", "S:")]
    mail = lines.index("C: MAIL FROM:<%s>" % SENDER)
    assert lines[mail + 1].startswith("C: RCPT TO:"), "RCPT went out before the reply to MAIL: %r" % lines
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.swaks(s.host, s.port, SENDER, [RCPT], MESSAGE, pipeline=True))
    assert served_client_bytes(srv) == dialogue.side_bytes(records_of(text), "C")


def test_starttls_is_terminated_on_both_legs_and_the_inside_recorded(aiosmtpd_tls_auth, record, smtp_server_factory):
    need("curl")
    rec = record(aiosmtpd_tls_auth)
    r = clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE, tls=True)
    assert r.ok, r
    (env, stored), = aiosmtpd_tls_auth.wait_messages(1)
    assert stored == MESSAGE
    text, closed = rec.transcript()
    before, after = text.split("\n@tls\n")
    assert before.endswith("C: STARTTLS\nS: 220 Ready to start TLS")
    assert "C: EHLO client.smtpkit.test" in after and "S: 250-AUTH LOGIN PLAIN" in after
    assert "C: ..A line that starts with a dot." in after
    legs = {e["leg"] for e in rec.events if e["event"] == "tls" and e["state"] == "started"}
    assert legs == {"client", "server"}
    # Served back: the mock server's @tls starts TLS where the recording did.
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.curl(s.host, s.port, SENDER, [RCPT], MESSAGE, tls=True))
    assert srv.messages[0].tls and srv.messages[0].raw == MESSAGE
    assert served_client_bytes(srv) == dialogue.side_bytes(records_of(text), "C")


def test_tls_passthrough_relays_without_recording_inside(aiosmtpd_tls_auth, record):
    need("curl")
    rec = record(aiosmtpd_tls_auth, "--tls-passthrough")
    assert clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE, tls=True).ok
    assert aiosmtpd_tls_auth.wait_messages(1)[0][1] == MESSAGE
    text, _ = rec.transcript()
    before, after = text.split("\n@tls\n")
    assert before.endswith("S: 220 Ready to start TLS")
    assert after.startswith("# TLS: content not recorded") and "C:" not in after


def test_implicit_tls_on_both_legs_records_the_whole_dialogue_inside(record, smtp_server_factory):
    # RFC 8314: smtplib's SMTP_SSL to the proxy, the proxy to smtpkit serve's
    # implicit-TLS listener; the transcript starts with @tls.
    upstream = smtp_server_factory(tls=True)
    rec = record(types.SimpleNamespace(host=upstream.host, port=upstream.tls_port), "--tls")
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", rec.port, local_hostname="client.smtpkit.test", context=insecure,
                          timeout=10) as smtp:
        smtp.sendmail(SENDER, [RCPT], MESSAGE)
    stored, = upstream.wait_for_messages(1)
    assert stored.raw == MESSAGE and stored.tls
    text, _ = rec.transcript()
    records = [l for l in text.split("\n") if l and not l.startswith("#")]
    assert records[0] == "@tls" and records[1].startswith("S: 220 ")
    assert "C: ehlo client.smtpkit.test" in text and "C: ..A line that starts with a dot." in text
    assert {e["leg"] for e in rec.events if e["event"] == "tls" and e["state"] == "started"} == {"client", "server"}
    # The recording is a transcript `check` reads, and smtplib broke no rule.
    check = subprocess.run([binary.find_binary(), "check", "--format", "json", rec.transcript()[1]["transcript"]],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_implicit_tls_passthrough_relays_without_recording(record, smtp_server_factory):
    upstream = smtp_server_factory(tls=True)
    rec = record(types.SimpleNamespace(host=upstream.host, port=upstream.tls_port), "--tls", "--tls-passthrough")
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", rec.port, context=insecure, timeout=10) as smtp:
        smtp.sendmail(SENDER, [RCPT], MESSAGE)
    assert upstream.wait_for_messages(1)[0].raw == MESSAGE
    text, _ = rec.transcript()
    assert "\n@tls\n# TLS: content not recorded" in text
    assert not [l for l in text.split("\n") if l[:2] in ("C:", "S:", "C=", "S=")], text


def test_bare_lf_and_message_headers_a_client_varies(aiosmtpd_server, record, smtp_server_factory):
    need("msmtp")
    need("curl")
    # curl sends a file with LF line ends as it is: C= records, exact.
    rec = record(aiosmtpd_server)
    lf = b"Subject: lf\nTo: rcpt@example.test\n\nbare LF lines\n"
    assert clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], lf).ok
    text, closed = rec.transcript()
    assert "C= Subject: lf\\n\n" in text and "C= bare LF lines\\n\n" in text
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.curl(s.host, s.port, SENDER, [RCPT], lf))
    assert served_client_bytes(srv) == dialogue.side_bytes(records_of(text), "C")
    # msmtp adds Date: and a random Message-ID: to a message without them:
    # served as it was recorded, those are not compared, and a note says so.
    plain = b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: no id\r\n\r\nHello.\r\n"
    rec2 = record(aiosmtpd_server)
    assert clients.msmtp("127.0.0.1", rec2.port, SENDER, [RCPT], plain).ok
    text, closed = rec2.transcript()
    assert "\nC: Message-ID: <" in text and "\nC: Date: " in text
    srv = replay_to(smtp_server_factory, closed["transcript"],
                    lambda s: clients.msmtp(s.host, s.port, SENDER, [RCPT], plain))
    session, = srv.wait_for_sessions_closed()
    assert "Message-ID" in {v for n in session.notes for v in n["varied"]}, session.notes


def test_timing_records_pauses_that_replay_slowly(smtp_server_factory, record, tmp_path):
    need("curl")
    slow = smtp_server_factory("@rule EHLO {*}\n@pause 400ms\n@fallback\n@end\n")
    rec = record(slow, "--timing", "--timing-min", "100")
    assert clients.curl("127.0.0.1", rec.port, SENDER, [RCPT], MESSAGE).ok
    text, closed = rec.transcript()
    lines = text.split("\n")
    at = lines.index("C: EHLO client.smtpkit.test")
    assert lines[at + 1].startswith("@pause ") and lines[at + 2].startswith("S: 250-localhost Hello"), lines
    assert int(lines[at + 1][len("@pause "):-2]) >= 400
    started = time.monotonic()
    replay_to(smtp_server_factory, closed["transcript"], lambda s: clients.curl(s.host, s.port, SENDER, [RCPT], MESSAGE))
    assert time.monotonic() - started >= 0.4


def test_port_zero_events_and_a_server_that_is_not_there(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens there once closed

    rec = Recorder("127.0.0.1", dead, tmp_path / "out", "--connect-timeout", "2")
    try:
        listening = rec.wait(lambda e: e["event"] == "listening")
        assert listening["host"] == "127.0.0.1" and listening["port"] > 0
        ready = rec.wait(lambda e: e["event"] == "ready")
        assert ready["upstream"] == "127.0.0.1:%d" % dead and len(ready["tls_fingerprint"]) == 95
        with socket.create_connection(("127.0.0.1", rec.port), timeout=5) as c:
            c.settimeout(5)
            assert c.recv(100) == b"", "no upstream: the client's connection is closed, nothing invented"
        failed = rec.wait(lambda e: e["event"] == "upstream")
        assert failed["state"] == "failed"
        text, _ = rec.transcript()
        assert "# cannot connect to the server: " in text
    finally:
        assert rec.stop() == 0
    err = rec.proc.stderr.read().decode()
    assert "smtpkit record: listening on 127.0.0.1:%d" % rec.port in err


def test_setup_errors_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for flags, words in ((["--listen", "127.0.0.1:0", "--out", str(blocker / "sub")], "cannot create folder"),
                         (["--listen", "127.0.0.1:0", "--out", str(tmp_path), "--tls-cert", "/nonexistent.pem",
                           "--tls-key", "/nonexistent.pem"], "cannot read /nonexistent.pem"),
                         (["--listen", "nonsense", "--out", str(tmp_path)], "expected HOST:PORT")):
        argv = [binary.find_binary(), "record", "--upstream", "127.0.0.1:25"] + flags
        p = subprocess.run(argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        assert p.returncode == 2 and words in p.stderr.decode(), (flags, p.stderr)
