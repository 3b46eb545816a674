# test_serve_pop3.py — `smtpkit serve --pop3`: the Maildir over POP3 (RFC
# 1939, CAPA of RFC 2449, STLS of RFC 2595) for real clients — Python's
# poplib, fetchmail and s-nail from Debian: a message sent over SMTP is
# listed, fetched (over STLS for the last two) and deleted.
#
# Limits: fetchmail and s-nail skip when not installed; both are told not
# to check the self-signed certificate.
import os
import poplib
import shutil
import smtplib
import ssl
import subprocess

import pytest

from smtpkit.server import MockServer

MESSAGE = b"Subject: over pop3\r\n\r\nhello\r\n"


@pytest.fixture
def served():
    srv = MockServer(users={"alice": "wonderland"}, args=["--pop3", "127.0.0.1:0", "--http", "127.0.0.1:0"])
    srv.start()
    try:
        svc, = [e for e in srv.events if e.get("event") == "service" and e.get("service") == "pop3"]
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.login("alice", "wonderland")
            c.sendmail("alice@example.test", ["bob@example.test"], MESSAGE)
        srv.wait_for_messages(1)
        yield srv, svc["host"], svc["port"]
    finally:
        srv.close()


def test_list_retrieve_delete(served):
    srv, host, port = served
    p = poplib.POP3(host, port, timeout=10)
    try:
        capa = p.capa()
        assert {"USER", "UIDL", "TOP", "STLS"} <= set(capa)
        p.user("alice")
        with pytest.raises(poplib.error_proto):
            p.pass_("wrong")
        p = poplib.POP3(host, port, timeout=10)
        p.user("alice")
        p.pass_("wonderland")
        assert p.stat() == (1, len(MESSAGE))
        _, uidls, _ = p.uidl()
        assert uidls == [b"1 " + srv.messages[0].id.encode()]  # the queue id of the 250
        _, lines, octets = p.retr(1)
        assert b"\r\n".join(lines) + b"\r\n" == MESSAGE
        _, top, _ = p.top(1, 0)
        assert top == [b"Subject: over pop3", b""]
        p.dele(1)
    finally:
        p.quit()
    # QUIT commits the deletion (RFC 1939 §6).
    p = poplib.POP3(host, port, timeout=10)
    p.user("alice")
    p.pass_("wonderland")
    assert p.stat() == (0, 0)
    p.quit()


def test_stls(served):
    _, host, port = served
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    p = poplib.POP3(host, port, timeout=10)
    p.stls(ctx)
    p.user("alice")
    p.pass_("wonderland")
    assert p.stat()[0] == 1
    p.quit()


def test_fetchmail_over_stls(served, tmp_path):
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed")
    srv, host, port = served
    out = tmp_path / "fetched.mbox"
    rc = tmp_path / "fetchmailrc"
    rc.write_text('set no syslog\npoll %s protocol pop3 port %d user "alice" password "wonderland" is "alice" here '
                  'no sslcertck mda "/bin/sh -c \'cat >> %s\'" fetchall\n' % (host, port, out))
    os.chmod(rc, 0o600)
    p = subprocess.run(["fetchmail", "-v", "-f", str(rc), "--nosyslog"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "POP3> STLS" in p.stdout + p.stderr
    assert "Subject: over pop3" in out.read_text()
    # fetchmail deleted what it fetched (no "keep").
    c = poplib.POP3(host, port, timeout=10)
    c.user("alice")
    c.pass_("wonderland")
    assert c.stat() == (0, 0)
    c.quit()


def test_s_nail_reads_the_mailbox_over_stls(served, tmp_path):
    if shutil.which("s-nail") is None:
        pytest.skip("s-nail is not installed")
    srv, host, port = served
    p = subprocess.run(["s-nail", "-:/", "-#", "-Sv15-compat", "-Stls-verify=ignore", "-Spop3-use-starttls",
                        "-Sfolder=" + str(tmp_path), "-f", "pop3://alice:wonderland@%s:%d" % (host, port)],
                       input="headers\nprint 1\nxit\n", capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path), MAILRC="/dev/null"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "over pop3" in p.stdout and "hello" in p.stdout, p.stdout
