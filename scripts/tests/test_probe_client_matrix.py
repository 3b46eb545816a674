"""test_probe_client_matrix.py — `smtpkit probe client` against real SMTP
clients (curl, swaks, msmtp, s-nail, exim from Debian; Python's smtplib used
with care; Nodemailer from npm), each run as peers/probe_clients.py says,
once per session with -j4. The verdicts below are what these versions gave
when run (then read, then pinned): a change in a client, a scenario or the
probe shows up here, and docs/client-matrix.md (scripts/gen_client_matrix.py)
must then be regenerated; the last test checks that the page is what these
runs produce.

Every scenario not listed passes. A pin is "VERDICT PHRASE": the verdict
("fail/MUST", "fail/SHOULD", "not-done", "error", ...) and a phrase the
report's reason must contain (the rule that failed, or the expectation). An
"error" (the client did not connect or exit in time) must also be explained
in ERRORS; UNSTABLE lists the verdicts known to vary between runs, with the
other verdict a run may give. Limits: exim needs root; a client that is not
installed skips its tests, and the page is then compared only in the
columns that ran. The whole file takes about two minutes (seven runs of
10-25 s, one after the other).
"""
import difflib
import importlib.util
import os
import re

import pytest

from peers import probe_clients

REPO = probe_clients.REPO
MATRIX = os.path.join(REPO, "docs", "client-matrix.md")

# No client is given credentials or speaks implicit TLS.
COMMON = {k: "not-applicable" for k in (
    "auth.cancel", "auth.cram-md5-only", "auth.failure-535", "auth.login-odd-challenge", "auth.mechanism-offered",
    "auth.twice", "security.auth-before-tls", "security.no-starttls-in-tls")}
# Clients that require TLS: the dialogues that offer no STARTTLS do not apply.
REQUIRES_TLS = dict(COMMON, **{k: "not-applicable" for k in (
    "greeting.ehlo-500-helo", "greeting.ehlo-502-helo", "greeting.ehlo-many-lines",
    "greeting.ehlo-unknown-keywords", "greeting.no-extensions", "pipelining.offered-mixed-case")})
# Opportunistic STARTTLS: STARTTLS refused or stripped is for clients that require it.
OPPORTUNISTIC = dict(COMMON, **{k: "not-applicable" for k in (
    "security.starttls-refused-454", "security.starttls-refused-502", "security.starttls-stripped")})

NO_QUIT = "fail/MUST client.session.no-quit"
EIGHT_BIT = "fail/MUST client.data.eight-bit"
BARE_CR = "fail/MUST client.data.bare-cr"
LONG_LINE = "fail/SHOULD client.data.line-too-long"
SIZE_SENT = "not-done inside TLS (forbidden here"  # a MAY: the data went to a server whose SIZE it exceeds
UTF8_RAW = "fail/MUST client.smtputf8.eight-bit"  # a UTF-8 address sent though SMTPUTF8 was not offered
UTF8_UNDECLARED = "fail/MUST client.smtputf8.not-requested"  # offered, but no SMTPUTF8 on MAIL

PINS = {
    "curl": dict(REQUIRES_TLS, **{
        "data.bare-cr": BARE_CR,  # the file's bare CR goes out raw
        "data.bare-lf": BARE_CR,  # --crlf turns the file's CRLF into CR CR LF: a bare CR
        "data.eight-bit-declared": EIGHT_BIT,  # curl never says BODY=8BITMIME
        "data.eight-bit-no-8bitmime": EIGHT_BIT,
        "data.long-line": LONG_LINE,
        "data.smuggling-sequence": BARE_CR,
        "data.utf8-address-no-smtputf8": UTF8_RAW,
        "greeting.reject-554": NO_QUIT,  # 554 greeting: closes without QUIT
    }),
    "swaks": dict(REQUIRES_TLS, **{
        "data.bare-cr": BARE_CR,
        "data.eight-bit-declared": EIGHT_BIT,
        "data.eight-bit-no-8bitmime": EIGHT_BIT,
        "data.long-line": LONG_LINE,
        "data.size-too-small": SIZE_SENT,
        "data.smuggling-sequence": BARE_CR,
        "data.utf8-address-no-smtputf8": UTF8_RAW,
        "data.utf8-address-smtputf8": UTF8_UNDECLARED,
        # one recipient refused: delivered to the other, exit 0
        "errors.rcpt-452-too-many": "fail/SHOULD no message reached rcpt2@example.test",
        "errors.rcpt-550-some": "fail/SHOULD no message reached rcpt@example.test",
        "replies.code-only": "fail/MUST the client did not exit",  # waits for more after a bare "250"
        "replies.unknown-code": "fail/MUST the client named no recipient",  # 299 to MAIL taken for a failure
        "security.cert-mismatch": 'fail/MUST the client sent "EHLO client.smtpkit.test" inside TLS',  # no name check
        # the injected 250 read with the 220 to STARTTLS is taken as the
        # reply to EHLO inside TLS: every reply after it is one off
        "security.starttls-injection": "fail/MUST client.starttls.injected-reply",
    }),
    "msmtp": dict(REQUIRES_TLS, **{
        "data.bare-cr": BARE_CR,
        "data.eight-bit-declared": EIGHT_BIT,
        "data.eight-bit-no-8bitmime": EIGHT_BIT,
        "data.long-line": LONG_LINE,
        "data.size-too-small": SIZE_SENT,
        "data.smuggling-sequence": BARE_CR,
        "data.utf8-address-no-smtputf8": UTF8_RAW,
        "data.utf8-address-smtputf8": UTF8_UNDECLARED,
        "errors.eod-451": NO_QUIT,
        "errors.eod-552": NO_QUIT,
        "errors.eod-554": NO_QUIT,
        "greeting.reject-554": NO_QUIT,
        "replies.code-only": "fail/MUST no message reached rcpt@example.test",  # "invalid reply" to a bare 250
        "replies.unknown-code": "fail/MUST no message reached rcpt@example.test",  # 299 to MAIL: "not accepted"
    }),
    "s-nail": dict(REQUIRES_TLS, **{
        "data.bare-lf": BARE_CR,  # the file's CRLF line goes out as CR CR LF
        "data.size-too-small": SIZE_SENT,
        "errors.eod-451": NO_QUIT,
        "errors.eod-552": NO_QUIT,
        "errors.eod-554": NO_QUIT,
        "greeting.reject-554": NO_QUIT,
        "replies.code-only": "fail/MUST the client named no recipient",  # "Unexpected EOF" on a bare 250
        "security.ehlo-after-starttls": "fail/SHOULD client.starttls.ehlo-first",  # HELO after STARTTLS
        "security.starttls-injection": "fail/SHOULD client.starttls.ehlo-first",
    }),
    "smtplib": dict(REQUIRES_TLS),
    "exim": dict(OPPORTUNISTIC, **{
        # exim sends what it is given; it declares no BODY=8BITMIME for a
        # message handed to it on the command line and does no 8-to-7-bit conversion
        "data.eight-bit-declared": EIGHT_BIT,
        "data.eight-bit-no-8bitmime": EIGHT_BIT,
        "data.size-too-small": SIZE_SENT,
        "greeting.ehlo-many-lines": "fail/SHOULD the client named no recipient",  # "Malformed SMTP reply"
    }),
    "nodemailer": dict(OPPORTUNISTIC, **{
        "data.eight-bit-no-8bitmime": EIGHT_BIT,
        "data.long-line": LONG_LINE,
        "data.size-too-small": SIZE_SENT,
        "data.utf8-address-no-smtputf8": UTF8_RAW,
        # its SMTP transport closes the connection after the reply to the
        # data, never QUIT
        "ending.delivered-exit": NO_QUIT,
        "ending.quit": NO_QUIT,
        "ending.slow-221": NO_QUIT,
        "errors.eod-451": NO_QUIT,
        "errors.eod-552": NO_QUIT,
        "errors.eod-554": NO_QUIT,
        "greeting.reject-554": NO_QUIT,
        "replies.slow-end-of-data": NO_QUIT,
    }),
}

# Why a pinned "error" is one (the probe could not judge the scenario).
ERRORS = {}

# Verdicts that vary from run to run, with the other one a run may give
# (the pin above is the one the page shows).
UNSTABLE = {
    # swaks 20201014 acts on the line injected after the 220 to STARTTLS in
    # nearly every run (fail, the pin); one run of the file in three, on a
    # quiet machine, gave pass with no finding at all: swaks did not send
    # its next command before the real EHLO reply. 15 direct runs of the
    # suite (-j1 and -j4) all failed as pinned; what differs in the others
    # is timing between the two (the injected line is one write with the
    # 220), not yet pinned down.
    ("swaks", "security.starttls-injection"): "pass",
}

# Each client's run, with -j4, in seconds (two busy cores).
MAX_SECONDS = 60

_runs = {}


def run_of(name):
    """Probes `name` once per session: (returncode, report, stderr, seconds)."""
    if name not in _runs:
        why = probe_clients.available(name)
        if why:
            pytest.skip(why)
        _runs[name] = probe_clients.probe(name)
    return _runs[name]


def split(pin):
    verdict, _, phrase = pin.partition(" ")
    return verdict, phrase


def matches(pin, verdict, reason):
    expected, phrase = split(pin)
    return verdict == expected and phrase in reason


def deviations(name, report, allow_unstable=True):
    """{scenario: (pin, what the run gave)} where the run differs from its pin."""
    got, why = probe_clients.verdicts(report), probe_clients.reasons(report)
    out = {}
    for sid, verdict in got.items():
        pin = PINS[name].get(sid, "pass")
        if matches(pin, verdict, why[sid]):
            continue
        if allow_unstable and (name, sid) in UNSTABLE and matches(UNSTABLE[(name, sid)], verdict, why[sid]):
            continue
        out[sid] = (pin, "%s (%s)" % (verdict, why[sid][:160]))
    return out


@pytest.mark.parametrize("name", probe_clients.CLIENTS)
def test_verdicts_are_the_pinned_ones(name):
    rc, report, err, seconds = run_of(name)
    assert report is not None, err
    got = probe_clients.verdicts(report)
    diff = deviations(name, report)
    assert not diff, "scenario: (pinned, now)\n" + "\n".join("  %s: %s" % kv for kv in sorted(diff.items()))
    assert set(PINS[name]) <= set(got), "pinned scenarios that did not run: %s" % (set(PINS[name]) - set(got))
    failing = any(v.startswith("fail/MUST") or v == "error" for v in got.values())
    assert rc == (1 if failing else 0), err


@pytest.mark.parametrize("name", probe_clients.CLIENTS)
def test_no_error_without_a_reason(name):
    rc, report, err, seconds = run_of(name)
    errors = [s["id"] for s in report["scenarios"] if s["verdict"] == "error"]
    unexplained = [sid for sid in errors if (name, sid) not in ERRORS]
    assert not unexplained, "errors nobody explained: %s" % {sid: probe_clients.reasons(report)[sid]
                                                              for sid in unexplained}


@pytest.mark.parametrize("name", probe_clients.CLIENTS)
def test_the_run_takes_under_a_minute(name):
    rc, report, err, seconds = run_of(name)
    assert seconds < MAX_SECONDS, "%s took %.1f s" % (name, seconds)


@pytest.mark.parametrize("name", probe_clients.CLIENTS)
def test_every_failure_carries_its_dialogue(name):
    rc, report, err, seconds = run_of(name)
    for s in report["scenarios"]:
        if s["verdict"] in ("fail", "not-done"):
            assert s["dialogue"] and s["reason"], s["id"]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_client_matrix",
                                                  os.path.join(REPO, "scripts", "gen_client_matrix.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_published_matrix_is_what_the_runs_produce():
    """docs/client-matrix.md is generated from these runs: with every client
    here, the page must be the one scripts/gen_client_matrix.py writes now;
    otherwise the columns that ran must show their pinned verdicts."""
    with open(MATRIX, encoding="utf-8") as f:
        text = f.read()
    ran = {}
    for name in probe_clients.CLIENTS:
        if probe_clients.available(name) is None:
            rc, report, err, seconds = run_of(name)
            ran[name] = report
    # The exact page only from runs that gave every pinned verdict (not one
    # of the UNSTABLE alternatives): the cells below are checked anyway.
    if len(ran) == len(probe_clients.CLIENTS) and not any(deviations(n, ran[n], False) for n in ran):
        saved = {n: {"version": probe_clients.version(n),
                     "flags": probe_clients.probe_args(n)[:probe_clients.probe_args(n).index("--")],
                     "how": probe_clients.SPEC[n]["how"], "report": ran[n]} for n in ran}
        page = _generator().render(saved)
        if page != text:
            delta = difflib.unified_diff(text.splitlines(), page.splitlines(), "docs/client-matrix.md", "now",
                                         lineterm="", n=0)
            pytest.fail("docs/client-matrix.md differs from the runs (scripts/gen_client_matrix.py):\n"
                        + "\n".join(list(delta)[:60]))
    header = re.search(r"^\| scenario \| level \| (.*) \|$", text, re.M)
    names = [n.strip() for n in header.group(1).split("|")]
    assert names == probe_clients.CLIENTS
    words = {"pass": "pass", "n/a": "not-applicable", "error": "error", "**FAIL** MUST": "fail/MUST",
             "fail SHOULD": "fail/SHOULD", "fail MAY": "fail/MAY", "not done": "not-done"}
    rows = 0
    for m in re.finditer(r"^\| ([a-z0-9.\-\[\]]+)<br>.*? \| (MUST|SHOULD|MAY) \| (.*) \|$", text, re.M):
        sid, cells = m.group(1), [c.strip() for c in m.group(3).split("|")]
        rows += 1
        for name, c in zip(names, cells):
            if name in ran:
                assert words[c] == split(PINS[name].get(sid, "pass"))[0], (sid, name, c)
    assert rows == len(next(iter(ran.values()))["scenarios"]) if ran else rows > 0
