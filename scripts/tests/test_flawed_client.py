# test_flawed_client.py — peers/flawed_client.py against `smtpkit serve`
# (the smtpkit pytest plugin's MockServer). The client is careful by
# default and breaks one rule per --break; these tests show both halves:
#
# - careful: the message is stored byte for byte as the CRLF-normalised
#   file (dot-stuffed on the wire, unstuffed by the server), over plain
#   SMTP, STARTTLS (--insecure, and --cafile with a certificate made here),
#   implicit TLS, AUTH and BDAT, and the server's conformance engine finds
#   nothing at all; where the client must decline (8-bit without 8BITMIME,
#   UTF-8 without SMTPUTF8, over SIZE, long lines, a bad certificate, no
#   STARTTLS under --tls required) it does, with the documented exit status;
# - broken: under the very same server, each break that the engine can see
#   draws the rule id it is about, and the careful client under that server
#   draws none. Scripts (docs/dialogue-format.md) make the server refuse
#   what a break needs refused (EHLO, MAIL, RCPT), or keep the connection
#   open after 221.
#
# Two breaks are invisible to `smtpkit serve` by construction: it reads a
# client's octets only after writing its own, so it cannot see a client that
# talks before the greeting (early-talker) or closes before the 221
# (no-wait-221). For those, `smtpkit record` sits between the client and
# a slow server, and `smtpkit check` judges the transcript. The breaks
# that need a hostile server (421, 452, 554 greeting, STARTTLS injection,
# downgrade, impatience) are checked here by what the client does — its
# commands, its exit status — not by rule ids.
#
# Limits: every server is on 127.0.0.1 port 0, every client run has a
# 30 s bound; openssl makes the --cafile certificate (the test skips
# without it).
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from peers import servers
from peers.flawed_client import BREAKS
from smtpkit import tools

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "flawed_client.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
AUTH = "alice:wonderland"
USERS = {"alice": "wonderland"}

# LF line ends, a bare CR, lines that start with dots (one is a lone dot,
# which would end the data unstuffed), and no line end at the very end.
RAW = (b"From: sender@example.test\nTo: rcpt@example.test\nSubject: flawed client\n\n"
       b"Hello.\n.A line that starts with a dot.\n..Two dots.\n.\n. \nan old Mac line end\rLast line")
EXPECTED = re.sub(rb"\r\n|\r|\n", b"\r\n", RAW) + b"\r\n"
EIGHT_BIT = (b"From: sender@example.test\nSubject: 8-bit\nContent-Type: text/plain; charset=utf-8\n\n"
             b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln.\n")
LONG = b"Subject: long\n\n" + b"x" * 1200 + b"\n"

# Scripts: rules answer a command before the reference server does.
EHLO_REFUSED = "@rule EHLO {*}\nS: 502 5.5.1 EHLO not here, try HELO\n@end\n"
MAIL_REFUSED = "@rule MAIL FROM:{*}\nS: 550 5.7.1 no mail from you\n@end\n"
RCPT_REFUSED = "@rule RCPT TO:{*}\nS: 550 5.1.1 no such user\n@end\n"
RCPT_421 = "@rule RCPT TO:{*}\nS: 421 4.3.2 going down (the connection stays open)\n@end\n"
QUIT_KEEPS_OPEN = "@rule QUIT\nS: 221 2.0.0 bye (the connection stays open)\n@end\n"
GREETING_554 = "@rule @connect\nS: 554 5.3.2 no SMTP service here\n@end\n"
SLOW_GREETING = "@rule @connect\n@pause 500ms\n@fallback\n@end\n"
SLOW_QUIT = "@rule QUIT\n@pause 500ms\n@fallback\n@end\n"
SLOW_MAIL = "@rule MAIL FROM:{*}\n@pause 2500ms\n@fallback\n@end\n"
# A reply the server sends in clear together with the 220 to STARTTLS: a
# man in the middle's (CVE-2011-0411). It offers no SIZE, so a client that
# believes it sends MAIL without SIZE=.
STARTTLS_INJECTION = ("@rule STARTTLS\nS= 220 2.0.0 Ready to start TLS\\r\\n250-mx.injected.test\\r\\n"
                      "250 8BITMIME\\r\\n\n@tls\n@end\n")


def run_client(tmp_path, port, *flags, message=RAW):
    path = tmp_path / "message.eml"
    path.write_bytes(message)
    return subprocess.run([PYTHON, CLIENT, "--host", "127.0.0.1", "--port", str(port), "--message", str(path),
                           "--timeout", "10", *flags], capture_output=True, timeout=30)


def send(srv, tmp_path, *flags, message=RAW, port=None):
    """Run the client against srv; (exit status, stderr, the one closed session)."""
    p = run_client(tmp_path, port or srv.port, *flags, message=message)
    session, = srv.wait_for_sessions_closed()
    return p.returncode, p.stderr.decode("utf-8", "replace"), session


def rules(srv):
    return {f.rule for f in srv.findings}


def verbs(session):
    return [c.split()[0].upper() if c else "" for c in session.commands]


def stored(srv, message=EXPECTED, **envelope):
    """The one message the server accepted: the octets sent, the envelope."""
    m, = srv.wait_for_messages(1)
    assert m.raw == message
    assert m.size == len(message) and m.sha256 == hashlib.sha256(message).hexdigest()
    for key, value in envelope.items():
        assert getattr(m, key) == value, (key, getattr(m, key))
    return m


# --- the careful client ---------------------------------------------------------------------

def test_plain(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, err, session = send(srv, tmp_path, "--tls", "none")
    assert rc == 0, err
    m = stored(srv, helo="client.smtpkit.test", mail_from="sender@example.test", rcpt_to=["rcpt@example.test"],
               tls=False)
    assert m.mail_params == {"SIZE": str(len(EXPECTED))}  # SIZE: the normalised message, before stuffing
    # Dot-stuffed on the wire (the transcript shows the octets sent).
    lines = session.transcript.splitlines()
    for line in ["C: ..A line that starts with a dot.", "C: ...Two dots.", "C: ..", "C: ..\\x20"]:
        assert line in lines
    # PIPELINING is offered: MAIL, RCPT and DATA in one group (RFC 2920).
    assert verbs(session) == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    srv.assert_no_findings("ADVICE")


def test_lockstep_without_pipelining(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(no=["pipelining"])
    rc, err, _ = send(srv, tmp_path, "--tls", "none", "--to", "one@example.test", "--to", "two@example.test")
    assert rc == 0, err
    stored(srv, rcpt_to=["one@example.test", "two@example.test"])
    srv.assert_no_findings("ADVICE")  # no client.sequence.lockstep


def test_starttls_insecure(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, err, session = send(srv, tmp_path, "--insecure")  # --tls starttls is the default
    assert rc == 0, err
    m = stored(srv, tls=True)
    assert m.tls_version.startswith("TLSv1.")
    assert verbs(session) == ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    srv.assert_no_findings("ADVICE")


@pytest.fixture
def cert(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path / "cert"
    d.mkdir()
    return servers.make_cert(str(d), "mx.smtpkit.test")  # SANs: DNS:mx.smtpkit.test, IP:127.0.0.1


def test_starttls_cafile(smtp_server_factory, tmp_path, cert):
    crt, key = cert
    srv = smtp_server_factory(tls_cert=crt, tls_key=key)
    # The host is 127.0.0.1: the certificate's IP SAN is checked.
    rc, err, _ = send(srv, tmp_path, "--tls", "required", "--cafile", crt)
    assert rc == 0, err
    stored(srv, tls=True)
    srv.assert_no_findings("ADVICE")
    srv.reset()
    rc, err, _ = send(srv, tmp_path, "--tls", "required", "--cafile", crt, "--tls-name", "mx.smtpkit.test")
    assert rc == 0, err
    srv.assert_no_findings("ADVICE")


def test_certificate_failures_exit_3(smtp_server_factory, tmp_path, cert):
    crt, key = cert
    srv = smtp_server_factory(tls=True, tls_cert=crt, tls_key=key)
    for flags in (["--tls-name", "other.smtpkit.test", "--cafile", crt],  # the name does not match
                  [],  # the system CAs do not know this certificate
                  ["--tls", "implicit"]):  # nor over implicit TLS
        srv.reset()
        p = run_client(tmp_path, srv.tls_port if "implicit" in flags else srv.port, *flags)
        assert p.returncode == 3, p.stderr
        assert b"certificate" in p.stderr
        srv.wait_for_sessions_closed()
        assert srv.messages == []
        assert all("MAIL" not in verbs(s) for s in srv.sessions)


def test_implicit_tls(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(tls=True)
    rc, err, session = send(srv, tmp_path, "--tls", "implicit", "--insecure", port=srv.tls_port)
    assert rc == 0, err
    stored(srv, tls=True)
    assert session.implicit_tls and verbs(session)[:2] == ["EHLO", "MAIL"]  # no STARTTLS inside TLS
    srv.assert_no_findings("ADVICE")


@pytest.mark.parametrize("mechanisms", [None, ["LOGIN"]])
def test_auth_over_starttls(smtp_server_factory, tmp_path, mechanisms):
    srv = smtp_server_factory(users=USERS, auth_required=True, auth_mechanisms=mechanisms)
    rc, err, session = send(srv, tmp_path, "--insecure", "--auth", AUTH)
    assert rc == 0, err
    stored(srv, tls=True, auth="alice")
    assert session.commands[3] == ("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=" if mechanisms is None else "AUTH LOGIN")
    srv.assert_no_findings("ADVICE")


def test_auth_refused(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(users=USERS)
    rc, err, session = send(srv, tmp_path, "--insecure", "--auth", "alice:wrong")
    assert rc == 1 and "AUTH PLAIN refused: 535" in err
    assert verbs(session) == ["EHLO", "STARTTLS", "EHLO", "AUTH", "QUIT"]
    srv.assert_no_findings("ADVICE")


def test_chunking(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, err, session = send(srv, tmp_path, "--insecure", "--chunking")
    assert rc == 0, err
    stored(srv)
    # Not dot-stuffed: BDAT carries the octets as they are (RFC 3030 §2).
    assert session.commands[3:6] == ["MAIL FROM:<sender@example.test> SIZE=%d" % len(EXPECTED),
                                     "RCPT TO:<rcpt@example.test>", "BDAT %d LAST" % len(EXPECTED)]
    srv.assert_no_findings("ADVICE")


def test_chunking_not_offered_uses_data(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(no=["chunking", "pipelining"])
    rc, err, session = send(srv, tmp_path, "--insecure", "--chunking")
    assert rc == 0, err
    stored(srv)
    assert "DATA" in verbs(session) and "BDAT" not in verbs(session)
    srv.assert_no_findings("ADVICE")


def test_8bit_and_utf8_declared(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, err, _ = send(srv, tmp_path, "--insecure", "--from", "jörg@exämple.test", "--to", "zoë@example.test",
                      message=EIGHT_BIT)
    assert rc == 0, err
    m = stored(srv, re.sub(rb"\n", b"\r\n", EIGHT_BIT), mail_from="jörg@exämple.test", rcpt_to=["zoë@example.test"])
    assert m.mail_params == {"SIZE": str(len(m.raw)), "BODY": "8BITMIME", "SMTPUTF8": True}
    srv.assert_no_findings("ADVICE")


@pytest.mark.parametrize("options,flags,message,why", [
    # serve keeps 8BITMIME while SMTPUTF8, which needs it (RFC 6531 §3.1), is on.
    ({"no": ["8bitmime", "smtputf8"]}, [], EIGHT_BIT, "8BITMIME"),
    ({"no": ["smtputf8"]}, ["--to", "zoë@example.test"], RAW, "SMTPUTF8"),
    ({"max_size": 100}, [], RAW, "SIZE 100"),
    ({}, [], LONG, "1200 octets"),
], ids=["8bit", "utf8", "size", "long-line"])
def test_declines_what_the_server_cannot_take(smtp_server_factory, tmp_path, options, flags, message, why):
    srv = smtp_server_factory(**options)
    rc, err, session = send(srv, tmp_path, "--insecure", *flags, message=message)
    assert rc == 1 and why in err, err
    assert "MAIL" not in verbs(session) and verbs(session)[-1] == "QUIT"
    srv.assert_no_findings("ADVICE")


def test_452_sends_the_rest_in_a_new_transaction(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(max_recipients=1)
    rcpts = ["one@example.test", "two@example.test", "three@example.test"]
    rc, err, session = send(srv, tmp_path, "--insecure", *[x for r in rcpts for x in ("--to", r)])
    assert rc == 0, err
    assert [m.rcpt_to for m in srv.wait_for_messages(3)] == [[r] for r in rcpts]
    assert verbs(session).count("MAIL") == 3
    srv.assert_no_findings("ADVICE")


def test_required_tls_not_offered_exits_3(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(no=["starttls"])
    rc, err, session = send(srv, tmp_path, "--tls", "required", "--insecure", "--auth", AUTH)
    assert rc == 3 and "STARTTLS" in err
    assert verbs(session) == ["EHLO", "QUIT"]  # neither AUTH nor mail in clear
    srv.assert_no_findings("ADVICE")


def test_opportunistic_tls_not_offered_goes_on_in_clear(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(no=["starttls"])
    rc, err, _ = send(srv, tmp_path)  # no --insecure needed: no certificate is ever seen
    assert rc == 0, err
    stored(srv, tls=False)
    srv.assert_no_findings("ADVICE")


def test_starttls_drops_injected_plaintext(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(STARTTLS_INJECTION)
    rc, err, session = send(srv, tmp_path, "--insecure")
    assert rc == 0, err
    stored(srv, tls=True)
    assert session.commands[3].endswith("SIZE=%d" % len(EXPECTED))  # the real EHLO reply, inside TLS


def test_usage_errors_exit_2(tmp_path):
    for argv in ([], ["--host", "127.0.0.1", "--port", "1", "--message", str(tmp_path / "missing")],
                 ["--host", "127.0.0.1", "--port", "1", "--message", CLIENT, "--break", "no-such-break"],
                 ["--host", "127.0.0.1", "--port", "1", "--message", CLIENT, "--auth", "no-colon"]):
        p = subprocess.run([PYTHON, CLIENT, *argv], capture_output=True, timeout=30,
                           env={k: v for k, v in os.environ.items() if not k.startswith("SMTP_")})
        assert p.returncode == 2, (argv, p.stderr)


def test_environment_fallbacks(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    path = tmp_path / "m.eml"
    path.write_bytes(RAW)
    env = dict(os.environ, SMTP_HOST="127.0.0.1", SMTP_PORT=str(srv.port), SMTP_MESSAGE=str(path))
    p = subprocess.run([PYTHON, CLIENT, "--insecure"], capture_output=True, timeout=30, env=env)
    assert p.returncode == 0, p.stderr
    stored(srv)


def test_server_that_closes_exits_1_without_a_traceback(smtp_server_factory, tmp_path):
    srv = smtp_server_factory("@rule MAIL FROM:{*}\n@close S\n@end\n")
    rc, err, _ = send(srv, tmp_path, "--insecure")
    assert rc == 1 and "closed the connection" in err and "Traceback" not in err


# --- each break, and the careful client under the same server --------------------------------

# (break, client flags, serve options, message, the rule the break draws, the careful exit status)
SEEN_BY_SERVE = [
    ("no-ehlo", [], {}, RAW, "client.sequence.no-ehlo", 0),
    ("no-helo-fallback", [], {"script": EHLO_REFUSED}, RAW, "client.sequence.no-ehlo", 0),
    ("no-lockstep", [], {"no": ["pipelining"]}, RAW, "client.sequence.lockstep", 0),
    ("pipeline-data", [], {}, RAW, "client.data.before-354", 0),
    ("ignore-mail-error", [], {"script": MAIL_REFUSED, "no": ["pipelining"]}, RAW,
     "client.sequence.rcpt-without-mail", 1),
    # DATA after every RCPT was refused is for the server to answer (554);
    # the message sent after that refusal is read as commands.
    ("data-after-all-refused", [], {"script": RCPT_REFUSED}, RAW, "client.command.unknown", 1),
    ("raw-line-ends", [], {}, RAW, "client.data.bare-lf", 0),
    ("long-lines", [], {}, LONG, "client.data.line-too-long", 1),
    ("undeclared-8bit", [], {}, EIGHT_BIT, "client.data.eight-bit", 0),
    ("undeclared-utf8", ["--to", "zoë@example.test"], {}, RAW, "client.smtputf8.not-requested", 0),
    ("bdat-size", ["--chunking"], {}, RAW, "client.command.unknown", 0),
    ("bdat-unadvertised", ["--chunking"], {"no": ["chunking"]}, RAW, "client.bdat.unadvertised", 0),
    ("auth-in-clear", ["--tls", "required", "--auth", AUTH], {"users": USERS}, RAW, "client.auth.plaintext", 0),
    ("auth-unadvertised", ["--auth", AUTH], {"users": USERS, "auth_mechanisms": ["LOGIN"]}, RAW,
     "client.auth.mechanism-unadvertised", 0),
    ("auth-twice", ["--auth", AUTH], {"users": USERS}, RAW, "client.auth.twice", 0),
    ("no-ehlo-after-tls", [], {}, RAW, "client.starttls.ehlo-first", 0),
    ("no-quit", [], {}, RAW, "client.session.no-quit", 0),
    ("after-quit", [], {"script": QUIT_KEEPS_OPEN}, RAW, "client.sequence.after-quit", 0),
    ("unqualified-helo", [], {}, RAW, "client.domain.unqualified", 0),
]


@pytest.mark.smtp_allow_findings()  # the breaks break rules on purpose
@pytest.mark.parametrize("name,flags,options,message,rule,careful_rc", SEEN_BY_SERVE,
                         ids=[case[0] for case in SEEN_BY_SERVE])
def test_break_draws_its_rule(smtp_server_factory, tmp_path, name, flags, options, message, rule, careful_rc):
    options = dict(options)
    srv = smtp_server_factory(options.pop("script", None), **options)
    # The careful client under this server: the rule is not drawn, nor any other.
    rc, err, _ = send(srv, tmp_path, "--insecure", *flags, message=message)
    assert rc == careful_rc, err
    srv.assert_no_findings("ADVICE")
    srv.reset()
    # The same run with the break.
    send(srv, tmp_path, "--insecure", *flags, "--break", name, message=message)
    assert rule in rules(srv), [str(f) for f in srv.findings]


@pytest.mark.smtp_allow_findings()
def test_no_dot_stuff_loses_the_dots(smtp_server_factory, tmp_path):
    # No rule sees a missing stuffing dot (the server cannot tell), but the
    # stored message shows it: a leading dot is taken as stuffing and removed.
    srv = smtp_server_factory()
    message = b"Subject: dots\n\n.one\n..two\n"
    send(srv, tmp_path, "--insecure", "--break", "no-dot-stuff", message=message)
    assert srv.wait_for_messages(1)[0].raw == b"Subject: dots\r\n\r\none\r\n.two\r\n"


@pytest.mark.smtp_allow_findings()
def test_bdat_size_declares_ten_octets_fewer(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, err, session = send(srv, tmp_path, "--insecure", "--chunking", "--break", "bdat-size")
    assert "BDAT %d LAST" % (len(EXPECTED) - 10) in session.commands
    stored(srv, EXPECTED[:-10])  # the last ten octets went to the command reader


@pytest.mark.smtp_allow_findings()
def test_lowercase_is_not_a_violation(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(users=USERS)
    rc, err, session = send(srv, tmp_path, "--insecure", "--auth", AUTH, "--chunking", "--break", "lowercase")
    assert rc == 0, err
    stored(srv, tls=True, auth="alice")
    assert session.commands[0] == "ehlo client.smtpkit.test"
    srv.assert_no_findings("ADVICE")


# --- breaks smtpkit serve cannot see: `smtpkit record` and `smtpkit check` ------------------

@pytest.mark.smtp_allow_findings()
@pytest.mark.parametrize("name,script,rule", [
    ("early-talker", SLOW_GREETING, "client.greeting.early-talker"),
    ("no-wait-221", SLOW_QUIT, "client.session.quit-wait"),
])
def test_break_seen_through_a_recording(smtp_server_factory, record, tmp_path, name, script, rule):
    srv = smtp_server_factory(script)
    found = {}
    for broken in (False, True):
        rec = record(srv, out=tmp_path / ("rec-%s" % broken))
        p = run_client(tmp_path, rec.port, "--insecure", *(["--break", name] if broken else []))
        assert p.returncode == 0, p.stderr
        _, closed = rec.transcript()
        found[broken] = {f.rule for f in tools.check(closed["transcript"], judge="client").findings}
    assert found == {False: set(), True: {rule}}


# --- breaks that need a hostile server: what the client does ---------------------------------

@pytest.mark.smtp_allow_findings()
def test_ignore_greeting_554(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(GREETING_554)
    rc, err, session = send(srv, tmp_path, "--insecure")
    assert rc == 1 and "554" in err
    assert verbs(session) == ["QUIT"]
    srv.reset()
    _, _, session = send(srv, tmp_path, "--insecure", "--break", "ignore-greeting-554")
    assert verbs(session)[:2] == ["EHLO", "STARTTLS"] and "MAIL" in verbs(session)


@pytest.mark.smtp_allow_findings()
def test_ignore_421(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(RCPT_421, no=["pipelining"])
    rc, err, session = send(srv, tmp_path, "--insecure")
    assert rc == 1 and "421" in err
    assert verbs(session)[-1] == "RCPT"  # nothing after the 421, not even QUIT
    srv.reset()
    _, _, session = send(srv, tmp_path, "--insecure", "--break", "ignore-421")
    assert verbs(session)[-2:] == ["RCPT", "QUIT"]


@pytest.mark.smtp_allow_findings()
def test_no_452_retry(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(max_recipients=1)
    rc, err, session = send(srv, tmp_path, "--insecure", "--to", "one@example.test", "--to", "two@example.test",
                            "--break", "no-452-retry")
    assert rc == 0, err  # delivered to one recipient
    assert [m.rcpt_to for m in srv.messages] == [["one@example.test"]]
    assert verbs(session).count("MAIL") == 1


@pytest.mark.smtp_allow_findings()
def test_ignore_size(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(max_size=100)
    rc, err, session = send(srv, tmp_path, "--insecure", "--break", "ignore-size")
    assert rc == 1  # the server refuses what is over its limit
    assert session.commands[3] == "MAIL FROM:<sender@example.test>" and "DATA" in verbs(session)


@pytest.mark.smtp_allow_findings()
def test_tls_downgrade(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(no=["starttls"], users=USERS)
    rc, err, session = send(srv, tmp_path, "--tls", "required", "--auth", AUTH, "--break", "tls-downgrade")
    assert rc == 0, err
    stored(srv, tls=False, auth="alice")
    assert rules(srv) == {"client.auth.plaintext"}


@pytest.mark.smtp_allow_findings()
def test_no_verify(smtp_server_factory, tmp_path, cert):
    crt, key = cert
    srv = smtp_server_factory(tls_cert=crt, tls_key=key)
    rc, err, _ = send(srv, tmp_path, "--tls", "required", "--tls-name", "other.smtpkit.test", "--cafile", crt,
                      "--break", "no-verify")
    assert rc == 0, err
    stored(srv, tls=True)


@pytest.mark.smtp_allow_findings()
def test_starttls_keep_buffer_believes_the_injected_reply(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(STARTTLS_INJECTION)
    rc, err, session = send(srv, tmp_path, "--insecure", "--break", "starttls-keep-buffer")
    # The injected reply was taken for the EHLO reply (no SIZE in it), and
    # the real one then for MAIL's: the client is out of step.
    assert session.commands[3] == "MAIL FROM:<sender@example.test>"
    assert rc == 1 and srv.messages == []


@pytest.mark.smtp_allow_findings()
def test_auth_retry(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(users=USERS)
    rc, _, session = send(srv, tmp_path, "--insecure", "--auth", "alice:wrong", "--break", "auth-retry")
    assert rc == 1 and verbs(session).count("AUTH") == 2


@pytest.mark.smtp_allow_findings()
def test_first_line_only_goes_out_of_step(smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    rc, _, session = send(srv, tmp_path, "--insecure", "--break", "first-line-only")
    assert rc == 1 and srv.messages == []
    assert "STARTTLS" not in verbs(session)  # it never saw the EHLO keywords


@pytest.mark.smtp_allow_findings()  # the impatient client hangs up mid-transaction
def test_impatient(smtp_server_factory, tmp_path):
    srv = smtp_server_factory(SLOW_MAIL)
    start = time.monotonic()
    rc, err, _ = send(srv, tmp_path, "--insecure", "--break", "impatient")
    assert rc == 1 and "no reply within 2 s" in err and time.monotonic() - start < 2.5 + 2
    srv.reset()
    rc, err, _ = send(srv, tmp_path, "--insecure")  # the careful client waits
    assert rc == 0, err


def test_every_break_is_accepted(tmp_path):
    # Each flag parses: against a port nothing listens on, the run ends in
    # exit 1 ("cannot connect"), not in the usage error 2.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        for name in BREAKS:
            p = run_client(tmp_path, unused.getsockname()[1], "--tls", "none", "--break", name)
            assert p.returncode == 1, (name, p.stderr)
            assert b"cannot connect" in p.stderr
