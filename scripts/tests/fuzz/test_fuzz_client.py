# test_fuzz_client.py — `smtpkit fuzz client` against a client with planted
# bugs (planted_client.py): a bounded run must find the shallow ones (a
# crash on an out-of-range reply code, a hang on an over-long reply line),
# every finding must be a planted bug when its reproducer is served again
# with `smtpkit serve --script`, and the same client without its bugs gives
# nothing. Also a real client (curl) for a short run: every session must
# connect, and what curl breaks on unmutated replies (the message file's
# bare LFs) is its baseline, reported and not counted.
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

import smtpkit
from peers.servers import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "planted_client.py")
BUGS = ("code-crash", "long-hang", "data-on-2xx", "ehlo-abort")


@pytest.fixture(scope="module")
def binary():
    return smtpkit.find_binary()


def client_command(bugs="all"):
    return [sys.executable, "-S", CLIENT, "{host}", "{port}", "--bugs", bugs]


def fuzz(binary, out, *args, command, timeout=600):
    return subprocess.run([binary, "fuzz", "client", "--out", str(out), "--progress", "never", "--hang-timeout", "1",
                           *args, "--", *command], capture_output=True, text=True, timeout=timeout)


def stats_of(out):
    with open(os.path.join(str(out), "stats.json"), encoding="utf-8") as f:
        return json.load(f)


def wait_port(port, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on port %d" % port)


# The oracle each planted bug is found by.
ORACLE = {"code-crash": "crash", "ehlo-abort": "crash", "long-hang": "hang", "data-on-2xx": "violation"}


def fired(binary, script, tmp):
    """Serves `script` and runs the planted client against it; the planted
    bugs it says fired ("planted: NAME" on its stderr)."""
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--script", script, "--listen", "127.0.0.1:%d" % port, "--discard",
                               "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    err = os.path.join(tmp, "client-%d.err" % port)
    try:
        wait_port(port)
        argv = [a.replace("{host}", "127.0.0.1").replace("{port}", str(port)) for a in client_command()]
        with open(err, "wb") as fh:
            client = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=fh)
            try:
                client.wait(timeout=5)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()
    finally:
        server.terminate()
        server.wait(timeout=20)
    with open(err, encoding="utf-8", errors="replace") as fh:
        return {line.split(": ", 1)[1].strip() for line in fh if line.startswith("planted: ")}


@pytest.fixture(scope="module")
def planted_run(binary, tmp_path_factory):
    out = tmp_path_factory.mktemp("client")
    r = fuzz(binary, out, "--max-time", "120", "--jobs", "2", "--seed", "1", "--minimise-time", "15", "--format",
             "json", "-o", str(out / "report.json"), command=client_command())
    return r, out


def test_finds_the_shallow_planted_bugs(binary, planted_run, tmp_path):
    r, out = planted_run
    assert r.returncode == 1, r.stderr
    stats = stats_of(out)
    assert stats["tool"] == "smtpkit fuzz client" and stats["baseline"] == []
    assert stats["sessions"] > 50 and stats["states"] > 10
    found = set()
    for f in stats["findings"]:
        # Which planted bug: the one the client says fired when the
        # reproducer is served to it again, of the finding's oracle.
        bugs = {b for b in fired(binary, f["file"], str(tmp_path)) if ORACLE[b] == f["oracle"]}
        assert bugs, "finding %r is no planted bug" % f
        found.update(bugs)
    assert {"code-crash", "long-hang"} <= found, found


def test_reproducers_are_server_scripts_with_their_finding(planted_run):
    # (that they load and replay is test_finds_the_shallow_planted_bugs')
    _, out = planted_run
    stats = stats_of(out)
    folders = {"crash": "crashes", "hang": "hangs", "violation": "violations"}
    for f in stats["findings"]:
        assert os.path.dirname(f["file"]) == str(out / folders[f["oracle"]])
        with open(f["file"], encoding="utf-8") as fh:
            text = fh.read()
        assert text.startswith("# finding: ")
        assert "# oracle: %s\n" % f["oracle"] in text
        assert "\n@rule per=session " in text and "# the session it drew:" in text
    report = json.loads((out / "report.json").read_text())
    assert report["tool"] == "smtpkit fuzz client"
    assert sum(1 for c in report["scenarios"] if c["verdict"] == "fail") == len(stats["findings"])


def test_correct_client_gives_nothing(binary, tmp_path):
    r = fuzz(binary, tmp_path, "--max-time", "40", "--jobs", "2", "--seed", "4", command=client_command("none"))
    stats = stats_of(tmp_path)
    assert stats["findings"] == [], stats["findings"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert stats["sessions"] > 30


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_short_run(binary, tmp_path):
    r = fuzz(binary, tmp_path, "--max-time", "20", "--seed", "2", "--no-minimise",
             command=["curl", "-sS", "--max-time", "10", "smtp://{host}:{port}", "--mail-from", "{from}",
                      "--mail-rcpt", "{rcpt}", "-T", "{message}"])
    stats = stats_of(tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert stats["sessions"] > 10 and stats["errors"] == 0
    # curl sends the message file's bare LFs as they are: a baseline finding,
    # reported once and not counted
    assert any(b.startswith("client.data.bare-lf") for b in stats["baseline"]), stats["baseline"]


def test_client_that_never_connects_is_a_usage_error(binary, tmp_path):
    t0 = time.monotonic()
    r = fuzz(binary, tmp_path, "--max-time", "5", "--session-timeout", "3", command=["true", "{port}"])
    assert r.returncode == 2 and "did not connect" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 30
    r = fuzz(binary, tmp_path, command=[])
    assert r.returncode == 2


def test_sigint_stops_and_keeps_what_was_found(binary, tmp_path):
    p = subprocess.Popen([binary, "fuzz", "client", "--out", str(tmp_path), "--progress", "never", "--hang-timeout",
                          "1", "--seed", "5", "--", *client_command("code-crash")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    stats = stats_of(tmp_path)
    assert stats["stopped_by"] == "signal"
    assert p.returncode == (1 if stats["findings"] else 0), err
