# test_serve_events.py — the event stream of `smtpkit serve` against its
# schema in docs/serve.md: a run that makes every event of the reference
# server happen (listeners, sessions opened, closed and refused, commands,
# replies, TLS started and failed, AUTH, a message, a finding, discarded
# octets, a store error, stopping, stopped), then each event's fields are
# checked against the documented ones, and every event the server's code
# can emit is documented.
#
# Limits: the store error is made by replacing the Maildir's new/ with a
# file while the server runs; the code scan covers server.cpp, session.cpp
# and reference.cpp (scripts document their own events).
import os
import re
import smtplib
import socket
import ssl

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "serve.md")


def documented_events():
    """{event: set of field names} from the events table of docs/serve.md."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    table = text.split("## Events", 1)[1].split("\n## ", 1)[0]
    fields = {}
    for row in re.findall(r"^\| `([a-z-]+)` \| (.*) \|$", table, re.M):
        name, cell = row
        names = {tok.split(":")[0].strip() for tok in re.findall(r"`([^`]+)`", cell)}
        fields.setdefault(name, {"ts", "event"}).update(names)
    return fields


def insecure():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.mark.smtp_allow_findings()
@pytest.mark.smtp_options(tls=True, max_sessions=1, users={"alice": "wonderland"})
def test_every_event_has_its_documented_fields(smtp_server):
    srv = smtp_server
    # A message over STARTTLS with AUTH; octets injected after STARTTLS.
    with socket.create_connection(srv.address, timeout=10) as raw:
        f = raw.makefile("rb")
        f.readline()
        raw.sendall(b"EHLO client.example.test\r\n")
        while f.readline()[3:4] == b"-":
            pass
        raw.sendall(b"STARTTLS\r\nNOOP\r\n")
        assert f.readline().startswith(b"220 ")
        # One session at a time: this one is refused while the first is open.
        with socket.create_connection(srv.address, timeout=10) as extra:
            assert extra.makefile("rb").readline().startswith(b"421 4.3.2 ")
        tls = insecure().wrap_socket(raw)
        tf = tls.makefile("rb")

        def cmd(line):
            tls.sendall(line + b"\r\n")
            while True:
                reply = tf.readline()
                if reply[3:4] != b"-":
                    return reply

        cmd(b"EHLO client.example.test")
        assert cmd(b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=").startswith(b"235 ")
        cmd(b"MAIL FROM:<a@example.test>")
        cmd(b"RCPT TO:<b@example.test>")
        cmd(b"DATA")
        assert cmd(b"Subject: e\r\n\r\nx\r\n.").startswith(b"250 ")
        # The next message cannot be stored: new/ is now a file.
        os.rename(os.path.join(srv.maildir, "new"), os.path.join(srv.maildir, "new.moved"))
        open(os.path.join(srv.maildir, "new"), "w").close()
        cmd(b"MAIL FROM:<a@example.test>")
        cmd(b"RCPT TO:<b@example.test>")
        cmd(b"DATA")
        assert cmd(b"Subject: f\r\n\r\nx\r\n.").startswith(b"451 4.3.0 ")
        cmd(b"QUIT")
        tls.close()
    srv.wait_for_sessions_closed(1)
    # A TLS handshake that fails, on the implicit-TLS port.
    with socket.create_connection((srv.host, srv.tls_port), timeout=10) as bad:
        bad.sendall(b"EHLO this is not TLS\r\n\r\n")
        bad.recv(100)
    srv.wait_for(lambda s: any(e["event"] == "tls" and e["state"] == "failed" for e in s.events), 10,
                 "the failed handshake")
    # MAIL before EHLO: a finding.
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as c:
        assert c.docmd("MAIL FROM:<a@example.test>")[0] == 503
    srv.wait_for_sessions_closed(3)
    assert srv.stop() == 0

    seen = {}
    for e in srv.events:
        seen.setdefault(e["event"], set()).update(e)
    doc = documented_events()
    expected = {"listening", "ready", "session", "command", "reply", "tls", "auth", "message", "finding",
                "discarded", "store-error", "stopping", "stopped"}
    assert expected <= set(seen), sorted(expected - set(seen))
    for name, keys in seen.items():
        assert name in doc, "event %r is not documented in docs/serve.md" % name
        assert keys <= doc[name], "%s: undocumented fields %s" % (name, sorted(keys - doc[name]))
    states = {(e["event"], e.get("state")) for e in srv.events}
    assert {("session", "open"), ("session", "closed"), ("session", "refused"), ("tls", "started"),
            ("tls", "failed")} <= states
    # The envelope in the message event is the documented one.
    m = srv.messages[0]
    assert set(m.envelope) == {"session", "peer", "helo", "esmtp", "mail_from", "mail_params", "rcpt_to",
                               "transport", "tls", "tls_version", "tls_cipher", "auth", "size", "sha256"}
    assert (m.tls, m.auth) == (True, "alice")
    assert srv.store_errors[0]["error"].startswith("cannot store message in ")


def test_every_event_in_the_code_is_documented():
    doc = documented_events()
    src = os.path.join(REPO, "mockserver", "server", "src")
    for name in ("server.cpp", "session.cpp", "reference.cpp"):
        with open(os.path.join(src, name), encoding="utf-8") as f:
            for event in re.findall(r'\{"event", "([a-z-]+)"\}', f.read()):
                assert event in doc, "%s emits %r, which docs/serve.md does not document" % (name, event)
