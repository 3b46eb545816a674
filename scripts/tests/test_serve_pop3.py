# test_serve_pop3.py — `smtpkit serve --pop3`: the Maildir over POP3 (RFC
# 1939, CAPA of RFC 2449, STLS of RFC 2595) for Python's poplib: a message
# sent over SMTP is listed, fetched and deleted by a POP3 client.
import poplib
import smtplib
import ssl

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
