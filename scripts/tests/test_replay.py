"""test_replay.py — `smtpkit replay`: the client side of recorded dialogues
against live servers. The corpus's real-*.smtp recordings, replayed against
a fresh server of the kind they were recorded with (aiosmtpd or exim,
started the same way as scripts/record_corpus.py starts them), get the same
reply codes and the same server findings as `smtpkit check --judge server`
gives for the recording itself; a session recorded by `smtpkit serve`
replays cleanly against a fresh one. Also: --exact, the exit statuses, and
the JSON and JUnit reports.

Bounded: every command has a timeout; each server is stopped after use.
"""
import glob
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import pytest

from peers import postfix, probe_targets, servers

BIN = probe_targets.smtpkit_bin()
REPO = servers.REPO
CORPUS = sorted(glob.glob(os.path.join(REPO, "corpus", "dialogues", "real-*.smtp")))
CORPUS_AUTH = ("smtpkit", "corpus-password")  # scripts/record_corpus.py
sys.path.insert(0, os.path.join(REPO, "scripts"))

pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="no smtpkit binary at %s" % BIN)


def smtpkit(*args, timeout=120):
    return subprocess.run([BIN, *args], capture_output=True, timeout=timeout)


def fresh_server_for(path):
    """A server of the kind, and configuration, the recording was made with:
    scripts/record_corpus.py's own, found from the file name."""
    import record_corpus  # scripts/, on the path below

    name = os.path.basename(path)[:-len(".smtp")]
    for client, server, variant, _ in record_corpus.SESSIONS:
        if record_corpus.file_name(client, server, variant)[:-len(".smtp")] == name:
            return record_corpus.start_server(server, variant)
    raise AssertionError("%s is not a session of scripts/record_corpus.py" % name)


def server_findings(report):
    return sorted(f["rule"] for d in report["dialogues"] for f in d["findings"])


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_a_recording_replays_against_a_fresh_server_of_its_kind(path):
    if "-exim" in path and not os.access(servers.EXIM, os.X_OK):
        pytest.skip("exim4 is not installed")
    if "-postfix" in path and not postfix.available():
        pytest.skip("Postfix needs root and its unpacked package")
    with fresh_server_for(path) as peer:
        p = smtpkit("replay", path, "--target", peer.address, "--insecure", "--format", "json")
    doc = json.loads(p.stdout)
    replay = doc["replay"]
    if "-cram-md5" in path:
        # CRAM-MD5 answers a challenge that holds a fresh timestamp (RFC 2195
        # §2): the recorded answer cannot match a new server's challenge, so
        # the replay differs there and only there.
        (d,) = replay["differences"]
        assert d["expected"].startswith("reply 235") and d["received"].startswith("535"), replay
        assert replay["status"] == "fail"
        return
    assert replay["differences"] == [], replay
    assert replay["status"] == "pass", replay["reason"]
    assert replay["replies_compared"] >= 3
    checked = json.loads(smtpkit("check", "--judge", "server", "--format", "json", path).stdout)
    assert server_findings(doc) == server_findings(checked)
    counted = [f for d in doc["dialogues"] for f in d["findings"] if f["counts"]]
    assert p.returncode == (1 if counted else 0), p.stderr


def test_exact_shows_what_differs_from_run_to_run():
    path = os.path.join(REPO, "corpus", "dialogues", "real-msmtp-exim.smtp")
    with servers.start_exim() as peer:
        p = smtpkit("replay", path, "--target", peer.address, "--exact", "--format", "json")
    diffs = json.loads(p.stdout)["replay"]["differences"]
    # Only exim's queue id changes: "250 OK id=1xXdpv-00062Q-0v".
    with open(path) as f:
        queue_id_line = next(n for n, l in enumerate(f, 1) if l.startswith("S: 250 OK id="))
    assert [d["line"] for d in diffs] == [queue_id_line]
    assert diffs[0]["expected"].startswith("S: 250 OK id=") and diffs[0]["received"].startswith("250 OK id=")
    assert p.returncode == 1


def test_a_different_server_shows_where_it_differs():
    # STARTTLS recorded against aiosmtpd; exim here offers no TLS: the
    # comparison stops at the 220 that did not come.
    path = os.path.join(REPO, "corpus", "dialogues", "real-smtplib-aiosmtpd-starttls.smtp")
    with servers.start_exim() as peer:
        p = smtpkit("replay", path, "--target", peer.address, "--color", "never")
    out = p.stdout.decode()
    assert p.returncode == 1
    assert "real-smtplib-aiosmtpd-starttls.smtp:15: reply differs: expected reply 220" in out
    # The recorded reply and the one received, side by side.
    assert ("    recorded               | received\n"
            "  ! 220 Ready to start TLS | 503 STARTTLS command used when not advertised\n") in out, out
    assert "the replayed dialogue" in out


def test_a_session_recorded_by_smtpkit_serve_replays_against_a_fresh_one(tmp_path):
    transcripts = tmp_path / "t"
    transcripts.mkdir()

    def serve(*extra):
        proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--discard", "--hostname", "mx.smtpkit.test",
                                 *extra], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        line = proc.stderr.readline().decode()
        assert "listening on 127.0.0.1:" in line, line
        return proc, int(line.rsplit(":", 1)[1])

    proc, port = serve("--transcripts", str(transcripts))
    try:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.smtpkit.test", timeout=10) as c:
            c.sendmail("a@example.test", ["b@example.test", "c@example.test"],
                       b"Subject: replay\r\n\r\nHello.\r\n.A dot line.\r\n")
        recorded = servers.wait_for(lambda: [p for p in glob.glob(str(transcripts / "*.smtp"))
                                             if "@close" in open(p).read()], 10)
    finally:
        servers.stop_process(proc)
        proc.stderr.close()
    assert recorded, "serve wrote no transcript"
    proc, port = serve()
    try:
        p = smtpkit("replay", recorded[0], "--target", "127.0.0.1:%d" % port, "--format", "json")
        p_exact = smtpkit("replay", recorded[0], "--target", "127.0.0.1:%d" % port, "--exact", "--format", "json")
    finally:
        servers.stop_process(proc)
        proc.stderr.close()
    doc = json.loads(p.stdout)
    assert p.returncode == 0, doc["replay"]
    assert doc["replay"]["differences"] == [] and doc["dialogues"][0]["findings"] == []
    # Exactly, only the queue ids of the stored message can differ.
    for d in json.loads(p_exact.stdout)["replay"]["differences"]:
        assert "queued as" in d["expected"], d


def test_junit_and_save(tmp_path):
    path = os.path.join(REPO, "corpus", "dialogues", "real-swaks-aiosmtpd.smtp")
    saved = tmp_path / "live.smtp"
    with servers.start_aiosmtpd() as peer:
        p = smtpkit("replay", path, "--target", peer.address, "--format", "junit", "--save", str(saved))
    assert p.returncode == 0, p.stderr
    root = ET.fromstring(p.stdout)
    assert root.find(".//testcase[@name='replay.replies']") is not None
    assert int(root.get("tests")) == len(root.findall(".//testcase"))
    live = saved.read_text()
    assert live.startswith("# smtpkit client driver: ") and "\nS: 221 " in live
    # The saved dialogue is a transcript `check` reads.
    assert smtpkit("check", "--judge", "server", str(saved)).returncode == 0


def test_an_output_that_cannot_be_written_exits_2(tmp_path):
    path = os.path.join(REPO, "corpus", "dialogues", "real-swaks-aiosmtpd.smtp")
    target = tmp_path / "no-such-dir" / "replay.json"
    with servers.start_aiosmtpd() as peer:
        p = smtpkit("replay", path, "--target", peer.address, "--format", "json", "-o", str(target))
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode().endswith("smtpkit replay: cannot write %s\n" % target)


def test_no_connection_is_exit_2():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = CORPUS[0]
    p = smtpkit("replay", path, "--target", "127.0.0.1:%d" % port)
    assert p.returncode == 2 and b"cannot connect" in p.stderr
    assert smtpkit("replay", path).returncode == 2  # neither --target nor --exec
    assert smtpkit("replay", "/nonexistent.smtp", "--target", "127.0.0.1:25").returncode == 2


def test_a_recording_of_implicit_tls_replays_with_or_without_tls_flag(tmp_path):
    recording = tmp_path / "implicit.smtp"
    recording.write_text("@tls\nS: 220 mx.smtpkit.test ESMTP\nC: EHLO client.smtpkit.test\nS: 250-mx.smtpkit.test\n"
                         "S: 250 HELP\nC: QUIT\nS: 221 bye\n@close S\n")
    proc = subprocess.Popen([BIN, "serve", "--tls-listen", "127.0.0.1:0", "--discard", "--hostname", "mx.smtpkit.test"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        line = proc.stderr.readline().decode()
        target = "127.0.0.1:" + line.split("127.0.0.1:")[1].split()[0]
        for flags in (["--tls"], []):  # the leading @tls is the handshake either way
            p = smtpkit("replay", str(recording), "--target", target, "--insecure", *flags, "--format", "json")
            doc = json.loads(p.stdout)
            assert p.returncode == 0, doc["replay"]
            assert doc["replay"]["replies_compared"] == 4 and doc["replay"]["differences"] == []
    finally:
        servers.stop_process(proc)
        proc.stderr.close()
