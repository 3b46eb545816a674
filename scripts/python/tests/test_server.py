# test_server.py — MockServer, the driver of `smtpkit serve`: what it
# collects (messages, envelopes, sessions, transcripts, findings), how it
# maps options to flags, startup on a loaded machine, servers that die or
# never become ready (the error says why, nothing hangs), several servers
# side by side, reset() and stop().
#
# Limits: CPU load is made with busy-looping child processes for a few
# seconds only.
import json
import os
import pathlib
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import smtpkit
from smtpkit import server as _server

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # scripts/python

MESSAGE = (b"From: App <app@example.test>\r\nTo: user@example.test\r\nSubject: driver test\r\n"
           b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <driver@client.example.test>\r\n\r\n"
           b"Hello.\r\n.Leading dot.\r\n")

def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def send(srv, sender="app@example.test", rcpts=("user@example.test",), message=MESSAGE, port=None, **kw):
    with smtplib.SMTP(srv.host, port or srv.port, local_hostname="client.example.test", timeout=10) as c:
        return c.sendmail(sender, list(rcpts), message, **kw)


def test_message_envelope_and_session():
    with smtpkit.MockServer() as srv:
        assert srv.host == "127.0.0.1" and srv.port > 0 and srv.tls_port is None
        send(srv, rcpts=["a@example.test", "b@example.test"], mail_options=["BODY=8BITMIME"],
             rcpt_options=["NOTIFY=NEVER"])
        m, = srv.wait_for_messages(1)
        assert m.raw == MESSAGE  # dot-unstuffed, byte for byte
        assert m.size == len(MESSAGE)
        assert m.email["Subject"] == "driver test"
        assert m.email.get_content().splitlines() == ["Hello.", ".Leading dot."]
        assert m.mail_from == "app@example.test"
        assert m.rcpt_to == ["a@example.test", "b@example.test"]
        assert {k.upper(): v for k, v in m.mail_params.items()} == {"SIZE": str(len(MESSAGE)), "BODY": "8BITMIME"}
        assert m.rcpt_params["a@example.test"] == {"NOTIFY": "NEVER"}
        assert (m.helo, m.esmtp, m.transport, m.tls, m.auth) == ("client.example.test", True, "DATA", False, None)
        assert os.path.dirname(m.path) == os.path.join(srv.maildir, "new")
        stored = m.stored_envelope()
        assert stored["mail_from"] == m.mail_from and stored["sha256"] == m.sha256
        s, = srv.wait_for_sessions_closed()
        assert s.messages == [m] and m.session == s.id
        assert s.peer.startswith("127.0.0.1:")
        assert s.commands[0] == "ehlo client.example.test"  # smtplib writes its verbs in lower case
        assert [r.code for r in s.replies][:1] == [220]
        assert s.transcript.splitlines()[1] == "S: 220 localhost ESMTP smtpkit"
        assert "C: .Leading dot." not in s.transcript and "C: ..Leading dot." in s.transcript
        assert srv.findings == [] and s.findings_count == 0
    # After close(): the work folder is gone, what was read stays.
    assert not os.path.exists(srv.workdir)
    assert m.raw == MESSAGE and s.transcript.startswith("# smtpkit serve")


def test_starttls_auth_and_implicit_tls():
    with smtpkit.MockServer(tls=True, users={"alice": "wonderland"}, hostname="mx.example.test") as srv:
        assert srv.tls_port and srv.tls_port != srv.port
        assert srv.info["hostname"] == "mx.example.test" and ":" in srv.info["tls_fingerprint"]
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.starttls(context=tls_context())
            with pytest.raises(smtplib.SMTPAuthenticationError):
                c.login("alice", "wrong")
            c.login("alice", "wonderland")
            c.sendmail("app@example.test", ["user@example.test"], MESSAGE)
        with smtplib.SMTP_SSL(srv.host, srv.tls_port, local_hostname="client.example.test", timeout=10,
                              context=tls_context()) as c:
            c.sendmail("app@example.test", ["user@example.test"], MESSAGE)
        m1, m2 = srv.wait_for_messages(2)
        assert m1.tls and m1.auth == "alice" and m1.tls_version.startswith("TLS")
        assert m2.tls and m2.auth is None
        s1, s2 = srv.wait_for_sessions_closed(2)
        assert s1.tls["state"] == "started" and s1.auth_user == "alice" and not s1.implicit_tls
        assert s2.implicit_tls
        assert srv.findings == []


def test_options_become_flags():
    srv = smtpkit.MockServer(max_size=1000, durable=True, lenient_bare_lf=False, no=["pipelining", "dsn"],
                             users=[("a", "1"), "b:2"], auth_mechanisms=["PLAIN", "LOGIN"], tls=True,
                             args=["--max-errors", "3"])
    try:
        argv = srv.argv("EVENTS")
    finally:
        srv.close()
    text = " ".join(argv[1:])
    assert text.startswith("serve --listen 127.0.0.1:0 --events EVENTS --maildir ")
    for part in ["--max-size 1000", "--durable", "--no pipelining --no dsn", "--user a:1 --user b:2",
                 "--auth-mechanisms PLAIN,LOGIN", "--tls-listen 127.0.0.1:0", "--shutdown-grace 2",
                 "--max-errors 3"]:
        assert part in text, part
    assert "--lenient-bare-lf" not in text


def test_reset_forgets_what_was_seen():
    with smtpkit.MockServer() as srv:
        send(srv)
        srv.wait_for_messages(1)
        srv.wait_for_sessions_closed()
        srv.reset()
        assert (srv.messages, srv.sessions, srv.findings, srv.events) == ([], [], [], [])
        send(srv, sender="second@example.test")
        m, = srv.wait_for_messages(1)
        assert m.mail_from == "second@example.test"


def test_a_wait_that_runs_out_says_what_it_saw():
    with smtpkit.MockServer() as srv:
        t0 = time.monotonic()
        with pytest.raises(smtpkit.WaitTimeout, match=r"1 message\(s\).*server running.*0 message"):
            srv.wait_for_messages(1, timeout=0.3)
        assert time.monotonic() - t0 < 2


def _burn(seconds):
    code = "import time\nend = time.time() + %f\nwhile time.time() < end: pass\n" % seconds
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2 * (os.cpu_count() or 1))]


def test_startup_on_a_loaded_machine():
    burners = _burn(8.0)
    servers, errors = [], []

    def start():
        try:
            servers.append(smtpkit.MockServer(start_timeout=20).start())
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    try:
        threads = [threading.Thread(target=start) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        assert len({s.port for s in servers}) == 6
        for s in servers:
            send(s)
        for s in servers:
            assert len(s.wait_for_messages(1, timeout=15)) == 1
    finally:
        for s in servers:
            s.close()
        for b in burners:
            b.kill()
            b.wait()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_server_that_dies_raises_with_the_reason(sig):
    # A sanitizer build would catch the SIGSEGV and exit 1 instead of dying by it.
    env = dict(os.environ, ASAN_OPTIONS="handle_segv=0:detect_leaks=0")
    srv = smtpkit.MockServer(env=env).start()
    try:
        os.kill(srv.proc.pid, sig)
        t0 = time.monotonic()
        with pytest.raises(smtpkit.ServerDied, match="killed by %s" % sig.name):
            srv.wait_for_messages(1, timeout=30)
        assert time.monotonic() - t0 < 5
        assert srv.returncode == -sig
    finally:
        assert srv.close() == -sig


def test_a_server_that_cannot_start_says_why():
    with pytest.raises(smtpkit.ServerStartError, match=r"(?s)exit status 2.*cannot read /nonexistent/cert.pem") as e:
        smtpkit.MockServer(tls_cert="/nonexistent/cert.pem", tls_key="/nonexistent/key.pem").start()
    assert e.value.returncode == 2
    with pytest.raises(smtpkit.ServerStartError, match="max-size"):
        smtpkit.MockServer(max_size="lots").start()


def test_a_binary_that_never_gets_ready_is_killed(tmp_path):
    fake = tmp_path / "smtpkit"
    fake.write_text("#!/bin/sh\necho 'starting slowly' >&2\nexec sleep 60\n")
    fake.chmod(0o755)
    t0 = time.monotonic()
    with pytest.raises(smtpkit.ServerStartError, match="(?s)not ready within 1 s.*starting slowly"):
        smtpkit.MockServer(binary=str(fake), start_timeout=1).start()
    assert time.monotonic() - t0 < 5
    fake.write_text("#!/bin/sh\necho 'boom: no config' >&2\nexit 3\n")
    with pytest.raises(smtpkit.ServerStartError, match="(?s)exit status 3.*boom: no config"):
        smtpkit.MockServer(binary=str(fake)).start()


def test_several_servers_in_one_test_are_isolated():
    with smtpkit.MockServer() as a, smtpkit.MockServer() as b, smtpkit.MockServer(hostname="c.example.test") as c:
        assert len({a.port, b.port, c.port}) == 3
        assert len({a.maildir, b.maildir, c.maildir}) == 3
        for n, srv in enumerate((a, b, c)):
            send(srv, sender="s%d@example.test" % n)
        for n, srv in enumerate((a, b, c)):
            m, = srv.wait_for_messages(1)
            assert m.mail_from == "s%d@example.test" % n
            assert os.listdir(os.path.join(srv.maildir, "new")) == [os.path.basename(m.path)]
            assert len(srv.wait_for_sessions_closed()) == 1
        assert c.sessions[0].replies[0].text == "c.example.test ESMTP smtpkit"


def test_stop_returns_the_exit_status():
    with smtpkit.MockServer(fail_on="must") as srv:
        with socket.create_connection(srv.address, timeout=5) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"MAIL FROM:<a@example.test>\r\n")
            assert f.readline().startswith(b"503 ")
            s.sendall(b"QUIT\r\n")
            assert f.readline().startswith(b"221 ")
        srv.wait_for_sessions_closed()
        assert [x.rule for x in srv.findings] == ["client.sequence.no-ehlo"]
        assert srv.stop() == 1
        assert srv.stop() == 1  # idempotent
        assert srv.stopped_info["findings"]["MUST"] == 1
    with smtpkit.MockServer(fail_on="must") as srv:
        send(srv)
        srv.wait_for_messages(1)
        assert srv.stop() == 0


def test_waiting_on_a_stopped_server_is_an_error_not_a_hang():
    with smtpkit.MockServer() as srv:
        srv.stop()
        with pytest.raises(smtpkit.ServerError, match="stopped"):
            srv.wait_for_messages(1, timeout=30)


def test_no_server_left_running():
    srv = smtpkit.MockServer().start()
    pid = srv.proc.pid
    assert _server.running[pid] is srv
    srv.close()
    assert pid not in _server.running
    assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z"


def test_a_server_nobody_stopped_is_killed_when_python_exits(tmp_path):
    # Started from another thread, so PR_SET_PDEATHSIG does not stop it:
    # only the exit of the Python process can.
    code = ("import threading, smtpkit\n"
            "def start():\n"
            "    print(smtpkit.MockServer().start().proc.pid, flush=True)\n"
            "t = threading.Thread(target=start)\n"
            "t.start()\n"
            "t.join()\n")
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip().isdigit(), p.stdout + p.stderr
    assert _server.leftover_processes([str(tmp_path)]) == []


def test_inline_script_is_served():
    script = ("S: 220 scripted.example.test ESMTP\n"
              "C~ {re:(?i)EHLO .*}\n"
              "S: 250 scripted.example.test\n"
              "C~ {re:(?i)QUIT}\n"
              "S: 221 bye\n"
              "@close S\n")
    with smtpkit.MockServer(script=script) as srv:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            assert c.ehlo()[0] == 250
        s, = srv.wait_for_sessions_closed()
        assert "S: 220 scripted.example.test ESMTP" in s.transcript


def test_a_bad_script_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.smtp"
    bad.write_text("S: 220 ok\nC~ EHLO {*}\nX: not a record\n")
    with pytest.raises(smtpkit.ServerStartError, match=r"bad\.smtp:3"):
        smtpkit.MockServer(script=str(bad)).start()
    with pytest.raises(smtpkit.ServerStartError, match=r"inline-script-1\.smtp:2"):
        smtpkit.MockServer(script="S: 220 ok\nC: bad escape \\q\n").start()


def test_a_script_is_a_path_without_a_newline_and_a_missing_one_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(smtpkit.ScriptNotFound, match=r"^script file not found: scripts/refuse\.smtp \(from .+\) — a "
                       r"script given as text holds a newline \(or pass it as text=\.\.\.\)$"):
        smtpkit.MockServer(script="scripts/refuse.smtp")
    with pytest.raises(FileNotFoundError):  # ScriptNotFound is one
        smtpkit.MockServer(script_path="S: 220 looks like text, is named a path")
    assert set(os.listdir(tempfile.gettempdir())) <= before, "no work folder left behind"
    (tmp_path / "greet.smtp").write_text("S: 220 from a file\n")
    with smtpkit.MockServer(script=[pathlib.Path("greet.smtp")]) as a, \
            smtpkit.MockServer(script="greet.smtp") as b, \
            smtpkit.MockServer(script_text="S: 220 one line, no newline") as c:
        for srv, greeting in ((a, b"220 from a file\r\n"), (b, b"220 from a file\r\n"),
                              (c, b"220 one line, no newline\r\n")):
            with socket.create_connection(srv.address, timeout=10) as sock:
                assert sock.makefile("rb").readline() == greeting
        assert list(c.script_texts.values()) == ["S: 220 one line, no newline\n"]
    assert list(c.script_texts.values()) == ["S: 220 one line, no newline\n"], "kept after close()"


def test_messages_and_findings_print_usefully():
    script = "@session 1\nS: 220 x\nC: EHLO client.example.test\nS: 250 x\nC: NOOP\nS: 250 ok\n"
    with smtpkit.MockServer(script=script) as srv:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.ehlo()
            c.docmd("RSET")  # not in the script: a mismatch, which has no RFC section
            c.noop()  # what the script waits for: then the reference server takes QUIT
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.ehlo()
            c.sendmail("app@example.test", ["user@example.test"], MESSAGE)
        m, = srv.wait_for_messages(1)
        srv.wait_for_sessions_closed(2)
    assert repr(m) == "Message(%s from 'app@example.test' to ['user@example.test'], subject 'driver test', %d octets)" % (
        m.id, len(MESSAGE))
    assert str(m) == MESSAGE.decode(), "str() is the message text, as email.message.Message gives it"
    f = [f for f in srv.findings if f.rule == "script.mismatch"][0]
    assert (f.script_line, f.expected, f.received) == (5, "C: NOOP", "RSET\\r\\n")
    text = str(f)
    assert "()" not in text and text.startswith("s000001: client MUST script.mismatch: ") and text.endswith(" at 'RSET'")


def test_a_binary_without_script_support_fails_with_its_own_message(tmp_path):
    # Nothing is guessed from --help beforehand: the binary runs, and what it
    # says is the error, with its exit status.
    fake = tmp_path / "smtpkit"
    fake.write_text("#!/bin/sh\necho 'The following argument was not expected: --script' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(smtpkit.ServerStartError, match="(?s)exit status 2.*not expected: --script") as e:
        smtpkit.MockServer(script="S: 220 ok\n", binary=str(fake)).start()
    assert e.value.returncode == 2


def test_events_are_kept_in_order():
    with smtpkit.MockServer() as srv:
        send(srv)
        srv.wait_for_sessions_closed()
        kinds = [e["event"] for e in srv.events]
        assert kinds[:2] == ["listening", "ready"]
        assert kinds.index("message") < len(kinds) - 1 and kinds[-1] == "session"
        assert all("ts" in e for e in srv.events)
        json.dumps(srv.events)  # plain data


def test_discard_keeps_no_file_but_counts_and_hashes():
    import hashlib

    with smtpkit.MockServer(discard=True) as srv:
        assert srv.info["storage"] == "discard"
        send(srv)
        m, = srv.wait_for_messages(1)
        assert (m.path, m.raw, m.email) == (None, None, None)
        assert m.size == len(MESSAGE) and m.sha256 == hashlib.sha256(MESSAGE).hexdigest()
        assert m.mail_from == "app@example.test"
