# test_serve_misbehaving.py — clients that break the protocol, played with
# raw sockets against `smtpkit serve`: each is reported with the right rule
# id, and the server does the safe thing (no answer to octets injected
# before TLS, no end of data at <LF>.<LF>, no command taken from a line
# ended by a bare LF).
#
# Limits: one misbehaviour per test; every socket read has a timeout, so a
# server that does not answer fails the test instead of hanging it.
import socket
import ssl

import pytest

pytestmark = pytest.mark.smtp_allow_findings()  # these clients break rules on purpose


class Client:
    """A hand-driven SMTP client: send octets, read whole replies."""

    def __init__(self, srv, timeout=5):
        self.sock = socket.create_connection(srv.address, timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        lines = []
        while True:
            line = self.file.readline()
            assert line.endswith(b"\r\n"), "connection closed or line cut: %r" % line
            lines.append(line[4:-2].decode("utf-8", "replace"))  # text after "250-" / "250 "
            if line[3:4] != b"-":
                return int(line[:3]), lines

    def command(self, line):
        self.send(line + b"\r\n")
        return self.reply()

    def starttls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")

    def close(self):
        self.file.close()
        self.sock.close()


def rules(srv):
    return [f.rule for f in srv.findings]


def test_mail_before_ehlo(smtp_server):
    c = Client(smtp_server)
    assert c.command(b"MAIL FROM:<a@example.test>")[0] == 503
    assert c.command(b"QUIT")[0] == 221
    c.close()
    smtp_server.wait_for_sessions_closed()
    assert rules(smtp_server) == ["client.sequence.no-ehlo"]
    f = smtp_server.findings[0]
    assert (f.side, f.level, f.rfc, f.excerpt) == ("client", "MUST", "RFC 5321 §4.1.4", "MAIL FROM:<a@example.test>")


@pytest.mark.smtp_options(no=["pipelining"])
def test_pipelining_without_pipelining(smtp_server):
    c = Client(smtp_server)
    code, ehlo = c.command(b"EHLO client.example.test")
    assert code == 250 and "PIPELINING" not in ehlo
    c.send(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n")  # no wait for the 250 to MAIL
    assert c.reply()[0] == 250 and c.reply()[0] == 250  # still answered, in order
    assert c.command(b"QUIT")[0] == 221
    c.close()
    smtp_server.wait_for_sessions_closed()
    assert rules(smtp_server) == ["client.sequence.lockstep"]
    assert smtp_server.findings[0].excerpt == "RCPT TO:<b@example.test>"


def test_bare_lf_in_a_command(smtp_server):
    c = Client(smtp_server)
    assert c.command(b"EHLO client.example.test")[0] == 250
    c.send(b"MAIL FROM:<a@example.test>\nRCPT TO:<b@example.test>\r\n")
    code, lines = c.reply()
    # One line (it ends at the CRLF), refused: neither MAIL nor RCPT was taken.
    assert code == 501 and "bare CR or LF" in lines[0]
    assert c.command(b"RCPT TO:<b@example.test>")[0] == 503  # no transaction was opened
    assert c.command(b"QUIT")[0] == 221
    c.close()
    session, = smtp_server.wait_for_sessions_closed()
    assert rules(smtp_server) == ["client.line.bare-lf", "client.sequence.rcpt-without-mail"]
    assert "C= MAIL FROM:<a@example.test>\\n" in session.transcript.splitlines()


def test_commands_injected_after_starttls_are_not_answered(smtp_server):
    c = Client(smtp_server)
    assert c.command(b"EHLO client.example.test")[0] == 250
    injected = b"MAIL FROM:<injected@example.test>\r\nRCPT TO:<victim@example.test>\r\n"
    c.send(b"STARTTLS\r\n" + injected)
    assert c.reply()[0] == 220
    c.starttls()
    # Inside TLS the session starts over: the first reply is the EHLO's, no
    # leftover answer to the injected MAIL/RCPT.
    code, ehlo = c.command(b"EHLO client.example.test")
    assert code == 250 and ehlo[0].startswith("localhost Hello") and "STARTTLS" not in ehlo
    assert c.command(b"RCPT TO:<victim@example.test>")[0] == 503  # the injected MAIL opened nothing
    assert c.command(b"QUIT")[0] == 221
    c.close()
    session, = smtp_server.wait_for_sessions_closed()
    assert rules(smtp_server) == ["client.starttls.pipelined", "client.sequence.rcpt-without-mail"]
    assert not any("injected@" in cmd for cmd in session.commands)
    assert [r.code for r in session.replies] == [220, 250, 220, 250, 503, 221]
    discarded, = session.discarded
    assert discarded["octets"] == len(injected)
    assert session.tls["state"] == "started"
    # The transcript shows the octets the client sent, and that no reply came.
    lines = session.transcript.splitlines()
    i = lines.index("C: STARTTLS")
    assert lines[i:i + 5] == ["C: STARTTLS", "C: MAIL FROM:<injected@example.test>", "C: RCPT TO:<victim@example.test>",
                              "S: 220 2.0.0 Ready to start TLS", "@tls"]


def test_lf_dot_lf_does_not_end_the_data(smtp_server):
    c = Client(smtp_server)
    for line, code in [(b"EHLO client.example.test", 250), (b"MAIL FROM:<a@example.test>", 250),
                       (b"RCPT TO:<b@example.test>", 250), (b"DATA", 354)]:
        assert c.command(line)[0] == code
    # An SMTP smuggling attempt: <LF>.<LF>, then a second transaction.
    smuggled = b"Subject: one\r\n\r\nbody\n.\nMAIL FROM:<smuggled@example.test>\r\nRCPT TO:<b@example.test>\r\n"
    c.send(smuggled + b".\r\n")
    code, lines = c.reply()
    assert code == 250 and "queued as" in lines[0]
    assert c.command(b"QUIT")[0] == 221
    c.close()
    m, = smtp_server.wait_for_messages(1)
    session, = smtp_server.wait_for_sessions_closed()
    assert m.raw == smuggled  # the data went on past <LF>.<LF> up to <CRLF>.<CRLF>
    assert m.mail_from == "a@example.test"
    assert not any("smuggled@" in cmd for cmd in session.commands)
    assert "client.data.eod.lf-dot-lf" in rules(smtp_server)
    assert set(rules(smtp_server)) == {"client.data.eod.lf-dot-lf", "client.data.bare-lf"}
