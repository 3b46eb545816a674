# test_scripts_faults.py — the fault demos of examples/scripts/ and the
# fault directives (@close S, 421 and close, @reset, @hang, @stall-tls,
# @split, @rate, @pause, S= replies with a bare LF, over-long and malformed
# replies) served by `smtpkit serve --script` to real clients, checking what
# each client shows: curl's exit status (56 receive failure, 35 TLS
# connect, 28 timeout), msmtp's (74 I/O error, 76 protocol error), swaks's,
# and smtplib's exception.
#
# Limits: timing checks use lower bounds only (a loaded machine is slower,
# never faster); a client that is not installed makes its checks skip.
import os
import shutil
import smtplib
import socket
import time

import pytest

from peers import clients

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, "..", "..", "examples", "scripts")
SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
MESSAGE = b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: faults\r\n\r\nHello.\r\n"


def script(name):
    return os.path.abspath(os.path.join(LIBRARY, name))


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def smtplib_send(srv, timeout=10):
    with smtplib.SMTP(srv.host, srv.port, local_hostname=clients.EHLO_NAME, timeout=timeout) as s:
        return s.sendmail(SENDER, [RCPT], MESSAGE)


def raw_session(srv, lines, timeout=3.0):
    """Greeting, then each line; every octet the server sent, until it closes or goes quiet."""
    out = b""
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as s:
        s.settimeout(0.5)
        deadline = time.monotonic() + timeout
        pending = list(lines)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                if not pending:
                    break
                s.sendall(pending.pop(0))
                continue
            if not chunk:
                break
            out += chunk
    return out


def reply_time(srv, line, timeout=5.0):
    """Seconds from sending `line` (after the greeting) to the end of its reply line."""
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as s:
        f = s.makefile("rb")
        f.readline()
        started = time.monotonic()
        s.sendall(line)
        got = f.readline()
        took = time.monotonic() - started
        s.sendall(b"QUIT\r\n")
        return got, took


def test_drop_mid_reply(smtp_server_factory):
    need("curl")
    need("msmtp")
    srv = smtp_server_factory(script("fault-drop-mid-reply.smtp"))
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 56, r  # curl: failure receiving network data
    r = clients.msmtp(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 76 and b"invalid reply" in r.stderr, r
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib_send(srv)
    got = raw_session(srv, [b"EHLO c.example\r\n"])
    assert got.endswith(b"\r\n250-mx.example.test\r\n250-PIPEL"), got
    srv.settle()
    assert srv.messages == []


def test_reset_at_mail(smtp_server_factory):
    need("curl")
    need("msmtp")
    srv = smtp_server_factory(script("fault-reset.smtp"))
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 56 and b"reset" in r.stderr.lower(), r
    r = clients.msmtp(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 74 and b"Connection reset by peer" in r.stderr, r
    with pytest.raises(smtplib.SMTPServerDisconnected) as e:
        smtplib_send(srv)
    assert "reset" in str(e.value).lower()


def test_hang_at_end_of_data(smtp_server_factory):
    need("msmtp")
    srv = smtp_server_factory(script("fault-hang.smtp"))
    started = time.monotonic()
    with pytest.raises((smtplib.SMTPServerDisconnected, TimeoutError)):
        smtplib_send(srv, timeout=1.5)
    assert time.monotonic() - started >= 1.5
    r = clients.msmtp(srv.host, srv.port, SENDER, [RCPT], MESSAGE, timeout=2)
    assert r.returncode == 74 and b"timed out" in r.stderr, r
    assert srv.messages == [], "the hung end of data stored nothing"


def test_bare_lf_replies_are_taken_by_lenient_clients(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("fault-bare-lf.smtp"))
    got = raw_session(srv, [b"EHLO c.example\r\n", b"QUIT\r\n"])
    assert got == b"220 mx.example.test ESMTP bare-LF replies\n250-mx.example.test\n250 8BITMIME\n221 bye\n", got
    # Every client tried is lenient about it: the message goes through, and
    # the reference server (which followed the accepting rules) stored it.
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok
    assert smtplib_send(srv) == {}
    for tool, send in (("swaks", clients.swaks), ("msmtp", clients.msmtp)):
        if shutil.which(tool):
            assert send(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok, tool
    srv.wait_for_sessions_closed()
    assert [m.raw for m in srv.messages[:2]] == [MESSAGE, MESSAGE]  # curl, smtplib
    assert all(m.raw.endswith(b"Subject: faults\r\n\r\nHello.\r\n") for m in srv.messages)  # msmtp adds Date, Message-ID


def test_split_replies_arrive_in_pieces(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("fault-split-replies.smtp"))
    pieces = []
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            assert chunk
            pieces.append(chunk)
            data += chunk
        s.sendall(b"QUIT\r\n")
    assert data == b"220 localhost ESMTP smtpkit\r\n"
    assert len(pieces) >= 5 and max(len(p) for p in pieces) <= 6, pieces
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok
    m, = srv.wait_for_messages(1)
    assert m.raw == MESSAGE


def test_stall_tls_after_220(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("fault-stall-tls.smtp"))
    started = time.monotonic()
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE, tls=True)
    assert r.returncode == 35, r  # curl: TLS connect error when the server gives up
    assert time.monotonic() - started >= 4.5
    assert srv.messages == [], "no fallback to plain text"


FAULTS = """
@rule HELO close
@close S
@end
@rule HELO busy
S: 421 4.3.2 Service not available, closing transmission channel
@close S
@end
@rule HELO long
S: 250 {long}
@end
@rule HELO malformed
S: 25O not a reply code
S: 2501 nor this
S: 250-no last line
@close S
@end
@rule HELO rate
@rate 100
S: 250 one hundred octets per second, this reply takes about half a second
@end
@rule HELO pause
@pause 700ms
S: 250 after a pause
@end
"""


def test_fault_directives_on_the_wire(smtp_server_factory):
    text = FAULTS.replace("{long}", "x" * 600)
    srv = smtp_server_factory(text)
    assert raw_session(srv, [b"HELO close\r\n"]) == b"220 localhost ESMTP smtpkit\r\n"
    busy = raw_session(srv, [b"HELO busy\r\n"])
    assert busy.endswith(b"\r\n421 4.3.2 Service not available, closing transmission channel\r\n")
    long = raw_session(srv, [b"HELO long\r\n", b"QUIT\r\n"])
    assert b"\r\n250 " + b"x" * 600 + b"\r\n" in long, "over-long replies go out as written (RFC 5321 §4.5.3.1.5: 512)"
    bad = raw_session(srv, [b"HELO malformed\r\n"])
    assert bad.endswith(b"25O not a reply code\r\n2501 nor this\r\n250-no last line\r\n")
    for line, at_least in ((b"HELO rate\r\n", 0.5), (b"HELO pause\r\n", 0.7)):
        got, took = reply_time(srv, line)
        assert got.startswith(b"250 ") and took >= at_least, (line, got, took)


def test_421_and_close_is_smtplib_disconnect_on_connect(smtp_server_factory):
    srv = smtp_server_factory("@rule @connect\nS: 421 4.3.2 Too busy, try later\n@close S\n@end\n")
    with pytest.raises(smtplib.SMTPConnectError) as e:
        smtplib.SMTP(srv.host, srv.port, timeout=5)
    assert e.value.smtp_code == 421
    if shutil.which("curl"):
        r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
        assert r.returncode != 0, r


def test_hang_still_records_what_the_client_sends(smtp_server_factory):
    # @hang stops answering, not reading: a client that goes on talking to a
    # hung server shows in the transcript (what `smtpkit fuzz client` needs
    # to tell a silent client from a talking one).
    srv = smtp_server_factory(script_text="@rule NOOP\nS: 250 2.0.0 Ok\n@hang\n@end\n", idle_timeout=1)
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"220")
        s.sendall(b"NOOP\r\n")
        assert f.readline().startswith(b"250")
        s.sendall(b"RSET\r\n")
        time.sleep(0.5)
    (session,) = srv.wait_for_sessions_closed(1, timeout=10)
    assert "C: RSET" in session.transcript, session.transcript
