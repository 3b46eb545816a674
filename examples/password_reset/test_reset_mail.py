# test_reset_mail.py — tests of reset_mail.py against smtpkit's mock server
# (the smtp_server fixture of the smtpkit pytest plugin): the mail that
# arrives on success, then scripted failures — the address refused with
# 550 and the server closing with 421 — and what the program made of them.
#
# Limits: the scripted tests need `smtpkit serve --script`; on a build
# without it they fail with the server's own message. The program runs as
# a subprocess, as it would in production, with SMTP_HOST/SMTP_PORT in its
# environment.
import os
import subprocess
import sys

import pytest

import reset_mail  # the top-level pytest.ini puts this folder on the path

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "reset_mail.py")


def run(server, to="user@example.test", token="t0k3n"):
    env = dict(os.environ, SMTP_HOST=server.host, SMTP_PORT=str(server.port))
    return subprocess.run([sys.executable, PROGRAM, to, token], env=env, capture_output=True, text=True, timeout=30)


def test_the_reset_mail_arrives(smtp_server):
    p = run(smtp_server, token="s3cr3t-t0k3n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "sent: reset link mailed to user@example.test"

    mail, = smtp_server.wait_for_messages(1)
    assert mail.mail_from == reset_mail.SENDER
    assert mail.rcpt_to == ["user@example.test"]
    msg = mail.email
    assert msg["To"] == "user@example.test"
    assert msg["Subject"] == "Reset your password"
    assert msg["From"].addresses[0].addr_spec == reset_mail.SENDER
    body = msg.get_content()
    assert reset_mail.BASE_URL + "s3cr3t-t0k3n" in body
    assert "\n.If it was not you" in body.replace("\r\n", "\n")  # the dot line survived dot-stuffing

    smtp_server.wait_for_sessions_closed()
    assert smtp_server.findings == [], "the program's SMTP is clean"


def test_in_process_call(smtp_server):
    outcome = reset_mail.send_reset("other@example.test", "abc", smtp_server.host, smtp_server.port)
    assert outcome.status == "sent"
    assert smtp_server.wait_for_messages(1)[0].rcpt_to == ["other@example.test"]


def test_nobody_listening_is_a_temporary_failure(smtp_server):
    port = smtp_server.port
    smtp_server.stop()
    outcome = reset_mail.send_reset("user@example.test", "abc", "127.0.0.1", port, timeout=5)
    assert (outcome.status, outcome.exit_code) == ("deferred", reset_mail.EX_TEMPFAIL)


REFUSED_THEN_CLOSED = """\
# The address is refused for good; whatever comes next gets 421 and the end.
S: 220 mx.example.test ESMTP
C~ {*}
S: 250 mx.example.test
C~ {*}
S: 250 2.1.0 Sender ok
C~ {*}
S: 550 5.1.1 <user@example.test>: no such user here
C~ {*}
S: 421 4.3.0 mx.example.test closing
@close S
"""


@pytest.mark.smtp_script(REFUSED_THEN_CLOSED)
def test_refused_address_is_reported_not_retried(smtp_server):
    p = run(smtp_server)
    assert p.returncode == reset_mail.EX_REJECTED, p.stdout + p.stderr
    assert p.stdout.strip() == ("rejected: user@example.test refused: "
                                "550 5.1.1 <user@example.test>: no such user here")
    assert "Traceback" not in p.stderr  # the 421 and the closed connection did not crash it
    session, = smtp_server.wait_for_sessions_closed()
    assert smtp_server.messages == []
    # After the 550 it reset the transaction instead of sending the data.
    client_lines = [line[3:].upper() for line in session.transcript.splitlines() if line.startswith("C: ")]
    assert client_lines[-1] == "RSET" and "DATA" not in client_lines


BUSY = """\
S: 421 4.3.2 mx.example.test busy, try again later
@close S
"""


@pytest.mark.smtp_script(BUSY)
def test_busy_server_means_try_later(smtp_server):
    p = run(smtp_server)
    assert p.returncode == reset_mail.EX_TEMPFAIL, p.stdout + p.stderr
    assert p.stdout.startswith("deferred: ") and "421" in p.stdout
    smtp_server.wait_for_sessions_closed()
    assert smtp_server.messages == []
