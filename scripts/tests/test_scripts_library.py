# test_scripts_library.py — every script of examples/scripts/ served by
# `smtpkit serve --script` to real clients (curl, swaks, msmtp, smtplib),
# checking what each client shows for it: exit status, error text, the
# smtplib exception and its code, and what the server stored. One test per
# rule-based script; the fault demos are in test_scripts_faults.py.
#
# Client habits these tests rest on (observed, Debian 12): curl exits 55
# when MAIL or RCPT is refused ("RCPT failed: 450") and 8 ("Weird server
# reply") when the end of data is; swaks exits 23/24/26 for a refused
# MAIL/RCPT/end of data; msmtp exits 65 for a permanent refusal of the
# envelope and 69 for a temporary one or a refused message; msmtp and swaks
# never send SIZE=. Limits: a client that is not installed makes its checks
# skip.
import os
import shutil
import smtplib
import time

import pytest

from peers import clients

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, "..", "..", "examples", "scripts")
SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
MESSAGE = (b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: scripted server\r\n"
           b"Message-ID: <scripts@client.smtpkit.test>\r\n\r\nHello.\r\n")


def script(name):
    return os.path.abspath(os.path.join(LIBRARY, name))


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def smtplib_send(srv, rcpts=(RCPT,), message=MESSAGE, login=None, timeout=10):
    with smtplib.SMTP(srv.host, srv.port, local_hostname=clients.EHLO_NAME, timeout=timeout) as s:
        if login:
            s.ehlo()
            s.login(*login)
        return s.sendmail(SENDER, list(rcpts), message)


def rule_events(srv):
    return [e for e in srv.events if e.get("event") == "script" and "rule_line" in e]


def test_every_library_script_opens_with_what_it_does_and_how_to_use_it():
    names = sorted(f for f in os.listdir(LIBRARY) if f.endswith(".smtp"))
    assert len(names) >= 12
    for name in names:
        with open(os.path.join(LIBRARY, name), encoding="utf-8") as f:
            head = f.read().split("\n@", 1)[0]
        assert head.startswith("# %s — " % name), name
        assert "smtpkit serve" in head and "--script examples/scripts/%s" % name in head, name


def test_greylisting_first_rcpt_450_then_accepted(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("greylisting.smtp"))
    first = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert first.returncode == 55 and b"RCPT failed: 450" in first.stderr, first
    retry = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert retry.ok, retry
    m, = srv.wait_for_messages(1)
    assert m.raw == MESSAGE and m.rcpt_to == [RCPT]
    ev, = rule_events(srv)
    assert ev["rule_line"] == 12 and ev["trigger"] == "line" and ev["input"] == "RCPT TO:<%s>" % RCPT
    assert ev["script"].endswith("greylisting.smtp")


def test_greylisting_smtplib_sees_450_as_refused_recipient(smtp_server_factory):
    srv = smtp_server_factory(script("greylisting.smtp"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        smtplib_send(srv)
    assert e.value.recipients[RCPT][0] == 450
    assert smtplib_send(srv) == {}
    srv.wait_for_messages(1)


def test_mailbox_full_452_at_rcpt_and_552_at_end_of_data(smtp_server_factory):
    need("msmtp")
    srv = smtp_server_factory(script("mailbox-full.smtp"))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        smtplib_send(srv, rcpts=["someone@full.test"])
    assert e.value.recipients["someone@full.test"] == (452, b"4.2.2 Mailbox full, try again later")
    r = clients.msmtp(srv.host, srv.port, SENDER, ["someone@full.test"], MESSAGE)
    assert r.returncode == 69 and b"452 4.2.2 Mailbox full" in r.stderr, r
    # The first message fills the mailbox; the next ones get 552 at the end of data.
    assert smtplib_send(srv) == {}
    with pytest.raises(smtplib.SMTPDataError) as e:
        smtplib_send(srv)
    assert e.value.smtp_code == 552
    r = clients.msmtp(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 69 and b"552 5.2.2" in r.stderr, r
    if shutil.which("curl"):
        r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
        assert r.returncode == 8 and b"Weird server reply" in r.stderr, r
    srv.settle()
    assert len(srv.messages) == 1, "a message refused at the end of data is not stored"


def test_rate_limit_421_and_close_after_three_messages(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("rate-limit.smtp"))
    for _ in range(3):
        assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 55 and b"MAIL failed: 421" in r.stderr, r
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        smtplib_send(srv)
    assert e.value.smtp_code == 421
    if shutil.which("swaks"):
        r = clients.swaks(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
        assert r.returncode == 23, r  # swaks: MAIL refused
    srv.settle()
    assert len(srv.messages) == 3
    last = srv.sessions[-1]
    assert last.closed and last.replies[-1].code == 421


def test_slow_server_is_slow_but_delivers(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("slow-server.smtp"))
    started = time.monotonic()
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    took = time.monotonic() - started
    assert r.ok, r
    # 1 s greeting + 1 s end of data + 300 ms before each of EHLO, MAIL, RCPT, DATA.
    assert took >= 3.0, took
    srv.wait_for_messages(1)
    # A client whose timeout is shorter than the greeting delay gives up.
    with pytest.raises((smtplib.SMTPServerDisconnected, TimeoutError)):
        smtplib_send(srv, timeout=0.5)


def test_tls_required_530_until_starttls(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("tls-required.smtp"))
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 55 and b"MAIL failed: 530" in r.stderr, r
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        smtplib_send(srv)
    assert (e.value.smtp_code, e.value.smtp_error) == (530, b"5.7.0 Must issue a STARTTLS command first")
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE, tls=True)
    assert r.ok, r
    m, = srv.wait_for_messages(1)
    assert m.tls and m.raw == MESSAGE
    if shutil.which("msmtp"):
        r = clients.msmtp(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
        assert r.returncode == 65 and b"530 5.7.0 Must issue a STARTTLS" in r.stderr, r


def test_auth_required_530_until_auth(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("auth-required.smtp"), users={"alice": "wonderland"})
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 55 and b"MAIL failed: 530" in r.stderr, r
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        smtplib_send(srv)
    assert e.value.smtp_code == 530
    with pytest.raises(smtplib.SMTPAuthenticationError):
        smtplib_send(srv, login=("alice", "wrong"))
    assert smtplib_send(srv, login=("alice", "wonderland")) == {}
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE, auth=("alice", "wonderland")).ok
    srv.wait_for_messages(2)
    assert [m.auth for m in srv.messages] == ["alice", "alice"]


def test_reject_domain_550_for_blocked_recipients_only(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("reject-domain.smtp"))
    r = clients.curl(srv.host, srv.port, SENDER, ["x@blocked.test"], MESSAGE)
    assert r.returncode == 55 and b"RCPT failed: 550" in r.stderr, r
    # smtplib delivers to the accepted recipient and returns the refused one.
    refused = smtplib_send(srv, rcpts=["x@blocked.test", "y@ok.test"])
    assert refused == {"x@blocked.test": (550, b"5.7.1 <x@...>: Recipient address rejected: domain blocked")}
    m, = srv.wait_for_messages(1)
    assert m.rcpt_to == ["y@ok.test"]
    if shutil.which("swaks"):
        r = clients.swaks(srv.host, srv.port, SENDER, ["x@spam.test"], MESSAGE)
        assert r.returncode == 24, r  # swaks: every recipient refused


def test_message_too_large_552_for_a_declared_size_over_1000(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(script("message-too-large.smtp"))
    big = MESSAGE + b"x" * 2000 + b"\r\n"
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], big)
    assert r.returncode == 55 and b"MAIL failed: 552" in r.stderr, r
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        smtplib_send(srv, message=big)
    assert e.value.smtp_code == 552
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok, "small messages go through"
    m, = srv.wait_for_messages(1)
    assert m.raw == MESSAGE
    # The custom EHLO reply is what the client saw; the reference still took MAIL.
    first = srv.sessions[0]
    assert first.replies[1].lines[2] == "SIZE 1000"
