"""test_probe_servers.py — `smtpkit probe server` against real servers from
Debian (aiosmtpd, exim -bd and exim -bs, Postfix's smtpd and smtp-sink) and
`smtpkit serve`, each started as peers/probe_targets.py says. The verdicts
below are what these versions gave when run (then read, then pinned); a
change in a server, a scenario or the driver shows up here, and
docs/conformance-matrix.md (scripts/gen_matrix.py) must then be
regenerated: the last test checks that the page agrees with these pins.

Every scenario not listed passes. The end-of-data probes also pin their
outcome ("pass:kept-in-message", "fail/MUST:accepted-as-end-of-data").
Limits: Postfix needs root; a missing server skips its test.
"""
import os
import re

import pytest

from peers import probe_targets

REPO = probe_targets.REPO
MATRIX = os.path.join(REPO, "docs", "conformance-matrix.md")

END_OF_DATA = ["security.data-bare-cr", "security.data-bare-lf", "security.data-nul"] + [
    "security.smuggling." + v for v in ("cr-dot-cr", "cr-dot-crlf", "cr-dot-lf", "crlf-dot-cr", "crlf-dot-lf",
                                        "crlf-dot-nul", "lf-dot-cr", "lf-dot-crlf", "lf-dot-lf", "nul-dot")]
# Unless listed: the variant stayed in the message.
KEPT = {k: "pass:kept-in-message" for k in END_OF_DATA}
# Servers run without AUTH (exim -bs, Postfix without SASL): every AUTH
# scenario is not applicable.
NO_AUTH = {k: "not-applicable" for k in (
    "extensions.auth-cancel", "extensions.auth-in-transaction", "extensions.auth-login",
    "extensions.auth-plain-challenge", "extensions.auth-plain-wrong", "extensions.auth-twice",
    "extensions.auth-unknown-mechanism")}

PINS = {
    'smtpkit-serve': dict(KEPT, **{
        'errors.bdat-unadvertised': 'not-applicable',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-size': 'not-applicable',
        'errors.param-unadvertised-smtputf8': 'not-applicable',
        'security.early-talker': 'not-done',
        'security.open-relay[example.net]': 'fail/SHOULD',
        'security.open-relay[example.org]': 'fail/SHOULD',
    }),
    'aiosmtpd': dict(KEPT, **{
        'basics.help': 'fail/SHOULD',
        'errors.mail-param-unknown': 'fail/SHOULD',
        'errors.mail-syntax': 'not-done',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-size': 'not-applicable',
        'errors.param-unadvertised-smtputf8': 'not-applicable',
        'errors.rcpt-param-unknown': 'fail/SHOULD',
        'errors.rcpt-syntax': 'not-done',
        'extensions.auth-in-transaction': 'fail/MUST',
        'extensions.chunking': 'not-applicable',
        'extensions.chunking-bdat-0-last': 'not-applicable',
        'extensions.chunking-data-after-bdat': 'not-applicable',
        'extensions.dsn': 'not-applicable',
        'extensions.enhancedstatuscodes': 'not-applicable',
        'extensions.pipelining-order': 'not-applicable',
        'extensions.pipelining-transaction': 'not-applicable',
        'extensions.starttls-argument': 'not-applicable',
        'extensions.starttls-second': 'fail/SHOULD',
        'security.bare-lf-command': 'fail/MUST',
        'security.early-talker': 'not-done',
        'security.open-relay[example.net]': 'fail/SHOULD',
        'security.open-relay[example.org]': 'fail/SHOULD',
    }),
    'exim': dict(KEPT, **{
        'basics.ehlo-keywords': 'fail/MUST',
        'errors.bdat-unadvertised': 'not-applicable',
        'errors.mail-param-unknown': 'fail/SHOULD',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-size': 'not-applicable',
        'errors.param-unadvertised-smtputf8': 'not-applicable',
        'errors.rcpt-param-unknown': 'fail/SHOULD',
        'errors.rcpt-syntax': 'not-done',
        'extensions.enhancedstatuscodes': 'not-applicable',
        'security.bare-lf-command': 'fail/MUST',
        'security.early-talker': 'not-done',
        'security.open-relay[example.net]': 'fail/SHOULD',
        'security.open-relay[example.org]': 'fail/SHOULD',
    }),
    'exim-bs': dict(KEPT, **NO_AUTH, **{
        'errors.bdat-unadvertised': 'not-applicable',
        'errors.mail-param-unknown': 'fail/SHOULD',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-size': 'not-applicable',
        'errors.param-unadvertised-smtputf8': 'not-applicable',
        'errors.rcpt-param-unknown': 'fail/SHOULD',
        'errors.rcpt-syntax': 'not-done',
        'extensions.enhancedstatuscodes': 'not-applicable',
        'extensions.starttls': 'not-applicable',
        'extensions.starttls-argument': 'not-applicable',
        'extensions.starttls-reset': 'not-applicable',
        'extensions.starttls-second': 'not-applicable',
        'security.bare-lf-command': 'fail/MUST',
        'security.early-talker': 'not-done',
        'security.starttls-injection': 'not-applicable',
    }),
    'postfix': dict(KEPT, **NO_AUTH, **{
        'errors.bdat-unadvertised': 'not-applicable',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-size': 'not-applicable',
        'errors.param-unadvertised-smtputf8': 'not-applicable',
        'errors.rcpt-syntax': 'not-done',
        'extensions.starttls-reset': 'not-applicable',
        'security.bare-lf-command': 'fail/MUST',
        'security.early-talker': 'not-done',
        'security.nul-command': 'fail/MUST',
        'security.open-relay[example.net]': 'fail/SHOULD',
        'security.open-relay[example.org]': 'fail/SHOULD',
        'security.smuggling.crlf-dot-lf': 'fail/MUST:accepted-as-end-of-data',
        'security.smuggling.lf-dot-crlf': 'fail/MUST:accepted-as-end-of-data',
        'security.smuggling.lf-dot-lf': 'fail/MUST:accepted-as-end-of-data',
    }),
    'smtp-sink': dict(KEPT, **{
        'errors.ehlo-no-argument': 'not-done',
        'errors.mail-param-unknown': 'fail/SHOULD',
        'errors.mail-syntax': 'not-done',
        'errors.param-unadvertised-body': 'not-applicable',
        'errors.param-unadvertised-mt-priority': 'fail/SHOULD',
        'errors.param-unadvertised-size': 'fail/SHOULD',
        'errors.param-unadvertised-smtputf8': 'fail/SHOULD',
        'errors.rcpt-param-unknown': 'fail/SHOULD',
        'errors.rcpt-syntax': 'not-done',
        'extensions.auth-cancel': 'fail/MUST',
        'extensions.auth-in-transaction': 'fail/MUST',
        'extensions.auth-login': 'fail/SHOULD',
        'extensions.auth-plain-challenge': 'fail/SHOULD',
        'extensions.auth-plain-wrong': 'fail/SHOULD',
        'extensions.auth-twice': 'not-applicable',
        'extensions.auth-unknown-mechanism': 'fail/MUST',
        'extensions.chunking': 'not-applicable',
        'extensions.chunking-bdat-0-last': 'not-applicable',
        'extensions.chunking-data-after-bdat': 'not-applicable',
        'extensions.enhancedstatuscodes': 'fail/MUST',
        'extensions.size-declared': 'not-applicable',
        'extensions.size-over-limit': 'not-applicable',
        'extensions.smtputf8': 'not-applicable',
        'extensions.smtputf8-address': 'not-applicable',
        'extensions.starttls': 'not-applicable',
        'extensions.starttls-argument': 'not-applicable',
        'extensions.starttls-reset': 'not-applicable',
        'extensions.starttls-second': 'not-applicable',
        'security.early-talker': 'not-done',
        'security.nul-command': 'fail/MUST',
        'security.open-relay[example.net]': 'fail/SHOULD',
        'security.open-relay[example.org]': 'fail/SHOULD',
        'security.starttls-injection': 'not-applicable',
    }),
}

# The exit status each gives (1: a MUST failure; smtpkit serve fails only
# at SHOULD and MAY).
EXIT = {"smtpkit-serve": 0, "aiosmtpd": 1, "exim": 1, "exim-bs": 1, "postfix": 1, "smtp-sink": 1}

_reports = {}


def report_of(name):
    """Probes `name` once per session (bounded: the probe's own timeouts)."""
    if name not in _reports:
        why = probe_targets.available(name)
        if why:
            pytest.skip(why)
        with probe_targets.running(name) as args:
            _reports[name] = probe_targets.probe(args)
    return _reports[name]


@pytest.mark.parametrize("name", probe_targets.TARGETS)
def test_verdicts_are_the_pinned_ones(name):
    rc, report, err = report_of(name)
    assert report is not None, err
    got = probe_targets.verdicts(report)
    expected = {k: PINS[name].get(k, "pass") for k in got}
    diff = {k: (expected[k], got[k]) for k in got if expected[k] != got[k]}
    assert not diff, "scenario: (pinned, now)\n" + "\n".join("  %s: %s" % kv for kv in sorted(diff.items()))
    assert set(PINS[name]) <= set(got), "pinned scenarios that did not run: %s" % (set(PINS[name]) - set(got))
    assert rc == EXIT[name], err


@pytest.mark.parametrize("name", probe_targets.TARGETS)
def test_the_whole_suite_takes_under_30_seconds(name):
    rc, report, err = report_of(name)
    assert report["elapsed_ms"] < 30000
    assert report["summary"]["error"] == 0, [s["id"] for s in report["scenarios"] if s["verdict"] == "error"]


@pytest.mark.parametrize("name", probe_targets.TARGETS)
def test_every_failure_carries_its_dialogue(name):
    rc, report, err = report_of(name)
    for s in report["scenarios"]:
        if s["verdict"] in ("fail", "not-done"):
            assert s["dialogue"] and s["dialogue"].startswith("# smtpkit client driver"), s["id"]
            assert s["reason"], s["id"]
        else:
            assert s["dialogue"] is None, s["id"]


def test_the_published_matrix_agrees_with_the_pins():
    """docs/conformance-matrix.md is generated from these runs: a row that
    differs from its pin means one of them was not regenerated."""
    with open(MATRIX, encoding="utf-8") as f:
        text = f.read()
    header = re.search(r"^\| scenario \| level \| (.*) \|$", text, re.M)
    names = [n.strip() for n in header.group(1).split("|")]
    assert names == probe_targets.TARGETS
    words = {"pass": "pass", "n/a": "not-applicable", "error": "error", "**FAIL** MUST": "fail/MUST",
             "fail SHOULD": "fail/SHOULD", "fail MAY": "fail/MAY", "not done": "not-done"}
    outcome = {"kept": "kept-in-message", "rejected": "rejected", "ENDED DATA": "accepted-as-end-of-data"}
    rows = 0
    for m in re.finditer(r"^\| \[([^\]]+)\]\([^)]*\)<br>.*? \| (MUST|SHOULD|MAY) \| (.*) \|$", text, re.M):
        sid, cells = m.group(1), [c.strip() for c in m.group(3).split("|")]
        rows += 1
        for name, c in zip(names, cells):
            o = re.match(r"^(.*?)(?: \((kept|rejected|ENDED DATA)\))?$", c)
            verdict = words[o.group(1)] + (":" + outcome[o.group(2)] if o.group(2) else "")
            assert verdict == PINS[name].get(sid, "pass"), (sid, name, c)
    assert rows >= 50
