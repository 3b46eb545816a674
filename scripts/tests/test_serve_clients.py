# test_serve_clients.py — real SMTP clients from Debian (curl, swaks, msmtp,
# s-nail) and Python's smtplib against `smtpkit serve`, through the smtpkit
# pytest plugin. Each test checks the stored message byte for byte (what
# the client meant to send, after dot-unstuffing), the envelope (sender,
# recipients, parameters, TLS, AUTH identity, in the event and in the
# envelope file) and that a well-behaved client got no finding. The
# findings real clients do get are pinned here and explained in
# docs/serve.md ("What real clients get").
#
# Limits: a client that is not installed makes its tests skip. s-nail adds
# headers of its own (Date, Message-ID, User-Agent), so for s-nail only our
# headers and the body are compared. TLS is STARTTLS without certificate
# checks (the server's certificate is self-signed).
import hashlib
import re
import shutil
import subprocess

import pytest

from peers import clients

SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
AUTH = ("alice", "wonderland")
HEADERS = (b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: smtpkit serve and a real client\r\n"
           b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <serve-test@client.smtpkit.test>\r\n")
# Lines that start with dots: the client stuffs them, the server must unstuff.
BODY = b"Hello.\r\n.A line that starts with a dot.\r\n..Two dots.\r\n.\r\n. \r\nLast line.\r\n"
MESSAGE = HEADERS + b"\r\n" + BODY


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def delivered(srv, message=MESSAGE, mail_from=SENDER, rcpts=(RCPT,), tls=False, auth=None, result=None,
              level="ADVICE"):
    """The one stored message, checked against what the client sent; no
    finding at `level` or above."""
    assert result is None or result.ok, result
    m, = srv.wait_for_messages(1)
    session, = srv.wait_for_sessions_closed()
    if message is not None:
        assert m.raw == message
    assert m.size == len(m.raw) and m.sha256 == hashlib.sha256(m.raw).hexdigest()
    assert m.mail_from == mail_from
    assert m.rcpt_to == list(rcpts)
    assert (m.tls, m.auth) == (tls, auth)
    if tls:
        assert m.tls_version.startswith("TLSv1.") and session.tls["state"] == "started"
    assert m.stored_envelope() == m.envelope  # the file beside the message says the same
    assert m.session == session.id
    srv.assert_no_findings(level)
    return m, session


def params(m):
    return {k.upper(): v for k, v in m.mail_params.items()}


def client_records(session):
    return [line for line in session.transcript.splitlines() if line[:2] in ("C:", "S:", "C=", "S=")]


# --- curl ---------------------------------------------------------------------

def test_curl_plain(smtp_server):
    need("curl")
    r = clients.curl(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, ehlo="client.example.test")
    m, _ = delivered(smtp_server, result=r)
    assert m.helo == "client.example.test"  # the URL path is curl's EHLO name
    assert params(m) == {"SIZE": str(len(MESSAGE))}


@pytest.mark.smtp_options(users={"alice": "wonderland"})
def test_curl_starttls_and_auth(smtp_server):
    need("curl")
    r = clients.curl(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, tls=True, auth=AUTH)
    m, session = delivered(smtp_server, tls=True, auth="alice", result=r)
    assert session.commands[:2] == ["EHLO client.smtpkit.test", "STARTTLS"]


@pytest.mark.smtp_allow_findings("client.domain.unqualified")
def test_curl_without_a_url_path_says_an_unqualified_ehlo(smtp_server):
    # `smtp://host:port` with `-T FILE`: curl appends FILE's name to the URL,
    # and the URL path is its EHLO name — here "63" or the like, from bash's
    # /dev/fd/63. RFC 5321 §2.3.5 and §4.1.1.1 want a fully qualified name.
    need("curl")
    script = ("curl -sS --max-time 20 smtp://127.0.0.1:%d --mail-from %s --mail-rcpt %s -T <(printf %%s \"$MSG\")"
              % (smtp_server.port, SENDER, RCPT))
    p = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "MSG": MESSAGE.decode()},
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    m, = smtp_server.wait_for_messages(1)
    smtp_server.wait_for_sessions_closed()
    assert re.fullmatch(r"\d+", m.helo), m.helo
    assert m.raw == MESSAGE  # the message itself is fine
    f, = smtp_server.findings
    assert (f.rule, f.level, f.rfc) == ("client.domain.unqualified", "MUST", "RFC 5321 §2.3.5")
    assert f.excerpt == "EHLO " + m.helo


# --- swaks --------------------------------------------------------------------

def test_swaks_pipelining(smtp_server):
    need("swaks")
    r = clients.swaks(smtp_server.host, smtp_server.port, SENDER, [RCPT, "second@example.test"], MESSAGE,
                      pipeline=True)
    _, session = delivered(smtp_server, rcpts=(RCPT, "second@example.test"), result=r)
    # MAIL, both RCPTs and DATA went out before their replies (RFC 2920).
    records = client_records(session)
    start = records.index("C: MAIL FROM:<%s>" % SENDER)
    assert records[start:start + 4] == ["C: MAIL FROM:<%s>" % SENDER, "C: RCPT TO:<%s>" % RCPT,
                                        "C: RCPT TO:<second@example.test>", "C: DATA"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.smtp_options(users={"alice": "wonderland"}, auth_required=True)
def test_swaks_auth(smtp_server, mechanism):
    need("swaks")
    r = clients.swaks(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, auth=AUTH, auth_type=mechanism)
    _, session = delivered(smtp_server, auth="alice", result=r, level="MAY")
    assert session.commands[1].startswith("AUTH %s" % mechanism)
    assert session.auth_user == "alice"
    # A password in the clear is advice, not a violation (RFC 4954 §4).
    assert [(f.rule, f.level) for f in smtp_server.findings] == [("client.auth.plaintext", "ADVICE")]


@pytest.mark.smtp_options(users={"alice": "wonderland"})
def test_swaks_starttls_and_auth(smtp_server):
    need("swaks")
    r = clients.swaks(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, tls=True, auth=AUTH)
    delivered(smtp_server, tls=True, auth="alice", result=r)


def test_swaks_leading_dots(smtp_server):
    need("swaks")
    body = b".\r\n..\r\n...\r\n. .\r\n.x\r\nend\r\n"
    message = HEADERS + b"\r\n" + body
    r = clients.swaks(smtp_server.host, smtp_server.port, SENDER, [RCPT], message)
    _, session = delivered(smtp_server, message=message, result=r)
    assert "C: ...." in session.transcript.splitlines()  # "..." went out stuffed


# --- msmtp --------------------------------------------------------------------

def test_msmtp_plain(smtp_server):
    need("msmtp")
    r = clients.msmtp(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE)
    m, _ = delivered(smtp_server, result=r)
    assert m.helo == clients.EHLO_NAME


@pytest.mark.smtp_options(users={"alice": "wonderland"}, auth_required=True)
def test_msmtp_starttls_and_auth(smtp_server):
    need("msmtp")
    r = clients.msmtp(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, tls=True, auth=AUTH)
    delivered(smtp_server, tls=True, auth="alice", result=r)


# --- Python smtplib -----------------------------------------------------------

def test_smtplib_several_recipients_with_dsn(smtp_server):
    import smtplib

    rcpts = ["one@example.test", "two@example.test", "Postmaster"]
    with smtplib.SMTP(smtp_server.host, smtp_server.port, local_hostname="client.example.test", timeout=10) as c:
        c.sendmail(SENDER, rcpts, MESSAGE, mail_options=["RET=HDRS", "ENVID=abc123"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
    m, _ = delivered(smtp_server, rcpts=rcpts)
    assert params(m) == {"SIZE": str(len(MESSAGE)), "RET": "HDRS", "ENVID": "abc123"}
    assert m.rcpt_params == {r: {"NOTIFY": "SUCCESS,FAILURE"} for r in rcpts}


def test_smtplib_smtputf8(smtp_server):
    import smtplib

    sender, rcpts = "jörg@exämple.test", ["zoë@example.test", "plain@example.test"]
    message = ("From: jörg@exämple.test\r\nTo: zoë@example.test\r\nSubject: Grüße\r\n\r\nGrüße aus Köln.\r\n"
               ".Punkt.\r\n").encode()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, local_hostname="client.example.test", timeout=10) as c:
        c.sendmail(sender, rcpts, message, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    m, _ = delivered(smtp_server, message=message, mail_from=sender, rcpts=rcpts)
    assert params(m) == {"SIZE": str(len(message)), "SMTPUTF8": True, "BODY": "8BITMIME"}
    assert m.email["Subject"] == "Grüße"


@pytest.mark.smtp_options(users={"alice": "wonderland"}, auth_required=True)
def test_smtplib_starttls_and_auth(smtp_server):
    r = clients.python_smtplib(smtp_server.host, smtp_server.port, SENDER, [RCPT], MESSAGE, tls=True, auth=AUTH)
    _, session = delivered(smtp_server, tls=True, auth="alice", result=r)
    # The session starts again after TLS (RFC 3207 §4.2): EHLO twice.
    assert [c.split()[0].upper() for c in session.commands[:4]] == ["EHLO", "STARTTLS", "EHLO", "AUTH"]


# --- s-nail -------------------------------------------------------------------

def _s_nail_check(m):
    raw = m.raw
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in (b"From: sender@example.test", b"To: rcpt@example.test",
                 b"Subject: smtpkit serve and a real client"):
        assert line in head.split(b"\r\n")
    assert body == BODY


def test_s_nail_plain(smtp_server):
    need("s-nail")
    r = clients.s_nail(smtp_server.host, smtp_server.port, SENDER, [], HEADERS.replace(b"Date: Thu, 01 Jan 2026 "
                       b"00:00:00 +0000\r\n", b"") + b"\r\n" + BODY)
    m, _ = delivered(smtp_server, message=None, result=r)
    _s_nail_check(m)
    assert (m.helo, m.esmtp) == (clients.EHLO_NAME, False)  # s-nail says HELO when it needs nothing more


@pytest.mark.smtp_options(users={"alice": "wonderland"})
def test_s_nail_starttls_and_auth(smtp_server):
    need("s-nail")
    r = clients.s_nail(smtp_server.host, smtp_server.port, SENDER, [], HEADERS.replace(b"Date: Thu, 01 Jan 2026 "
                       b"00:00:00 +0000\r\n", b"") + b"\r\n" + BODY, tls=True, auth=AUTH)
    m, _ = delivered(smtp_server, message=None, tls=True, auth="alice", result=r)
    _s_nail_check(m)
    assert m.esmtp


# --- 8-bit content ------------------------------------------------------------

EIGHT_BIT = HEADERS + b"Content-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln.\r\n"


@pytest.mark.smtp_allow_findings("client.data.eight-bit")
@pytest.mark.parametrize("name", ["curl", "swaks", "msmtp", "smtplib"])
def test_8bit_body_without_body_8bitmime(smtp_server, name):
    # The server offers 8BITMIME; these clients send the 8-bit octets as they
    # are but do not say BODY=8BITMIME on MAIL (RFC 6152 §3). curl, swaks
    # (20201014) and msmtp have no way to say it; smtplib does it only when
    # asked (mail_options=["BODY=8BITMIME"], see test_smtplib_smtputf8).
    if name != "smtplib":
        need(name)
    r = clients.CLIENTS[name](smtp_server.host, smtp_server.port, SENDER, [RCPT], EIGHT_BIT)
    assert r.ok, r
    m, = smtp_server.wait_for_messages(1)
    smtp_server.wait_for_sessions_closed()
    assert b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln.\r\n" in m.raw and "BODY" not in params(m)
    assert [(f.rule, f.level, f.rfc) for f in smtp_server.findings] == [
        ("client.data.eight-bit", "MUST", "RFC 6152 §3")]


def test_s_nail_reencodes_8bit_text(smtp_server):
    need("s-nail")
    r = clients.s_nail(smtp_server.host, smtp_server.port, SENDER, [], EIGHT_BIT.replace(
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n", b""))
    m, _ = delivered(smtp_server, message=None, result=r)
    assert b"Content-Transfer-Encoding: quoted-printable" in m.raw and max(m.raw) < 0x80
    assert m.email.get_content().rstrip("\r\n") == "Grüße aus Köln."
