# test_scripts_replay.py — dialogues served by `smtpkit serve --script` to
# real clients: S: records sent, C:/C~ records expected, captures sent back,
# a deviating client reported as a "script.mismatch" finding (file:line,
# what was expected, what came) with the @on-mismatch policy applied, @tls
# in a dialogue, the reference server taking over in step, several scripts
# and @session, and --fail-on counting mismatches.
#
# Limits: a client that is not installed makes its checks skip. smtplib
# sends its verbs in lower case ("ehlo", "mail FROM:"): an exact C: record
# takes them (RFC 5321 §2.4: verbs, tags and keywords in any case), and so
# does a C~ pattern (its literal letters ignore case).
import os
import shutil
import smtplib
import socket

import pytest

from peers import clients

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, "..", "..", "examples", "scripts")
SENDER = "sender@example.test"
RCPT = "rcpt@example.test"
MESSAGE = b"From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: replay\r\n\r\nHello.\r\n"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed" % tool)


def greeting(srv):
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        line = s.makefile("rb").readline()
        s.sendall(b"QUIT\r\n")
        return line


def mismatches(srv):
    return [f for f in srv.findings if f.rule == "script.mismatch"]


def test_replay_with_patterns_to_every_client(smtp_server_factory):
    srv = smtp_server_factory(os.path.join(LIBRARY, "replay-with-patterns.smtp"))
    sent = 0
    for tool, send in (("curl", clients.curl), ("swaks", clients.swaks), ("msmtp", clients.msmtp)):
        if shutil.which(tool):
            r = send(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
            assert r.ok, (tool, r)
            sent += 1
    with smtplib.SMTP(srv.host, srv.port, local_hostname=clients.EHLO_NAME, timeout=10) as s:
        assert s.sendmail(SENDER, [RCPT], MESSAGE) == {}
    sent += 1
    srv.wait_for_messages(sent)
    srv.wait_for_sessions_closed()
    assert mismatches(srv) == []
    for session in srv.sessions:
        ehlo = session.replies[1]
        assert ehlo.lines[0] == "mx.example.test greets %s" % clients.EHLO_NAME, "captured {client} sent back"
        assert session.replies[2].text == "2.1.0 Sender <%s> ok" % SENDER
    # The reference server took the message after the dialogue's 354: stored as sent.
    assert srv.messages[0].raw == MESSAGE and srv.messages[0].rcpt_to == [RCPT]
    done = [e for e in srv.events if e.get("event") == "script" and e.get("dialogue") == "done"]
    assert len(done) == sent and all(e["next"] == "reference" for e in done)


EXACT = """S: 220 mx.example.test ESMTP exact
C: EHLO client.smtpkit.test
S: 250 mx.example.test
C: QUIT
S: 221 bye
@close S
"""


def test_a_deviating_client_is_a_finding_with_file_line_and_the_line_received(smtp_server_factory):
    srv = smtp_server_factory(EXACT)
    with smtplib.SMTP(srv.host, srv.port, local_hostname="other.example", timeout=10) as s:
        code, text = s.ehlo()  # another name than the script's
        assert (code, text) == (503, b"5.5.1 Unexpected command")
        # smtplib's lower-case "ehlo" is the verb the script wrote as EHLO.
        assert s.ehlo(clients.EHLO_NAME) == (250, b"mx.example.test"), "the script stayed at the step"
    srv.wait_for_sessions_closed()
    f, = mismatches(srv)
    assert (f.side, f.level) == ("client", "MUST")
    assert f.excerpt == "ehlo other.example"
    assert "expected C: EHLO client.smtpkit.test" in f.message and "inline-script-1.smtp:2)" in f.message
    ev, = [e for e in srv.events if e.get("event") == "finding"]
    assert ev["script_line"] == 2 and ev["expected"] == "C: EHLO client.smtpkit.test"
    assert ev["received"] == "ehlo other.example\\r\\n"


def test_on_mismatch_close(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory("@on-mismatch close\n" + EXACT)
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE, ehlo="other.example")
    assert r.returncode != 0, r
    srv.wait_for_sessions_closed()
    f, = mismatches(srv)
    assert f.excerpt == "EHLO other.example"
    assert srv.sessions[0].replies[-1].code == 220, "closed without a reply to the deviating line"


def test_fail_on_must_counts_mismatches(smtp_server_factory):
    srv = smtp_server_factory(EXACT, fail_on="must")
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as s:
        s.docmd("HELO", "wrong.example")
        s.docmd("EHLO", clients.EHLO_NAME)
    srv.wait_for_sessions_closed()
    assert srv.stop() == 1
    assert srv.sessions[0].findings_count >= 1


TLS_DIALOGUE = """S: 220 mx.example.test ESMTP tls replay
C~ EHLO {client}
S: 250-mx.example.test
S: 250 STARTTLS
C: STARTTLS
S: 220 2.0.0 go ahead
@tls
C~ EHLO {client}
S: 250-mx.example.test inside TLS, {client}
S: 250 8BITMIME
"""


def test_tls_in_a_dialogue_then_the_reference_takes_the_message(smtp_server_factory):
    need("curl")
    srv = smtp_server_factory(TLS_DIALOGUE)
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE, tls=True)
    assert r.ok, r
    m, = srv.wait_for_messages(1)
    assert m.tls and m.raw == MESSAGE
    session, = srv.wait_for_sessions_closed()
    assert session.tls["state"] == "started"
    assert mismatches(srv) == []


def test_several_scripts_and_session_numbers(smtp_server_factory):
    a = "S: 220 dialogue a\n@session 3\nS: 220 dialogue a, session 3 only\n"
    b = "S: 220 dialogue b\n"
    srv = smtp_server_factory([a, b])
    got = [greeting(srv) for _ in range(5)]
    assert got == [b"220 dialogue a\r\n", b"220 dialogue b\r\n", b"220 dialogue a, session 3 only\r\n",
                   b"220 dialogue b\r\n", b"220 dialogue a\r\n"]
    only = smtp_server_factory("@session 2\nS: 220 just the second\n")
    assert [greeting(only) for _ in range(3)] == [b"220 localhost ESMTP smtpkit\r\n", b"220 just the second\r\n",
                                                   b"220 localhost ESMTP smtpkit\r\n"]


def test_rules_come_before_the_dialogue(smtp_server_factory):
    need("curl")
    text = ("@rule nth=1 RCPT TO:{*}\nS: 450 4.2.0 greylisted by a rule\n@end\n"
            "S: 220 mx.example.test\nC~ EHLO {*}\nS: 250 mx.example.test\nC~ MAIL FROM:{*}\nS: 250 ok\n"
            "C~ RCPT TO:{*}\nS: 250 ok\nC: DATA\nS: 354 go on\n")
    srv = smtp_server_factory(text)
    r = clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE)
    assert r.returncode == 55 and b"RCPT failed: 450" in r.stderr, r
    # The rule answered the RCPT the dialogue expected: the dialogue moved past
    # it (and its 250), so curl's QUIT came where the dialogue wanted DATA.
    srv.wait_for_sessions_closed(1)
    f, = mismatches(srv)
    assert f.excerpt == "QUIT" and "expected C: DATA" in f.message
    # The rule answers once (nth=1, per server): the retry follows the dialogue.
    assert clients.curl(srv.host, srv.port, SENDER, [RCPT], MESSAGE).ok
    m, = srv.wait_for_messages(1)
    assert m.raw == MESSAGE
    ev = [e for e in srv.events if e.get("event") == "script" and "rule_line" in e]
    assert [(e["rule_line"], e["session"]) for e in ev] == [(1, "s000001")]
