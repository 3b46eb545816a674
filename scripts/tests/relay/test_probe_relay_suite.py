# test_probe_relay_suite.py — every check of `smtpkit probe relay` can
# fail, and a careful relay passes: peers/flawed_relay.py as the relay under
# test, careful (nothing fails; the checks it cannot take are n/a), then
# with each --break flag, which must fail (or, for MAY checks, leave "not
# done") the check that flag breaks — with the reason the report gives.
# Also: the relay can be the mock server itself (`serve --route`), which
# passes every check, and the pair view (--inbound) joins this hop's
# end-of-data outcomes with an inbound server's.
#
# Limits: each broken run is limited to the checks its flag concerns
# (--only) so the whole file takes about a minute and a half; the careful
# relay returns SMTPUTF8 mail with an SMTPUTF8 notification (RFC 6533),
# which cannot come back over the 7-bit sink: that check is an error, as
# the probe says it must be.
import json
import os
import re
import subprocess
import sys

import pytest

from peers import probe_relays, servers
from peers.flawed_relay import BREAKS

RELAY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "peers", "flawed_relay.py")


def smtpkit_bin():
    return os.environ.get("SMTPKIT_BIN", os.path.join(servers.REPO, "build", "default", "cli", "smtpkit"))


def start_relay(sink_port, *breaks):
    argv = [sys.executable, RELAY, "--listen", "127.0.0.1:0", "--next-hop", "127.0.0.1:%d" % sink_port,
            "--retry-delay", "0.5"]
    for b in breaks:
        argv += ["--break", b]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    m = re.match(r"listening 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        p.wait()
        raise RuntimeError("flawed_relay did not start: %r" % line)
    return p, int(m.group(1))


def run_probe(breaks=(), only=(), extra=(), wait=6, retry_wait=8):
    """{check id: (verdict, reason)} of one probe run through the flawed relay."""
    sink = servers.free_port()
    relay, port = start_relay(sink, *breaks)
    try:
        args = [smtpkit_bin(), "probe", "relay", "--submit", "127.0.0.1:%d" % port, "--sink-listen",
                "127.0.0.1:%d" % sink, "--wait", str(wait), "--retry-wait", str(retry_wait), "--format", "json"]
        for o in only:
            args += ["--only", o]
        p = subprocess.run(args + list(extra), capture_output=True, timeout=180)
    finally:
        relay.terminate()
        relay.wait(10)
    assert p.stdout, p.stderr.decode()
    rep = json.loads(p.stdout)
    out = {}
    for c in rep["scenarios"]:
        v = c["verdict"] + ("/" + c["failed_level"] if c["verdict"] == "fail" else "")
        out[c["id"]] = (v, c["reason"])
    return p.returncode, out


def test_the_careful_relay_passes_every_check_it_can_take():
    rc, got = run_probe()
    not_pass = {k: v for k, v in got.items() if v[0] != "pass"}
    assert set(not_pass) == {"relay.transparency.no-final-crlf", "relay.8bit.binarymime",
                             "relay.smtputf8.to-ascii-hop"}, not_pass
    assert not_pass["relay.transparency.no-final-crlf"] == ("not-applicable", "the relay does not offer CHUNKING")
    assert not_pass["relay.8bit.binarymime"][0] == "not-applicable"
    assert not_pass["relay.smtputf8.to-ascii-hop"][0] == "error"
    assert "cannot come back over the 7-bit sink" in not_pass["relay.smtputf8.to-ascii-hop"][1]
    # Every end-of-data variant: refused (the careful relay refuses bare CR, LF and NUL).
    assert all(got["relay.eod." + v][1].startswith("refused:") for v in (
        "lf-dot-lf", "lf-dot-crlf", "crlf-dot-lf", "cr-dot-cr", "cr-dot-crlf", "crlf-dot-cr", "cr-dot-lf",
        "lf-dot-cr", "crlf-dot-nul", "nul-dot"))
    assert rc == 1  # the error counts


EOD = ["relay.eod." + v for v in ("lf-dot-lf", "lf-dot-crlf", "crlf-dot-lf", "cr-dot-cr", "cr-dot-crlf",
                                  "crlf-dot-cr", "cr-dot-lf", "lf-dot-cr", "crlf-dot-nul", "nul-dot")]

# flag: (--only, {check: (verdict, phrase of its reason)})
BROKEN = {
    "pass-bare-lf": (["relay.eod"], dict(
        {c: ("fail/MUST", "passed on") for c in EOD[:8]},
        **{"relay.eod.crlf-dot-nul": ("fail/SHOULD", "passed on with NUL"),
           "relay.eod.nul-dot": ("fail/SHOULD", "passed on unchanged")})),
    "end-at-lf-dot": (["relay.eod"], {c: ("fail/MUST", "as the end of the data") for c in EOD[:3]}),
    "no-dot-stuffing": (["relay.transparency"], {"relay.transparency.dot-lines": ("fail/MUST", "body changed")}),
    "fold-long-lines": (["relay.transparency"], {"relay.transparency.long-line": ("fail/MUST", "body changed")}),
    "drop-empty-lines": (["relay.transparency"], {"relay.transparency.empty-lines": ("fail/MUST", "body changed")}),
    "drop-body-param": (["relay.8bit.declared"], {"relay.8bit.declared": ("fail/MUST", "without BODY=8BITMIME")}),
    "force-8bit": (["relay.8bit.to-7bit-hop"], {"relay.8bit.to-7bit-hop": ("fail/MUST", "does not offer 8BITMIME")}),
    "drop-smtputf8": (["relay.smtputf8.declared", "relay.client-rules"], {
        "relay.smtputf8.declared": ("error", "returned to the sender instead"),
        "relay.client-rules": ("fail/MUST", "client.smtputf8.not-requested")}),
    "rewrite-sender": (["relay.envelope.reverse-path", "relay.errors.dsn-on-5xx"], {
        "relay.envelope.reverse-path": ("fail/MUST", "arrived <relay@"),
        "relay.errors.dsn-on-5xx": ("fail/MUST", "not the null reverse-path")}),
    "drop-second-rcpt": (["relay.envelope.recipients"], {"relay.envelope.recipients": ("fail/MUST", "never arrived for t2-")}),
    "drop-dsn-params": (["relay.envelope.dsn-parameters"], {
        "relay.envelope.dsn-parameters": ("fail/MUST", "RET ENVID NOTIFY ORCPT")}),
    "no-size": (["relay.envelope.size"], {"relay.envelope.size": ("not-done", "no SIZE declared")}),
    "no-received": (["relay.trace"], {"relay.trace.received-added": ("fail/MUST", "no Received line added")}),
    "received-no-date": (["relay.trace"], {"relay.trace.received-added": ("fail/MUST", "date-time\" at its end")}),
    "received-at-bottom": (["relay.trace"], {"relay.trace.received-added": ("fail/MUST", "not on top"),
                                             "relay.trace.received-kept": ("fail/MUST", "inserted below")}),
    "drop-received": (["relay.trace"], {"relay.trace.received-kept": ("fail/MUST", "did not arrive unchanged")}),
    "add-return-path": (["relay.trace"], {"relay.trace.no-return-path": ("fail/SHOULD", "Return-Path")}),
    "no-bounce": (["relay.errors.dsn-on-5xx"], {"relay.errors.dsn-on-5xx": ("fail/MUST", "silent drop")}),
    "no-retry": (["relay.errors.retry-4xx"], {"relay.errors.retry-4xx": ("error", "no retry within")}),
    "no-loop-limit": (["relay.errors.loop"], {"relay.errors.loop": ("not-done", "150 Received lines")}),
    "bad-dsn": (["relay.errors.dsn-on-5xx"], {"relay.errors.dsn-on-5xx": ("fail/SHOULD", "not in the RFC 3464 form")}),
}


def test_every_break_is_in_the_table():
    assert set(BROKEN) == set(BREAKS)


@pytest.mark.parametrize("flag", sorted(BROKEN))
def test_a_broken_relay_fails_the_check_it_breaks(flag):
    only, expected = BROKEN[flag]
    rc, got = run_probe([flag], only)
    for check, (verdict, phrase) in expected.items():
        assert got[check][0] == verdict, (check, got[check])
        assert phrase in got[check][1], (check, got[check])
    # Nothing else in the selection fails: the flag breaks what it says.
    others = {k: v for k, v in got.items() if k not in expected and v[0] not in ("pass", "not-applicable")}
    others.pop("relay.client-rules", None)  # what the broken relay sent is also judged there
    assert not others, others
    # Exit 1 for a MUST failure or an error (--fail-on must, the default).
    assert rc == (1 if any(v[0] in ("fail/MUST", "error") for v in got.values()) else 0)


def test_smtpkit_serve_route_passes_every_check():
    sink = servers.free_port()
    with probe_relays.running("smtpkit-serve", sink) as address:
        p = subprocess.run([smtpkit_bin(), "probe", "relay", "--submit", address, "--sink-listen",
                            "127.0.0.1:%d" % sink, "--wait", "10", "--retry-wait", "10", "--format", "json"],
                           capture_output=True, timeout=180)
    rep = json.loads(p.stdout)
    assert p.returncode == 0, [(c["id"], c["reason"]) for c in rep["scenarios"] if c["verdict"] != "pass"]
    assert rep["summary"]["pass"] == rep["summary"]["scenarios"] == 30


def test_pairs_join_this_hops_outcomes_with_the_inbound_servers(tmp_path):
    # An inbound server that ends the data at <LF>.<LF> (and keeps the rest).
    inbound = {"scenarios": [
        {"id": "security.smuggling.lf-dot-lf", "outcome": {"kind": "end-of-data", "variant": "\\n.\\n",
                                                           "result": "accepted-as-end-of-data"}},
        {"id": "security.smuggling.cr-dot-cr", "outcome": {"kind": "end-of-data", "variant": "\\r.\\r",
                                                           "result": "kept-in-message"}}]}
    path = tmp_path / "lenient.json"
    path.write_text(json.dumps(inbound))
    rc, got = run_probe(["pass-bare-lf"], ["relay.eod.lf-dot-lf", "relay.eod.cr-dot-cr"],
                        extra=["--inbound", "lenient=%s" % path])
    assert got["relay.pair.lf-dot-lf[lenient]"][0] == "fail/MUST"
    assert "SMTP smuggling" in got["relay.pair.lf-dot-lf[lenient]"][1]
    assert got["relay.pair.cr-dot-cr[lenient]"] == ("pass", "this hop: passed-raw; lenient: kept-in-message")
    # The careful relay refuses both: no pair.
    rc, got = run_probe([], ["relay.eod.lf-dot-lf"], extra=["--inbound", "lenient=%s" % path])
    assert got["relay.pair.lf-dot-lf[lenient]"][0] == "pass"


@pytest.mark.parametrize("args, message", [
    (["--submit", "nowhere"], "--submit nowhere"),
    (["--submit", "127.0.0.1:1", "--auth", "nocolon"], "--auth nocolon: expected USER:PASSWORD"),
    (["--submit", "127.0.0.1:1", "--only", "relay.nothing"], "--only matches no check"),
    (["--submit", "127.0.0.1:1", "--inbound", "/nonexistent/report.json"], "neither a report file nor HOST:PORT"),
])
def test_usage_errors_exit_2(args, message):
    p = subprocess.run([smtpkit_bin(), "probe", "relay", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr


def test_an_unreachable_relay_exits_2():
    port = servers.free_port()
    p = subprocess.run([smtpkit_bin(), "probe", "relay", "--submit", "127.0.0.1:%d" % port, "--only",
                        "relay.trace"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "cannot be reached" in p.stderr


def test_list_names_every_check():
    p = subprocess.run([smtpkit_bin(), "probe", "relay", "--list"], capture_output=True, text=True, timeout=30)
    ids = [line.split("\t")[1] for line in p.stdout.splitlines()]
    assert len(ids) == 30 and "relay.eod.lf-dot-crlf" in ids and "relay.client-rules" in ids
