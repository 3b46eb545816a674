# test_docs_commands.py — the shell commands of README.md and docs/*.md,
# run as a reader would paste them, so the documents cannot drift from the
# binary.
#
# Every ```sh block carries a decision on the line above it:
#   <!-- runnable -->                 each command of the block is run here
#   <!-- runnable: install -->        run by test_docs_install.py (it finds
#                                     the block by its text)
#   <!-- not runnable: REASON -->     said why, in the document's source
# A block without one fails, so a new block gets a decision.
#
# A runnable block runs in a fresh folder: the tree's corpus/ and examples/
# linked in, the files its commands name (session.smtp, recordings/,
# lines.txt, send.py, ...) made there, /tmp/ paths pointed into it, and
# `smtpkit` on PATH. A command
# passes with exit 0 or 1 (1: violations found, README "Exit status"); 2
# and above (usage or setup error), a signal or a timeout fail it. Lines
# that begin with "$ " are commands and the lines under them their exact
# output. Only the addresses change: every 127.0.0.1:PORT becomes a mock
# server of this test (one `smtpkit serve`, started for the block), and a
# `smtpkit serve` or `smtpkit record` line, which runs until stopped,
# listens on port 0 (its routes and upstream go to that mock server) and
# must still run after a second and stop on SIGTERM with exit 0.
#
# Lines this machine cannot run (a remote MX, a ten-minute fuzz run, an
# application that sends mail by itself) are listed in NOT_HERE with the
# reason; an entry that no longer matches a line fails the test.
import os
import re
import shlex
import signal
import subprocess
import time

import pytest

from smtpkit import binary
from smtpkit.server import MockServer

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = ["README.md"] + sorted("docs/" + n for n in os.listdir(os.path.join(REPO, "docs")) if n.endswith(".md"))

# (document, what the line starts with): why it does not run here.
NOT_HERE = {
    ("README.md", "smtpkit probe server mx.example.test:25"): "a remote MX, and it delivers test mail",
    ("README.md", "smtpkit probe server --exec 'exim -bs'"): "the system's Exim as root; test_probe_servers.py runs the suite against a configured exim -bs",
    ("README.md", "smtpkit probe client --listen"): "waits for an application that sends mail by itself",
    ("README.md", "smtpkit probe relay"): "needs a relay to submit to; scripts/tests/relay runs it against Exim and Postfix",
    ("README.md", "smtpkit fuzz server"): "a ten-minute run against the system's Exim; scripts/tests/fuzz runs it against planted servers",
    ("README.md", "smtpkit fuzz client"): "a five-minute run; scripts/tests/fuzz runs it against planted clients and curl",
    ("docs/probe.md", "smtpkit probe server mx.example.test:25"): "a remote MX, and it delivers test mail",
    ("docs/probe.md", "smtpkit probe server mail.example.test:465"): "a remote server",
    ("docs/probe.md", "smtpkit probe server --exec 'exim -bs'"): "the system's Exim as root; test_probe_servers.py runs the suite against a configured exim -bs",
    ("docs/probe.md", "smtpkit probe client --listen"): "waits for an application that sends mail by itself",
    ("docs/probe.md", "smtpkit replay session.smtp --target mx.example.test:25"): "a remote MX",
    ("docs/probe.md", "smtpkit replay session.smtp --exec 'exim -bs'"): "the system's Exim as root; test_replay.py replays to exim -bs",
}

# Verbs that run until stopped.
LONG_RUNNING = ("smtpkit serve", "smtpkit record")

MARKER = re.compile(r"^<!-- (runnable|runnable: install|not runnable: .+) -->$")
TARGET = re.compile(r"127\.0\.0\.1:\d+")


def sh_blocks(doc):
    """(line, marker or None, text) of every ```sh block of a document."""
    out, prev, inside, buf, start, marker = [], "", False, [], 0, None
    with open(os.path.join(REPO, doc), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not inside and line.startswith("```sh"):
                inside, buf, start = True, [], n
                m = MARKER.match(prev)
                marker = m.group(1) if m else None
            elif inside and line.startswith("```"):
                out.append((start, marker, "\n".join(buf) + "\n"))
                inside = False
            elif inside:
                buf.append(line)
            prev = line
    return out


def commands(text):
    """(command, expected output or None) of a block: continuation lines
    joined, comments and blank lines dropped; "$ " lines with their output."""
    lines = text.replace("\\\n", " ").splitlines()
    if any(ln.startswith("$ ") for ln in lines):
        out, cur = [], None
        for ln in lines:
            if ln.startswith("$ "):
                cur = [ln[2:], []]
                out.append(cur)
            elif cur is not None:
                cur[1].append(ln)
        return [(c, "\n".join(o).strip() + "\n") for c, o in out]
    return [(ln.strip(), None) for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def blocks_marked(marker):
    return [(doc, line, text) for doc in DOCS for line, m, text in sh_blocks(doc) if m == marker]


def test_every_shell_block_says_whether_it_runs():
    undecided = ["%s:%d" % (doc, line) for doc in DOCS for line, m, _ in sh_blocks(doc) if m is None]
    assert not undecided, "```sh blocks without <!-- runnable --> or <!-- not runnable: why --> above: %s" % undecided


def test_the_install_blocks_are_those_test_docs_install_runs():
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_docs_install.py"), encoding="utf-8").read()
    held = re.findall(r'block\("[^"]+", "sh", "([^"]+)"\)', src)
    for doc, line, text in blocks_marked("runnable: install"):
        assert any(h in text for h in held), "%s:%d is marked install, but test_docs_install.py does not take it" % (
            doc, line)


def test_every_line_left_out_is_still_in_its_document():
    for (doc, start), why in NOT_HERE.items():
        found = [c for _, m, text in sh_blocks(doc) if m == "runnable" for c, _ in commands(text) if c.startswith(start)]
        assert found, "NOT_HERE names %r in %s (%s), which no runnable block holds any more" % (start, doc, why)


def readme_test():
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    m = re.search(r"```python\n(# test_mail.py\n.*?)```", text, re.S)
    assert m, "README.md: the test_mail.py block is gone"
    return m.group(1)


def local(cmd, tmp_path):
    """The command with the documents' /tmp/ paths in the fresh folder."""
    return cmd.replace(" /tmp/", " %s/tmp-" % tmp_path)


SEND_PY = '''import smtplib, sys
host, port, message = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
with smtplib.SMTP(host, port, timeout=30) as s:
    s.sendmail("app@example.test", ["ann@example.test"], message)
'''


def make_folder(tmp_path):
    """A reader's fresh folder: the tree's data linked in, the files the
    documents' commands name."""
    for name in ("corpus", "examples", "scripts"):
        os.symlink(os.path.join(REPO, name), tmp_path / name)
    (tmp_path / "tests").mkdir()  # the README's first test, for "pytest tests/"
    (tmp_path / "tests" / "test_mail.py").write_text(readme_test())
    dialogue = os.path.join(REPO, "corpus", "dialogues", "real-smtplib-exim.smtp")
    text = open(dialogue, encoding="utf-8").read()
    (tmp_path / "session.smtp").write_text(text)
    (tmp_path / "recording.smtp").write_text(text)
    (tmp_path / "rec").mkdir()  # what `smtpkit record --out rec/` wrote
    (tmp_path / "rec" / "20261201T101500Z-s000001.smtp").write_text(text)
    (tmp_path / "recordings").mkdir()
    for n in ("real-curl-exim.smtp", "real-msmtp-postfix.smtp", "real-s-nail-aiosmtpd.smtp"):
        (tmp_path / "recordings" / n).write_text(open(os.path.join(REPO, "corpus", "dialogues", n), encoding="utf-8").read())
    (tmp_path / "lines.txt").write_text("EHLO client.example.test\nMAIL FROM:<a@example.test> SIZE=10\nRCPT TO: <b@example.test>\n")
    (tmp_path / "send.py").write_text(SEND_PY)
    (tmp_path / "routes.txt").write_text("# domain, preference, next hop\nb.test 10 127.0.0.1:2526\nhere.test local\n")
    (tmp_path / "fuzz" / "crashes").mkdir(parents=True)  # a reproducer as `smtpkit fuzz client` writes one
    (tmp_path / "fuzz" / "crashes" / "crash-1f05b396e1a1.smtp").write_text(
        open(os.path.join(REPO, "examples", "scripts", "greylisting.smtp"), encoding="utf-8").read())
    (tmp_path / "message.eml").write_bytes(b"Subject: hello\r\n\r\nHello.\r\n")


def environment(tmp_path):
    bindir = tmp_path / ".bin"
    bindir.mkdir()
    os.symlink(binary.find_binary(), bindir / "smtpkit")
    env = dict(os.environ, PATH="%s:/usr/bin:%s" % (bindir, os.environ.get("PATH", "")))
    env.pop("SMTPKIT_BIN", None)
    return env


def run_server_line(cmd, cwd, env, server):
    """A `smtpkit serve` or `smtpkit record` line: listening on port 0 (its
    routes and upstream the block's mock server), alive after a second,
    stopped by SIGTERM with exit 0."""
    cmd = re.sub(r"(--(?:listen|tls-listen|http|pop3) )127\.0\.0\.1:\d+", r"\g<1>LISTEN", cmd.split(" #")[0])
    if server:
        cmd = TARGET.sub("%s:%d" % (server.host, server.port), cmd)
    cmd = local(cmd.replace("LISTEN", "127.0.0.1:0"), cwd)
    if "--listen" not in cmd:
        cmd += " --listen 127.0.0.1:0"
    p = subprocess.Popen(["/bin/bash", "-c", "exec " + cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert p.poll() is None, "%s\nstopped by itself with exit %s:\n%s" % (cmd, p.returncode, p.stderr.read())
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0, "%s\nexit %s after SIGTERM:\n%s" % (cmd, p.returncode, err[-2000:])


def runnable_ids():
    return ["%s:%d" % (doc, line) for doc, line, _ in blocks_marked("runnable")]


@pytest.mark.parametrize("where", runnable_ids())
def test_the_commands_of_the_block_run(where, tmp_path):
    doc, line = where.rsplit(":", 1)
    text = next(t for d, n, t in blocks_marked("runnable") if d == doc and n == int(line))
    make_folder(tmp_path)
    env = environment(tmp_path)
    todo = [(c, out) for c, out in commands(text)
            if not any(d == doc and c.startswith(start) for (d, start) in NOT_HERE)]
    assert todo, "%s: nothing left to run" % where
    server = None
    try:
        if any(TARGET.search(re.sub(r"--(listen|tls-listen|http|pop3) \S+", "", c)) for c, _ in todo):
            server = MockServer(discard=True).start()
        if "report matrix exim.json" in text and "-o exim.json" not in text:
            for name in ("exim.json", "postfix.json"):  # the runs a matrix is made of
                subprocess.run(["smtpkit", "probe", "server", "%s:%d" % (server.host, server.port), "--only", "basics",
                                "--format", "json", "-o", name], cwd=tmp_path, env=env, timeout=120)
        for cmd, expected in todo:
            if cmd.startswith(LONG_RUNNING):
                run_server_line(cmd, tmp_path, env, server)
                continue
            live = local(TARGET.sub("%s:%d" % (server.host, server.port), cmd) if server else cmd, tmp_path)
            p = subprocess.run(["/bin/bash", "-c", live], cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=600)
            assert p.returncode in (0, 1), "%s: %s\nexit %d\n%s\n%s" % (where, live, p.returncode, p.stdout[-2000:],
                                                                        p.stderr[-2000:])
            if expected is not None:
                assert p.stdout == expected, "%s: %s\nprinted:\n%s\nthe document shows:\n%s" % (where, live, p.stdout,
                                                                                               expected)
    finally:
        if server:
            server.stop()
