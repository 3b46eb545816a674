# test_tools.py — the report wrappers (check, probe_server, replay) and
# where the binary is looked for (SMTPKIT_BIN, the build tree, PATH).
#
# A binary without a verb fails the call with its own message (never a
# skip). Limits: the lookup cases run Python in a subprocess, with a copy
# of the package outside the source tree where the build tree must not be
# found.
import os
import shutil
import subprocess
import sys

import pytest

import smtpkit

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # scripts/python
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

CLEAN = """S: 220 mx.example.test ESMTP
C: EHLO client.example.test
S: 250-mx.example.test
S: 250 PIPELINING
C: MAIL FROM:<a@example.test>
S: 250 ok
C: QUIT
S: 221 bye
"""


def test_check_a_folder_of_dialogues():
    folder = os.path.join(REPO, "corpus", "dialogues")
    r = smtpkit.check(folder)
    assert r.summary["dialogues"] == len([f for f in os.listdir(folder) if f.endswith(".smtp")])
    assert r.data["tool"] == "smtpkit check" and r.data["schema"] == 1
    assert r.passed == (r.returncode == 0) and r.verdict in ("pass", "fail")
    assert all(f.source.startswith(folder) and f.line > 0 for f in r.findings)


def test_check_reports_findings_with_line_numbers(tmp_path):
    good = tmp_path / "good.smtp"
    good.write_text(CLEAN)
    assert smtpkit.check(good, judge="client").passed
    bad = tmp_path / "bad.smtp"
    bad.write_text(CLEAN.replace("C: EHLO client.example.test\nS: 250-mx.example.test\nS: 250 PIPELINING\n", ""))
    r = smtpkit.check([good, bad], judge="client")
    assert not r.passed and r.returncode == 1 and r.verdict == "fail"
    assert r.rules() == ["client.sequence.no-ehlo"]
    f, = r.findings
    assert (f.source, f.line, f.level, f.side) == (str(bad), 2, "MUST", "client")
    assert "bad.smtp:2" in str(f)
    assert [d["verdict"] for d in r.dialogues] == ["pass", "fail"]


def test_check_errors_carry_file_and_line(tmp_path):
    broken = tmp_path / "broken.smtp"
    broken.write_text("S: 220 ok\nC: bad escape \\q\n")
    with pytest.raises(smtpkit.ToolError, match=r"broken\.smtp:2") as e:
        smtpkit.check(broken)
    assert e.value.returncode == 2
    with pytest.raises(smtpkit.ToolError, match="no such file"):
        smtpkit.check(tmp_path / "missing.smtp")


def test_probe_server_against_the_mock_server():
    with smtpkit.MockServer() as srv:
        r = smtpkit.probe_server(srv, args=["--only", "basics"])
        assert r.returncode in (0, 1), r.stderr
        assert r.data["tool"] == "smtpkit probe server" and r.data["target"] == "%s:%d" % srv.address
        assert r.summary["scenarios"] == len(r.scenarios) >= 1
        assert all(s["id"].startswith("basics.") for s in r.scenarios)
        assert r.passed == (r.failed() == []), r.failed()
        assert srv.sessions, "the probe talked to the server"
    with pytest.raises(smtpkit.ToolError, match="exit status 2"):
        smtpkit.probe_server("127.0.0.1", 1, args=["--only", "basics"], timeout=60)


def test_replay_a_recording_against_the_mock_server():
    recording = os.path.join(REPO, "corpus", "dialogues", "real-smtplib-exim.smtp")
    with smtpkit.MockServer() as srv:
        r = smtpkit.replay(recording, srv.host, srv.port)
        assert r.returncode in (0, 1), r.stderr
        assert r.data["tool"] == "smtpkit replay" and len(r.dialogues) == 1
        m, = srv.wait_for_messages(1)  # the recording delivered its message again
        assert m.mail_from == "sender@example.test"


def test_a_binary_without_the_verb_fails_with_its_own_message(tmp_path):
    fake = tmp_path / "smtpkit"
    fake.write_text("#!/bin/sh\necho 'A subcommand is required' >&2\nexit 2\n")
    fake.chmod(0o755)
    for call in (lambda: smtpkit.probe_server("127.0.0.1:1", binary=str(fake)),
                 lambda: smtpkit.replay("x.smtp", "127.0.0.1:1", binary=str(fake))):
        with pytest.raises(smtpkit.ToolError, match="exit status 2.*A subcommand is required") as e:
            call()
        assert e.value.returncode == 2 and e.value.stderr.startswith("A subcommand is required")


def _lookup(env, package_dir):
    code = "import smtpkit\ntry:\n print(smtpkit.find_binary())\nexcept smtpkit.BinaryNotFound as e:\n print('ERR', e)\n"
    p = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=package_dir), capture_output=True,
                       text=True, timeout=30, cwd="/")
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_binary_lookup_order(tmp_path):
    base = {"PATH": "/nonexistent-bin", "PYTHONDONTWRITEBYTECODE": "1"}
    # 1. SMTPKIT_BIN wins; set but wrong is an error, not a silent fallback.
    assert _lookup(dict(base, SMTPKIT_BIN=smtpkit.find_binary()), PACKAGE_ROOT) == smtpkit.find_binary()
    out = _lookup(dict(base, SMTPKIT_BIN="/nonexistent/smtpkit"), PACKAGE_ROOT)
    assert out.startswith("ERR SMTPKIT_BIN=/nonexistent/smtpkit is not an executable file")
    # 2. The build tree of the checkout the package sits in.
    out = _lookup(base, PACKAGE_ROOT)
    built = os.path.join(REPO, "build", "default", "cli", "smtpkit")
    assert out == built or (out.startswith("ERR") and built in out)
    # 3. PATH, for a package outside any checkout; the error lists every place.
    outside = tmp_path / "site"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "smtpkit"), outside / "smtpkit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = _lookup(base, str(outside))
    assert out.startswith("ERR smtpkit binary not found; tried:")
    for place in ("SMTPKIT_BIN (not set)", "the build tree (no smtpkit source checkout above", "PATH (no smtpkit in"):
        assert place in out
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(smtpkit.find_binary(), bindir / "smtpkit")
    assert _lookup(dict(base, PATH=str(bindir)), str(outside)) == str(bindir / "smtpkit")


def test_verbs_and_flags_of_this_binary():
    assert {"check", "serve", "rules"} <= set(smtpkit.verbs())
    assert smtpkit.has_flag("serve", "--durable") and not smtpkit.has_flag("serve", "--no-such-flag")
    assert not smtpkit.has_verb("no-such-verb") and not smtpkit.has_flag("no-such-verb", "--help")
