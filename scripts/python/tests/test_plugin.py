# test_plugin.py — the pytest plugin, run the way users run it: a separate
# pytest, started from the repository root with PYTHONPATH=scripts/python
# and `-p smtpkit.pytest_plugin`, on a test file written here. Checks the
# fixtures (fresh server per test, factory, markers), the report sections
# of a failing test (transcripts, findings), --smtpkit-fail-on with and
# without smtp_allow_findings, that a server which cannot start fails the
# test (never a skip), and that no server outlives the run.
import os
import re
import shutil
import subprocess
import sys
from xml.etree import ElementTree

import smtpkit
from smtpkit.server import leftover_processes

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # scripts/python
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

INNER = r'''
import smtplib
import socket

import pytest

MESSAGE = b"Subject: plugin\r\n\r\nbody\r\n"


def send(srv):
    with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
        c.sendmail("a@example.test", ["b@example.test"], MESSAGE)


def mail_before_ehlo(srv):
    with socket.create_connection(srv.address, timeout=10) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"MAIL FROM:<a@example.test>\r\n")
        code = f.readline()[:3]
        s.sendall(b"QUIT\r\n")
        f.readline()
    return code


def test_fresh_a(smtp_server):
    assert smtp_server.messages == []
    send(smtp_server)
    assert smtp_server.wait_for_messages(1)[0].raw == MESSAGE


def test_fresh_b(smtp_server):
    assert smtp_server.messages == [] and smtp_server.sessions == []


def test_factory(smtp_server_factory):
    a = smtp_server_factory()
    b = smtp_server_factory(no=["pipelining"], hostname="b.example.test")
    assert a.port != b.port and b.info["hostname"] == "b.example.test"


@pytest.mark.smtp_options(hostname="opts.example.test", max_size=1000)
def test_options(smtp_server):
    assert smtp_server.info["hostname"] == "opts.example.test"


def test_fails_with_transcript(smtp_server):
    send(smtp_server)
    smtp_server.wait_for_sessions_closed()
    assert False, "deliberate failure"


def test_rude_client(smtp_server):
    assert mail_before_ehlo(smtp_server) == b"503"


@pytest.mark.smtp_allow_findings("client.sequence.no-ehlo")
def test_rude_but_allowed(smtp_server):
    assert mail_before_ehlo(smtp_server) == b"503"


@pytest.mark.smtp_script("S: 220 scripted.example.test ESMTP\nC~ {*}\nS: 221 bye\n@close S\n")
def test_scripted(smtp_server):
    with socket.create_connection(smtp_server.address, timeout=10) as s:
        assert s.makefile("rb").readline() == b"220 scripted.example.test ESMTP\r\n"


# Upper case, as docs/dialogue-format.md writes scripts; smtplib says
# "ehlo", "mail FROM:", "rcpt TO:", "data", "rset", "quit" (RFC 5321 §2.4).
UPPER = """S: 220 mx.example.test ESMTP
C: EHLO client.example.test
S: 250-mx.example.test
S: 250 8BITMIME
C: MAIL FROM:<a@example.test>
S: 250 2.1.0 Ok
C: RCPT TO:<b@example.test>
S: 250 2.1.5 Ok
C: DATA
S: 354 go ahead
C: Subject: plugin
C:
C: body
C: .
S: 250 2.0.0 queued
C: RSET
S: 250 2.0.0 reset
C: QUIT
S: 221 2.0.0 bye
@close S
"""


@pytest.mark.smtp_script(UPPER)
def test_upper_case_script_and_smtplib(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, local_hostname="client.example.test", timeout=10) as c:
        assert c.sendmail("a@example.test", ["b@example.test"], MESSAGE) == {}
        assert c.rset() == (250, b"2.0.0 reset")
        assert c.quit() == (221, b"2.0.0 bye")
    session, = smtp_server.wait_for_sessions_closed()
    assert session.commands == ["ehlo client.example.test", "mail FROM:<a@example.test>", "rcpt TO:<b@example.test>",
                                "data", ".", "rset", "quit"]
    assert smtp_server.findings == []
    assert smtp_server.wait_for_messages(1)[0].raw == MESSAGE


@pytest.mark.smtp_script("scripts/no-such-script.smtp")
def test_missing_script_file(smtp_server):
    pass


@pytest.mark.smtp_script(text="S: 220 one line of script")
def test_text_without_a_newline(smtp_server):
    with socket.create_connection(smtp_server.address, timeout=10) as s:
        assert s.makefile("rb").readline() == b"220 one line of script\r\n"


@pytest.mark.smtp_script("S: 220 mx.example.test\nC: EHLO client.example.test\nS: 250 ok\n")
def test_inline_script_mismatch(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, local_hostname="other.example.test", timeout=10) as c:
        assert c.ehlo()[0] == 503
    smtp_server.wait_for_sessions_closed()
    assert smtp_server.findings == [], "deliberate failure"


def test_script_on_a_binary_without_it(smtp_server_factory, tmp_path):
    fake = tmp_path / "smtpkit"
    fake.write_text("#!/bin/sh\necho 'The following argument was not expected: --script' >&2\nexit 2\n")
    fake.chmod(0o755)
    smtp_server_factory("S: 220 x\n", binary=str(fake))
'''


def run_inner(tmp_path, *extra):
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(INNER)
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.path.relpath(PACKAGE_ROOT, REPO), TMPDIR=str(scratch),
               SMTPKIT_BIN=smtpkit.find_binary(), PYTHONDONTWRITEBYTECODE="1")
    report = tmp_path / "inner.xml"
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "smtpkit.pytest_plugin", "-p", "no:cacheprovider",
                        "-rA", "-q", "--rootdir", str(tmp_path), "--junitxml", str(report), str(test_file), *extra],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = {"failure": "FAILED", "error": "ERROR", "skipped": "SKIPPED"}.get(
            kinds[0] if kinds else None, "PASSED")
    left = leftover_processes([str(scratch)])
    assert not left, "servers left running after the inner run: %r" % left
    return p, outcomes


def test_fixtures_markers_and_failure_report(tmp_path):
    p, outcomes = run_inner(tmp_path)
    out = p.stdout
    assert p.returncode == 1, out + p.stderr
    expected = {"test_fresh_a": "PASSED", "test_fresh_b": "PASSED", "test_factory": "PASSED",
                "test_options": "PASSED", "test_fails_with_transcript": "FAILED", "test_rude_client": "PASSED",
                "test_rude_but_allowed": "PASSED", "test_scripted": "PASSED",
                "test_script_on_a_binary_without_it": "FAILED", "test_upper_case_script_and_smtplib": "PASSED",
                "test_missing_script_file": "ERROR", "test_text_without_a_newline": "PASSED",
                "test_inline_script_mismatch": "FAILED"}
    assert {k: outcomes.get(k) for k in expected} == expected, out
    # The failing test's report carries the server's findings and transcripts.
    assert re.search(r"-+ smtpkit server 1 \(127\.0\.0\.1:\d+\): findings -+\n0 finding\(s\)", out), out
    assert re.search(r"-+ smtpkit server 1 \(127\.0\.0\.1:\d+\): transcript s000001 -+\n# smtpkit serve: session "
                     r"s000001", out), out
    assert "C: Subject: plugin" in out and "S: 220 localhost ESMTP smtpkit" in out
    # A server that cannot start fails its test with what the binary said.
    assert re.search(r"ServerStartError: smtpkit serve exited before it was ready \(exit status 2\): "
                     r"The following argument was not expected: --script", out), out
    # A script path that is not there is said to be one, not read as text.
    assert re.search(r"ScriptNotFound: script file not found: scripts/no-such-script\.smtp \(from \S+\) — a script "
                     r"given as text holds a newline", out), out
    # A script mismatch: the inline script, numbered, and no empty "()".
    assert re.search(r"-+ smtpkit server 1 \(127\.0\.0\.1:\d+\): script inline-script-1\.smtp -+\n"
                     r"   1  S: 220 mx\.example\.test\n   2  C: EHLO client\.example\.test\n", out), out
    assert re.search(r"s000001: client MUST script\.mismatch: the client sent something else; the script expected "
                     r"C: EHLO client\.example\.test \(\S+inline-script-1\.smtp:2\) at 'ehlo other\.example\.test'\n",
                     out), out


def test_fail_on_must_fails_a_rude_client(tmp_path):
    p, outcomes = run_inner(tmp_path, "--smtpkit-fail-on", "must", "-k",
                            "test_rude or test_fresh or test_upper")  # test names only: tmp_path contains "rude" too
    out = p.stdout
    assert outcomes == {"test_fresh_a": "PASSED", "test_fresh_b": "PASSED", "test_rude_client": "FAILED",
                        "test_rude_but_allowed": "PASSED", "test_upper_case_script_and_smtplib": "PASSED"}, out
    assert "the SMTP client broke the protocol (--smtpkit-fail-on must)" in out
    assert "client MUST client.sequence.no-ehlo: MAIL before EHLO/HELO" in out
    assert "transcript s000001" in out  # the report sections come with it


def test_fail_on_leaves_a_waived_rule_alone(tmp_path):
    """A waiver in .smtpkit.yaml above the rootdir, or the ini's smtpkit_ignore,
    keeps --smtpkit-fail-on from failing the test; the finding is still there."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("ignore:\n  - rule: client.sequence.no-ehlo\n    reason: the legacy client skips EHLO\n")
    # The inner run's rootdir is tmp_path (no ini file there or above it).
    for found, extra in ((True, []), (False, ["-o", "smtpkit_ignore=client.sequence.*"]),
                         (False, ["-o", "smtpkit_config=" + str(policy)])):
        if found:
            shutil.copy(policy, tmp_path / ".smtpkit.yaml")
        p, outcomes = run_inner(tmp_path, "--smtpkit-fail-on", "must", "-k", "test_rude_client", *extra)
        (tmp_path / ".smtpkit.yaml").unlink(missing_ok=True)
        assert outcomes == {"test_rude_client": "PASSED"}, (extra, p.stdout)
    # Without them, the same test fails.
    p, outcomes = run_inner(tmp_path, "--smtpkit-fail-on", "must", "-k", "test_rude_client")
    assert outcomes == {"test_rude_client": "FAILED"}, p.stdout
    assert "client MUST client.sequence.no-ehlo" in p.stdout


def test_plugin_help_lists_its_options(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.relpath(PACKAGE_ROOT, REPO))
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "smtpkit.pytest_plugin", "--help"], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=60)
    assert "--smtpkit-fail-on={must,should}" in p.stdout and "--smtpkit-bin" in p.stdout
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "smtpkit.pytest_plugin", "--markers"], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=60)
    for marker in ("smtp_script", "smtp_options", "smtp_allow_findings"):
        assert "@pytest.mark.%s" % marker in p.stdout
