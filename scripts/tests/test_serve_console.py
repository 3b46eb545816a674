# test_serve_console.py — what `smtpkit serve` says on stderr: a line per
# message (`250 ID from → to, size, findings`), a line per finding, with
# --verbose the dialogue, with --quiet nothing but why --fail-on fails.
#
# A client that says EHLO with an unqualified name makes one MUST finding
# (client.domain.unqualified, RFC 5321 §2.3.5); smtplib does the rest.
import re
import smtplib

from smtpkit.server import MockServer

MESSAGE = b"Subject: console\r\n\r\nhello\r\n"


def send(srv, helo="client.example.test"):
    with smtplib.SMTP(srv.host, srv.port, local_hostname=helo, timeout=10) as c:
        c.sendmail("alice@example.test", ["bob@example.test", "carol@example.test"], MESSAGE)
    srv.wait_for_messages(1)
    srv.wait_for_sessions_closed()


def run(helo="client.example.test", **options):
    srv = MockServer(**options)
    srv.start()
    try:
        send(srv, helo)
    finally:
        rc = srv.stop()
    text = srv.stderr_text()
    srv.close()
    return rc, text


def test_a_line_per_message_and_per_finding():
    rc, text = run(helo="box")
    assert rc == 0, text
    assert "smtpkit serve: listening on " in text
    msg = [l for l in text.splitlines() if " 250 " in l]
    assert len(msg) == 1, text
    assert re.fullmatch(r"\[s\d+\] 250 \S+ alice@example\.test \u2192 bob@example\.test, carol@example\.test, "
                        r"\d+ octets, 1 finding", msg[0]), msg[0]
    finding = [l for l in text.splitlines() if "client.domain.unqualified" in l]
    assert len(finding) == 1, text
    assert re.fullmatch(r"\[s\d+\] client MUST client\.domain\.unqualified: .+ \(RFC 5321 §2\.3\.5\)", finding[0])


def test_a_clean_message_has_no_findings():
    rc, text = run()
    assert rc == 0, text
    assert re.search(r"\d+ octets, 0 findings$", text, re.M), text


def test_verbose_shows_the_dialogue():
    rc, text = run(verbose=True)
    assert rc == 0, text
    assert re.search(r"^\[s\d+\] open from 127\.0\.0\.1", text, re.M), text
    assert re.search(r"^\[s\d+\] C: mail FROM:<alice@example\.test>", text, re.M), text  # smtplib says "mail"
    assert re.search(r"^\[s\d+\] S: 250 ", text, re.M), text
    assert re.search(r"^\[s\d+\] closed, 0 findings$", text, re.M), text


def test_quiet_says_nothing_but_why_fail_on_fails():
    rc, text = run(helo="box", quiet=True, fail_on="must")
    assert rc == 1
    lines = text.splitlines()
    assert lines[0] == "smtpkit serve: exit 1 (--fail-on must): 1 finding at MUST", text
    assert re.fullmatch(r"  client\.domain\.unqualified \u00d71 \(s\d+\)", lines[1]), text
    assert len(lines) == 2, text


def test_quiet_and_clean_is_silent():
    rc, text = run(quiet=True, fail_on="must")
    assert rc == 0
    assert text == ""
