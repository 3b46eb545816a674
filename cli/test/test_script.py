"""`smtpkit script generalize`: a recording made a reusable script (docs/cli.md,
docs/dialogue-format.md "Generalising a recording"; RFC 5321 §4.1.1.1, RFC
1870, RFC 5322 §3.3 and §3.6): C~ patterns after their recorded lines, on
standard output or into a new file, never replacing one; exit 0 or 2.
Standard library only.
"""
import os
import subprocess

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("SMTPKIT_BIN", os.path.join(ROOT, "build/default/cli/smtpkit"))

RECORDING = """# smtpkit record: session s000001, client 127.0.0.1:1, server 127.0.0.1:2
S: 220 mx.example.test ESMTP
C: ehlo host-7.example
S: 250-mx.example.test
S: 250 SIZE 1000
C: mail FROM:<a@example.test> size=61
S: 250 ok
C: rcpt TO:<b@example.test>
S: 250 ok
C: data
S: 354 go
C: Date: Thu, 01 Jan 2026 00:00:00 +0000
C: Subject: hi
C:
C: text
C: .
S: 250 queued
C: QUIT
S: 221 bye
@close S
"""


def run(*args):
    return subprocess.run([BIN, "script", *args], capture_output=True, text=True, timeout=30)


def test_generalize_writes_patterns_after_the_recorded_lines(tmp_path):
    rec = tmp_path / "rec.smtp"
    rec.write_text(RECORDING)
    p = run("generalize", str(rec))
    assert p.returncode == 0, p.stderr
    assert "# recorded: C: ehlo host-7.example\nC~ ehlo {*}\n" in p.stdout
    assert "C~ mail FROM:<a@example.test> size={re:[0-9]+}\n" in p.stdout
    assert "# recorded: C: Date: Thu, 01 Jan 2026 00:00:00 +0000\nC~ Date:{*}\n" in p.stdout
    assert "C: Subject: hi\nC:\nC: text\nC: .\n" in p.stdout, "the rest, line for line"
    assert rec.read_text() == RECORDING, "the recording itself is left as it was"
    out = tmp_path / "reusable.smtp"
    p = run("generalize", str(rec), "--output", str(out))
    assert p.returncode == 0 and out.read_text().endswith("@close S\n")
    assert "3 records made patterns, written to" in p.stderr
    # The script serves: `smtpkit serve` loads it and gets ready.
    serve = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--discard", "--script", str(out), "--events",
                              "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = [serve.stdout.readline() for _ in range(2)]
        assert '"event":"ready"' in ready[1], (ready, serve.stderr.read() if serve.poll() is not None else "")
    finally:
        serve.terminate()
        serve.wait(10)


def test_never_replaces_a_file_and_says_why_it_cannot(tmp_path):
    rec = tmp_path / "rec.smtp"
    rec.write_text(RECORDING)
    out = tmp_path / "exists.smtp"
    out.write_text("keep me\n")
    p = run("generalize", str(rec), "-o", str(out))
    assert p.returncode == 2 and "cannot create" in p.stderr and "never replaced" in p.stderr
    assert out.read_text() == "keep me\n"
    p = run("generalize", str(tmp_path / "missing.smtp"))
    assert p.returncode == 2 and "cannot read" in p.stderr
    bad = tmp_path / "bad.smtp"
    bad.write_text("S: 220 ok\nC: \\q\n")
    p = run("generalize", str(bad))
    assert p.returncode == 2 and p.stderr.startswith(str(bad) + ":2:"), p.stderr
    assert run().returncode == 2, "a verb needs its subcommand"
