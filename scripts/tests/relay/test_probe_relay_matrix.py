"""test_probe_relay_matrix.py — `smtpkit probe relay` against real relays:
Debian's Exim and Postfix (peers/relays.py), and `smtpkit serve --route`,
each run as peers/probe_relays.py says, with the smuggling pairs against
the end-of-data results of `probe server` on the inbound servers. The
verdicts below are what these versions gave when run (then read against
the RFC text, then pinned): a change in a relay, a check or the probe shows
up here, and docs/relay-matrix.md (scripts/gen_relay_matrix.py) must then
be regenerated; the last test checks that the page is what these runs
produce.

Every check not listed passes (the pairs included). Limits: root (exim's
private configuration, Postfix's master); a relay that cannot run skips
its tests, and the page is then compared only in the columns that ran.
The file takes about three minutes (the inbound probes, then three relays
with their queue runs and retries, one after the other).
"""
import difflib
import importlib.util
import os

import pytest

from peers import probe_relays, probe_targets

REPO = probe_relays.REPO
MATRIX = os.path.join(REPO, "docs", "relay-matrix.md")

NUL = {
    "relay.eod.crlf-dot-nul": "fail/SHOULD:passed-altered",  # the dot unstuffed, the NUL kept
    "relay.eod.nul-dot": "fail/SHOULD:passed-raw",
}
PINS = {
    "smtpkit-serve": {},
    "exim": dict(NUL, **{
        "relay.8bit.declared": "fail/MUST",  # 8-bit data, no BODY=8BITMIME (RFC 6152 §3)
        "relay.8bit.to-7bit-hop": "fail/MUST",  # and to a hop without 8BITMIME
        "relay.smtputf8.to-ascii-hop": "fail/MUST",  # local part rewritten to xn--..., sent without SMTPUTF8
        "relay.8bit.binarymime": "not-applicable",
        "relay.envelope.dsn-parameters": "not-applicable",  # no DSN offered (Debian's default)
        "relay.client-rules": "fail/MUST",  # client.data.eight-bit
    }),
    "postfix": dict(NUL, **{
        # smtpd_forbid_bare_newline = no (3.7's default): bare LF ends lines, so these end the data.
        "relay.eod.lf-dot-lf": "fail/MUST:ended-data-at-relay",
        "relay.eod.lf-dot-crlf": "fail/MUST:ended-data-at-relay",
        "relay.eod.crlf-dot-lf": "fail/MUST:ended-data-at-relay",
        "relay.smtputf8.to-ascii-hop": "error",  # returned with an SMTPUTF8 notification that cannot come back
        "relay.8bit.binarymime": "not-applicable",
        "relay.client-rules": "fail/MUST",  # client.session.no-quit: the connection cache closes without QUIT
    }),
}
REASONS = {
    ("exim", "relay.smtputf8.to-ascii-hop"): "xn--",
    ("exim", "relay.client-rules"): "client.data.eight-bit",
    ("postfix", "relay.client-rules"): "client.session.no-quit",
    ("postfix", "relay.smtputf8.to-ascii-hop"): "cannot come back over the 7-bit sink",
}


@pytest.fixture(scope="module")
def inbound(tmp_path_factory):
    d = tmp_path_factory.mktemp("inbound")
    reports = probe_relays.inbound_reports(str(d))
    versions = {n: probe_targets.version(n) for n in reports}
    return reports, versions


RUNS = {}


@pytest.mark.parametrize("name", probe_relays.RELAYS)
def test_relay_verdicts(name, inbound):
    why = probe_relays.available(name)
    if why:
        pytest.skip(why)
    reports, _ = inbound
    rc, report, err, seconds = probe_relays.probe(name, reports)
    assert report is not None, err
    RUNS[name] = {"version": probe_relays.version(name), "how": probe_relays.HOW[name], "report": report}
    got = probe_relays.verdicts(report)
    why = probe_relays.reasons(report)
    expected = {k: "pass" for k in got}
    for k, v in got.items():  # the end-of-data outcomes of passing checks are theirs to say
        if v.startswith("pass:"):
            expected[k] = v
    expected.update(PINS[name])
    diff = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    assert not diff, {k: (g, e, why.get(k, "")[:200]) for k, (g, e) in diff.items()}
    for (relay, check), phrase in REASONS.items():
        if relay == name:
            assert phrase in why[check], (check, why[check])
    # One set of pairs per inbound server that ran.
    assert sum(1 for k in got if k.startswith("relay.pair.")) == 10 * len(reports)
    assert rc == (1 if any(v.startswith("fail/MUST") or v == "error" for v in got.values()) else 0)


def test_the_page_is_what_these_runs_give(inbound):
    if set(RUNS) != set(probe_relays.RELAYS):
        pytest.skip("not every relay ran here")
    spec = importlib.util.spec_from_file_location("gen_relay_matrix", os.path.join(REPO, "scripts",
                                                                                   "gen_relay_matrix.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    _, versions = inbound
    page = gen.render(RUNS, versions)
    with open(MATRIX, encoding="utf-8") as f:
        published = f.read()
    assert page == published, "docs/relay-matrix.md is stale (scripts/gen_relay_matrix.py):\n" + "".join(
        difflib.unified_diff(published.splitlines(True), page.splitlines(True), "published", "now", n=1))
