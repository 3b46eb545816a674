"""test_probe_broken.py — `smtpkit probe server` against a server with three
known bugs (peers/broken_server.py: STARTTLS command injection, <LF>.<LF>
ending the mail data, 250 to RCPT without MAIL) fails exactly the scenarios
those bugs break, for the right reasons, and nothing else; the same server
without its bugs passes them all.

Which scenarios, and why each:
  security.starttls-injection   the NOOP sent with STARTTLS is answered inside TLS
  security.smuggling.lf-dot-lf  <LF>.<LF> ends the data
  security.smuggling.crlf-dot-lf  <CR><LF>.<LF> holds <LF>.<LF> too
  errors.rcpt-before-mail       RCPT with no MAIL at all
  basics.rset-transaction       RCPT after RSET has no MAIL either
  basics.ehlo-resets            nor has RCPT after a second EHLO
"""
import shutil
import subprocess
import tempfile

import pytest

from peers import probe_targets, servers
from peers.broken_server import BrokenServer

EXPECTED = {
    "security.starttls-injection": "fail/MUST",
    "security.smuggling.lf-dot-lf": "fail/MUST:accepted-as-end-of-data",
    "security.smuggling.crlf-dot-lf": "fail/MUST:accepted-as-end-of-data",
    "errors.rcpt-before-mail": "fail/MUST",
    "basics.rset-transaction": "fail/MUST",
    "basics.ehlo-resets": "fail/MUST",
}


@pytest.fixture
def certificate():
    if probe_targets.available("smtpkit-serve"):
        pytest.skip(probe_targets.available("smtpkit-serve"))
    d = tempfile.mkdtemp(prefix="smtpkit-broken-")
    try:
        yield servers.make_cert(d, "broken.smtpkit.test")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def probe(server):
    rc, report, err = probe_targets.probe([server.address, "--insecure"])
    assert report is not None, err
    return rc, report


def test_the_broken_server_fails_exactly_what_its_bugs_break(certificate):
    with BrokenServer(*certificate) as s:
        rc, report = probe(s)
    got = probe_targets.verdicts(report)
    failed = {k: v for k, v in got.items() if v.startswith("fail")}
    assert failed == EXPECTED
    assert rc == 1
    assert report["summary"]["error"] == 0
    by_id = {s["id"]: s for s in report["scenarios"]}
    # The engine's rule, not the reply that followed, is the reason.
    assert by_id["security.starttls-injection"]["reason"].startswith("server.starttls.injection:")
    assert "\nC: NOOP\n" in by_id["security.starttls-injection"]["dialogue"]
    assert by_id["errors.rcpt-before-mail"]["reason"].startswith("server.sequence.rcpt-without-mail:")
    lf = by_id["security.smuggling.lf-dot-lf"]["outcome"]
    assert lf["result"] == "accepted-as-end-of-data" and lf["replies"] == [250, 250, 500, 500]
    # The other variants stay in the message.
    assert by_id["security.smuggling.lf-dot-crlf"]["outcome"]["result"] == "kept-in-message"


def test_without_its_bugs_it_passes_everything_that_applies(certificate):
    with BrokenServer(*certificate, bugs=()) as s:
        rc, report = probe(s)
    got = probe_targets.verdicts(report)
    assert {k: v for k, v in got.items() if not (v.startswith("pass") or v == "not-applicable")} == {}
    assert rc == 0


def test_the_text_report_names_each_failure_with_its_dialogue(certificate):
    with BrokenServer(*certificate) as s:
        p = subprocess.run([probe_targets.smtpkit_bin(), "probe", "server", s.address, "--insecure", "--color", "never",
                            "--only", "security.smuggling.lf-dot-lf", "--only", "errors.rcpt-before-mail"],
                           capture_output=True, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 1
    assert "FAIL  errors.rcpt-before-mail" in out
    assert "FAIL  security.smuggling.lf-dot-lf" in out and "accepted-as-end-of-data" in out
    assert "expected S~ 503{*}, received 250 ok" in out
    assert "dialogue:" in out
    assert "C= This line comes before the variant.\\n" in out  # the bare LF, as the transcript writes it
    assert out.rstrip().endswith("FAIL (fail on MUST)")
