# test_fuzz_server.py — `smtpkit fuzz server` against the planted-bug server
# (peers/planted_server.py): bounded runs that must find the shallow bugs
# (a crash, a hang and two violations), over stdio and over TCP with
# --restart, and that find nothing on the same server without its bugs.
# Which planted bug a finding is comes from replaying its reproducer with
# `smtpkit replay` (peers/planted_fuzz.py); the fuzzer never sees it.
#
# These are functional tests with bounded seeds and time, not the benchmark
# (bench/fuzz_bench.py measures time-to-find of every bug).
import json
import os
import signal
import subprocess
import time

import pytest

import smtpkit
from peers import planted_fuzz
from peers.servers import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")
SHALLOW = {"path-length", "vrfy-hang", "rcpt-without-mail", "helo-unbounded"}


@pytest.fixture(scope="module")
def binary():
    return smtpkit.find_binary()


# The planted server answers within milliseconds: short reply and hang
# timeouts keep sessions that hit a planted hang cheap.
QUICK = ["--timeout", "0.5", "--hang-timeout", "1"]


def fuzz(binary, out, *args, timeout=600):
    return subprocess.run([binary, "fuzz", "server", "--out", str(out), "--progress", "never", *QUICK, *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def stdio_run(binary, tmp_path_factory):
    out = tmp_path_factory.mktemp("stdio")
    # --fail-on should: helo-unbounded's overlong reply line breaks a SHOULD
    # (RFC 5321 §4.5.3.1.5).
    r = fuzz(binary, out, "--exec", planted_fuzz.exec_command(), "--seeds", SEEDS, "--seed", "7",
             "--max-time", "120", "--jobs", "2", "--minimise-time", "20", "--fail-on", "should", "--format", "json",
             "-o", str(out / "report.json"))
    return r, out


def test_stdio_run_finds_the_shallow_bugs(binary, stdio_run):
    r, out = stdio_run
    assert r.returncode == 1, r.stderr
    found = planted_fuzz.bugs_found(binary, str(out))
    assert SHALLOW <= set(found), "found %r" % found


def test_every_finding_is_a_planted_bug(binary, stdio_run):
    # No false crash, hang or violation: each reproducer fires a planted bug
    # of its own oracle's kind when replayed.
    _, out = stdio_run
    stats = planted_fuzz.findings(str(out))
    assert stats["findings"]
    for f in stats["findings"]:
        kinds = {kind for kind, _ in planted_fuzz.fired(binary, f["file"])}
        assert f["oracle"] in kinds, (f, kinds)


def test_reproducers_name_their_finding(stdio_run):
    r, out = stdio_run
    stats = planted_fuzz.findings(str(out))
    folders = {"crash": "crashes", "hang": "hangs", "violation": "violations"}
    for f in stats["findings"]:
        assert os.path.dirname(f["file"]) == str(out / folders[f["oracle"]])
        with open(f["file"], encoding="utf-8") as fh:
            head = fh.read().splitlines()[:3]
        assert head[0].startswith("# finding: ")
        assert head[1] == "# oracle: " + f["oracle"]
        if f["oracle"] == "violation":
            assert head[0] == "# finding: " + f["rule"]
    # the report: one failed case per finding, its reproducer as its file
    report = json.loads((out / "report.json").read_text())
    assert report["tool"] == "smtpkit fuzz server"


def test_stats_and_corpus(stdio_run):
    _, out = stdio_run
    stats = planted_fuzz.findings(str(out))
    assert stats["sessions"] > 100 and stats["sessions_per_s"] > 1
    assert stats["corpus"] > stats["seeds"] and stats["states"] > 10
    assert stats["stopped_by"] == "time"
    corpus = list((out / "corpus").glob("*.smtp"))
    assert len(corpus) == stats["corpus"] - stats["seeds"]


def test_correct_server_gives_nothing(binary, tmp_path):
    r = fuzz(binary, tmp_path, "--exec", planted_fuzz.exec_command(bugs="none"), "--seeds", SEEDS, "--seed", "3",
             "--max-sessions", "400", "--jobs", "2", "--fail-on", "should")
    stats = planted_fuzz.findings(str(tmp_path))
    assert stats["findings"] == [], stats["findings"]
    assert r.returncode == 0, r.stdout + r.stderr


def test_tcp_target_restarted_after_a_crash(binary, tmp_path):
    port = free_port()
    log = str(tmp_path / "server.log")
    start = planted_fuzz.listen_command(port, bugs="path-length,rcpt-without-mail", log=log)
    subprocess.run(start, shell=True, check=True)
    try:
        r = fuzz(binary, tmp_path / "out", "127.0.0.1:%d" % port, "--restart", start, "--seeds", SEEDS, "--seed",
                 "11", "--max-time", "60", "--minimise-time", "15")
        stats = planted_fuzz.findings(str(tmp_path / "out"))
        assert r.returncode == 1, r.stderr
        assert stats["restarts"] >= 1
        crashes = [f for f in stats["findings"] if f["oracle"] == "crash"]
        assert crashes and all(("crash", "path-length") in planted_fuzz.fired(binary, f["file"]) for f in crashes)
        assert any(f.get("rule") for f in stats["findings"] if f["oracle"] == "violation")
    finally:
        subprocess.run(["pkill", "-f", "planted_server.py --listen 127.0.0.1:%d" % port])


def test_sigint_stops_and_keeps_what_was_found(binary, tmp_path):
    p = subprocess.Popen([binary, "fuzz", "server", "--exec", planted_fuzz.exec_command(bugs="rcpt-without-mail"),
                          "--seeds", SEEDS, "--out", str(tmp_path), "--progress", "never", "--seed", "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    stats = planted_fuzz.findings(str(tmp_path))
    assert stats["stopped_by"] == "signal"
    assert p.returncode in (0, 1), err
    assert p.returncode == (1 if stats["findings"] else 0)


def test_usage_errors(binary, tmp_path):
    r = fuzz(binary, tmp_path, "--exec", "true", "--seeds", str(tmp_path / "missing"))
    assert r.returncode == 2 and "missing: no such file or folder" in r.stderr
    r = fuzz(binary, tmp_path, "127.0.0.1:1", "--exec", "true")
    assert r.returncode == 2
    r = subprocess.run([binary, "fuzz", "server", "--seeds", SEEDS], capture_output=True, text=True)
    assert r.returncode == 2 and "HOST:PORT or --exec" in r.stderr
    port = free_port()  # nobody listens there
    r = fuzz(binary, tmp_path, "127.0.0.1:%d" % port, "--seeds", SEEDS, "--max-time", "20")
    assert r.returncode == 2 and "no session could be made" in r.stderr
