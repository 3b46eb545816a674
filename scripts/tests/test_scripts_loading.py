# test_scripts_loading.py — `smtpkit serve --script` loads and checks every
# script before it listens: a bad one (or an unreadable file) makes it exit
# 2 with "file:line:col: message" on stderr, and nothing listens, not even
# for the scripts that were fine. Runs the binary directly (SMTPKIT_BIN or
# the build tree); every run is bounded.
import socket
import subprocess

import pytest

from smtpkit import binary

GOOD = "S: 220 fine\n"
BAD = [
    # (script text, line, column, words of the message)
    ("S: 220 x\nC~ EHLO {\n", 2, 9, "expected '}'"),
    ("@rule RCPT TO:{*}\nS: 550 no\n", 1, 1, "@rule without @end"),
    ("@frobnicate\n", 1, 1, "unknown directive '@frobnicate'"),
    ("@pause soon\n", 1, 8, "expected a duration"),
    ("@rule chance=0.5 QUIT\nS: 221 x\n@end\n", 1, None, "needs @seed"),
    ("@rule QUIT\n@fallback\n@fallback\n@end\n", 3, 1, "at most one @fallback"),
    ("S: 220 \\q\n", 1, 8, "invalid escape"),
    ("X: what\n", 1, 1, "expected a record"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(tmp_path, *scripts):
    port = free_port()
    argv = [binary.find_binary(), "serve", "--listen", "127.0.0.1:%d" % port, "--discard"]
    for s in scripts:
        argv += ["--script", str(s)]
    p = subprocess.run(argv, capture_output=True, timeout=20, cwd=tmp_path, stdin=subprocess.DEVNULL)
    return p, port


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("text,line,col,what", BAD)
def test_a_bad_script_exits_2_with_file_line_col(tmp_path, text, line, col, what):
    good = tmp_path / "good.smtp"
    good.write_text(GOOD)
    bad = tmp_path / "bad.smtp"
    bad.write_text(text)
    p, port = serve(tmp_path, good, bad)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    where = "%s:%d:%d: " % (bad, line, col) if col else "%s:%d: " % (bad, line)
    assert err.startswith(where) and what in err, err
    assert err.count("\n") == 1, "one line, nothing else: %r" % err
    assert "listening" not in err and not listening(port)


def test_an_unreadable_script(tmp_path):
    missing = tmp_path / "missing.smtp"
    p, port = serve(tmp_path, missing)
    assert p.returncode == 2
    assert p.stderr.decode() == "%s: no such file or folder\n" % missing
    assert not listening(port)


def test_every_script_is_loaded_before_listening(tmp_path):
    good = tmp_path / "good.smtp"
    good.write_text(GOOD)
    bad = tmp_path / "bad.smtp"
    bad.write_text("S: 220 fine\n@end\n")
    # The bad one comes last: still nothing listens.
    p, port = serve(tmp_path, good, good, bad)
    assert p.returncode == 2 and p.stderr.decode().startswith("%s:2:1: @end without" % bad)
    assert not listening(port)
