"""test_probe_client_cli.py — `smtpkit probe client` as a user meets it:
the placeholders and environment a client is started with, a client that
cannot start or never connects (an error, never a pass), the client's exit
status and output in the report, --keep, --listen for applications that
send by themselves, and usage errors (exit 2 with a message naming the
problem). The careful and broken clients are scripts/tests/peers/flawed_client.py.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("SMTPKIT_BIN", os.path.join(REPO, "build", "default", "cli", "smtpkit"))
FLAWED = os.path.join(HERE, "peers", "flawed_client.py")
PY = sys.executable

pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="smtpkit binary not built")


def probe(*args, timeout=120):
    return subprocess.run([BIN, "probe", "client", *args], capture_output=True, text=True, timeout=timeout)


def scenarios(out):
    return {s["id"]: s for s in json.loads(out)["scenarios"]}


def test_placeholders_and_environment_reach_the_client():
    # A "client" that prints what it was given and never connects: the
    # scenario is an error, and what it printed is in the report.
    show = ("import os,sys; print('ARGV', *sys.argv[1:]); "
            "print('ENV', *[k + '=' + os.environ[k] for k in sorted(os.environ) if k.startswith('SMTP_')])")
    r = probe("--only", "ending.quit", "--timeout", "3", "--format", "json", "--", PY, "-c", show,
              "{host}", "{port}", "{message}", "{ca}", "{from}", "{rcpt}", "{rcpt2}")
    assert r.returncode == 1, r.stderr
    s = scenarios(r.stdout)["ending.quit"]
    assert s["verdict"] == "error" and "did not connect" in s["reason"], s
    out = s["client"]["output"]
    argv = re.search(r"ARGV (\S+) (\d+) (\S+) (\S+) (\S+) (\S+) (\S+)", out)
    assert argv, out
    host, port, message, ca, sender, rcpt, rcpt2 = argv.groups()
    assert host == "127.0.0.1" and 0 < int(port) < 65536
    assert message.endswith("message.eml") and ca.endswith("ca.pem")
    assert (sender, rcpt, rcpt2) == ("sender@example.test", "rcpt@example.test", "rcpt2@example.test")
    for pair in ("SMTP_HOST=127.0.0.1", "SMTP_PORT=" + port, "SMTP_MESSAGE=" + message, "SMTP_CA=" + ca,
                 "SMTP_FROM=sender@example.test", "SMTP_RCPT=rcpt@example.test"):
        assert pair in out, (pair, out)
    assert s["client"]["status"] == "exit 0"


def test_a_client_that_cannot_start_is_an_error():
    r = probe("--only", "ending.quit", "--format", "json", "--", "/nonexistent/mailer", "{host}")
    assert r.returncode == 1
    s = scenarios(r.stdout)["ending.quit"]
    assert s["verdict"] == "error" and "cannot start /nonexistent/mailer" in s["reason"], s


def test_a_client_that_hangs_is_killed_and_an_error():
    # Connects, then says nothing: the server waits, the probe's deadline ends it.
    hang = "import socket,sys,time; s=socket.create_connection((sys.argv[1], int(sys.argv[2]))); time.sleep(60)"
    t0 = time.monotonic()
    r = probe("--only", "ending.quit", "--timeout", "2", "--format", "json", "--", PY, "-c", hang, "{host}", "{port}",
              timeout=30)
    assert time.monotonic() - t0 < 15
    s = scenarios(r.stdout)["ending.quit"]
    assert s["verdict"] == "error" and "did not exit within 2 s" in s["reason"], s
    assert s["client"]["status"] == "killed at the deadline"


def test_keep_holds_each_scenario_folder():
    with tempfile.TemporaryDirectory() as d:
        r = probe("--only", "data.dot-stuffing", "--keep", d, "--", PY, FLAWED, "--host", "{host}", "--port", "{port}",
                  "--message", "{message}", "--tls", "none")
        assert r.returncode == 0, r.stdout + r.stderr
        folder, = [f for f in os.listdir(d) if f.endswith("data.dot-stuffing")]
        kept = os.listdir(os.path.join(d, folder))
        assert {"message.eml", "client.out", "client.err", "maildir"} <= set(kept), kept
        with open(os.path.join(d, folder, "message.eml"), "rb") as f:
            assert b"\n..two dots\n" in f.read()  # the scenario's @message, escapes decoded


def test_listen_gives_each_session_the_next_scenario():
    p = subprocess.Popen([BIN, "probe", "client", "--listen", "127.0.0.1:0", "--only", "greeting.multiline",
                          "--only", "ending", "--sessions", "3", "--timeout", "10", "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        m = re.search(r"waiting for sessions on 127\.0\.0\.1:(\d+)", line)
        assert m, line
        port = int(m.group(1))
        with tempfile.NamedTemporaryFile("wb", suffix=".eml") as msg:
            msg.write(b"Subject: an application's mail\n\nHello.\n")
            msg.flush()
            sent = 0
            deadline = time.monotonic() + 30
            while sent < 3 and time.monotonic() < deadline:
                # Between two scenarios the port is closed for a moment: retry as senders do.
                c = subprocess.run([PY, FLAWED, "--host", "127.0.0.1", "--port", str(port), "--message", msg.name,
                                    "--tls", "none"], capture_output=True, text=True, timeout=20)
                if "Connection refused" in c.stderr:
                    time.sleep(0.05)
                    continue
                assert c.returncode == 0, c.stderr
                sent += 1
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    got = scenarios(out)
    played = [i for i, s in got.items() if s["verdict"] == "pass"]
    skipped = [i for i, s in got.items() if s["verdict"] == "not-applicable"]
    assert len(played) == 3 and len(skipped) == len(got) - 3, got
    assert all("--sessions 3 reached" in got[i]["reason"] for i in skipped)


def test_listen_without_sessions_is_an_error_for_the_rest():
    r = probe("--listen", "127.0.0.1:0", "--only", "ending", "--timeout", "1", "--format", "json", timeout=60)
    assert r.returncode == 1
    got = scenarios(r.stdout)
    assert all(s["verdict"] == "error" and "no session" in s["reason"] for s in got.values()), got


@pytest.mark.parametrize("args,message", [
    ([], "give the client after --"),
    (["--listen", "127.0.0.1:0", "--", "true"], "either a client command or --listen"),
    (["--only", "no-such-group", "--", "true"], "--only matches no scenario"),
    (["--client-auth", "nocolon", "--", "true"], "expected USER:PASSWORD"),
])
def test_usage_errors(args, message):
    r = probe(*args)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_a_suite_with_a_bad_serve_option_does_not_load():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.smtp")
        with open(path, "w") as f:
            f.write("@scenario site.bad\n@title bad\n@group Site\n@level must\n@serve no-such-thing\n")
        r = probe("--no-builtin", "--suite", path, "--", "true")
        assert r.returncode == 2
        assert path + ": @serve no-such-thing" in r.stderr, r.stderr
        with open(path, "w") as f:
            f.write("@scenario site.bad\n@title bad\n@group Site\n@checks server.greeting.code\n")
        r = probe("--no-builtin", "--suite", path, "--", "true")
        assert r.returncode == 2 and "a server rule; client scenarios judge the client" in r.stderr, r.stderr


def test_list_counts_the_builtin_suite():
    r = probe("--list")
    assert r.returncode == 0
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert len(rows) >= 50 and all(len(row) == 4 for row in rows)
    assert {row[0] for row in rows} >= {"Greeting", "Replies", "Errors", "Pipelining", "Data", "Security", "AUTH",
                                        "Ending"}


def test_a_refusal_before_connecting_passes_where_refusing_is_allowed():
    # data.long-line allows a client to refuse the message (@expect may-refuse);
    # ending.quit does not: there the same client is an error.
    refuse = "import sys; print('line too long, not sent', file=sys.stderr); sys.exit(1)"
    r = probe("--only", "data.long-line", "--only", "ending.quit", "--format", "json", "--", PY, "-c", refuse)
    got = scenarios(r.stdout)
    assert got["data.long-line"]["verdict"] == "pass", got["data.long-line"]
    assert "refused the message before connecting (exit 1)" in got["data.long-line"]["reason"]
    assert got["ending.quit"]["verdict"] == "error" and "did not connect" in got["ending.quit"]["reason"]


def test_expect_quiet_after_421_in_a_users_scenario():
    # Not used by the built-in suite (RFC 5321 §3.8 binds no client there),
    # but a site may ask it of its own clients.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "quiet.smtp")
        with open(path, "w") as f:
            f.write("@scenario site.quiet-after-421\n@title nothing but QUIT after a 421\n@group Site\n"
                    "@level should\n@rfc site policy\n@serve no-pipelining\n@expect quiet-after-421\n"
                    "@rule RCPT TO:{*}\nS: 421 4.3.2 closing\n@end\n")
        client = ["--", PY, FLAWED, "--host", "{host}", "--port", "{port}", "--message", "{message}",
                  "--to", "{rcpt}", "--to", "{rcpt2}", "--tls", "none"]
        careful = scenarios(probe("--no-builtin", "--suite", path, "--format", "json", *client).stdout)
        assert careful["site.quiet-after-421"]["verdict"] == "pass", careful
        broken = scenarios(probe("--no-builtin", "--suite", path, "--format", "json", *client,
                                 "--break", "ignore-421").stdout)["site.quiet-after-421"]
        assert broken["verdict"] == "fail" and "after the 421 reply" in broken["reason"], broken
