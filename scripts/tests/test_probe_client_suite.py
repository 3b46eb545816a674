"""test_probe_client_suite.py — every scenario of the client suite
(conformance/client/) is proved able to fail, and the careful client
passes it.

TABLE names, for each scenario `smtpkit probe client --list` prints, a
set-up of peers/flawed_client.py and the break that fails it (two are
allowed where one cannot do it; none needs two today). Three kinds of
test:

- the table covers the suite exactly: a new scenario without a proof, or a
  row for a scenario that is gone, fails here;
- one `probe client` run per set-up of the careful client over that
  set-up's scenarios: every one is `pass` (not applicable is not: the
  set-up is chosen so that the scenario applies);
- one run per (set-up, breaks) over its scenarios: every one is `fail`
  (`not-done` for a MAY scenario, RFC 2119 §5: its failure is reported so),
  and, where it says something, the reason names the rule or phrase
  expected, and the client's own last words show the break did it.

The runs go at once (a few `probe client` processes, each -j 4) in a
module fixture, longest first; the tests read their results. Bounded: each
run has a timeout, and every client has --timeout 8 (3 in the quick
set-up), so a client that hangs on a break still exits inside the
scenario's time and the verdict is a fail, never an error.
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from peers import probe_targets
from peers.flawed_client import BREAKS

BIN = probe_targets.smtpkit_bin()
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "flawed_client.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
RUN_TIMEOUT = 150  # seconds, one `probe client` run
PARALLEL_RUNS = 3

pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="no smtpkit binary at %s" % BIN)

# --verbose: the report keeps the tail of the client's stderr, so a failure
# here shows the last lines of the dialogue before the client's reason.
CLIENT_ARGS = ["--host", "{host}", "--port", "{port}", "--message", "{message}", "--from", "{from}",
               "--to", "{rcpt}", "--to", "{rcpt2}", "--cafile", "{ca}", "--verbose"]
AUTH = "probe-user:probe-password"

# set-up -> (probe client flags, flawed_client flags)
SETUPS = {
    "starttls": (["--client-verifies-cert"], ["--tls", "starttls", "--timeout", "8"]),
    # A client that waits for a reply that never comes gives up within the
    # scenario's own @timeout (data.no-final-line-end: 10 s).
    "starttls-quick": (["--client-verifies-cert"], ["--tls", "starttls", "--timeout", "3"]),
    "auth": (["--client-verifies-cert", "--client-auth", AUTH],
             ["--tls", "starttls", "--auth", "{user}:{password}", "--timeout", "8"]),
    "chunking": (["--client-verifies-cert"], ["--tls", "starttls", "--chunking", "--timeout", "8"]),
    "required-auth": (["--client-verifies-cert", "--client-requires-tls", "--client-auth", AUTH],
                      ["--tls", "required", "--auth", "{user}:{password}", "--timeout", "8"]),
    "implicit": (["--client-verifies-cert", "--client-implicit-tls"], ["--tls", "implicit", "--timeout", "8"]),
}

EXIT_0 = "exited with status 0"
NOT_REPORTED = "the loss was not reported"

# scenario -> (set-up, breaks, a phrase of the verdict's reason or None,
#              a phrase of the client's output or None)
TABLE = {
    # AUTH
    "auth.cram-md5-only": ("auth", ("auth-unadvertised",), "client.auth.mechanism-unadvertised", None),
    "auth.failure-535": ("auth", ("always-succeed",), EXIT_0, "AUTH PLAIN refused: 535"),
    "auth.login-odd-challenge": ("auth", ("strict-login-prompts",), None, "AUTH LOGIN: the challenge"),
    "auth.mechanism-offered": ("auth", ("auth-unadvertised",), "client.auth.mechanism-unadvertised", None),
    "auth.required-530": ("starttls", ("ignore-mail-error",), "client.sequence.rcpt-without-mail", None),
    "auth.twice": ("auth", ("auth-twice",), "client.auth.twice", None),
    "auth.cancel": ("auth", ("no-auth-cancel",), "expected C: *", None),
    # Data
    "data.bare-cr": ("starttls", ("raw-line-ends",), "client.data.bare-cr", None),
    "data.bare-lf": ("starttls", ("raw-line-ends",), "client.data.bare-lf", None),
    "data.chunking": ("chunking", ("bdat-size",), None, None),
    "data.chunking-not-offered": ("chunking", ("bdat-unadvertised",), "client.bdat.unadvertised", None),
    "data.dot-stuffing": ("starttls", ("no-dot-stuff",), "the message arrived changed", None),
    "data.eight-bit-declared": ("starttls", ("undeclared-8bit",), "client.data.eight-bit", None),
    "data.eight-bit-no-8bitmime": ("starttls", ("undeclared-8bit",), "client.data.eight-bit", None),
    "data.lone-dot-first": ("starttls", ("no-dot-stuff",), "the message arrived changed", None),
    "data.long-line": ("starttls", ("long-lines",), "client.data.line-too-long", None),
    "data.utf8-address-no-smtputf8": ("starttls", ("undeclared-utf8",), "client.smtputf8.eight-bit", None),
    "data.utf8-address-smtputf8": ("starttls", ("undeclared-utf8",), "client.smtputf8.not-requested", None),
    "data.no-final-line-end": ("starttls-quick", ("no-final-crlf",), "no message reached", "no reply within 3 s"),
    "data.size-too-small": ("starttls", ("ignore-size",), 'sent "DATA"', None),  # a MAY: not-done
    "data.smuggling-sequence": ("starttls", ("raw-line-ends",), "client.data.", None),
    # Ending
    "ending.delivered-exit": ("starttls", ("no-quit",), "client.session.no-quit", None),
    "ending.quit": ("starttls", ("no-quit",), "client.session.no-quit", None),
    "ending.server-closes-after-221": ("starttls", ("close-is-failure",), "exited with status 1",
                                       "closed the connection after QUIT"),
    "ending.slow-221": ("starttls", ("no-quit",), "client.session.no-quit", None),
    # Errors
    "errors.close-after-ehlo": ("starttls", ("always-succeed",), EXIT_0, "closed the connection"),
    "errors.close-before-reply": ("starttls", ("always-succeed",), EXIT_0, "closed the connection"),
    "errors.data-421": ("starttls", ("always-succeed",), EXIT_0, "closing the session: 421"),
    "errors.data-451": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    "errors.data-554": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    "errors.eod-421": ("starttls", ("always-succeed",), EXIT_0, "closing the session: 421"),
    "errors.eod-451": ("starttls", ("always-succeed",), EXIT_0, "message refused: 451"),
    "errors.eod-552": ("starttls", ("always-succeed",), EXIT_0, "message refused: 552"),
    "errors.eod-554": ("starttls", ("always-succeed",), EXIT_0, "message refused: 554"),
    "errors.mail-421": ("starttls", ("always-succeed",), EXIT_0, "closing the session: 421"),
    "errors.mail-451": ("starttls", ("ignore-mail-error",), "client.sequence.rcpt-without-mail", None),
    "errors.mail-550": ("starttls", ("ignore-mail-error",), "client.sequence.rcpt-without-mail", None),
    "errors.rcpt-421": ("starttls", ("always-succeed",), EXIT_0, "closing the session: 421"),
    "errors.rcpt-452-too-many": ("starttls", ("no-452-retry",), NOT_REPORTED, None),
    "errors.rcpt-550-some": ("starttls", ("quiet-partial",), NOT_REPORTED, None),
    "errors.rcpt-all-refused": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    # Greeting
    "greeting.delayed": ("starttls", ("impatient",), None, "no reply within 2 s"),
    "greeting.ehlo-500-helo": ("starttls", ("no-helo-fallback",), "client.sequence.no-ehlo", None),
    "greeting.ehlo-502-helo": ("starttls", ("no-helo-fallback",), "client.sequence.no-ehlo", None),
    # first-line-only puts the client out of step: which rule or expectation
    # shows it first depends on when the replies arrive, so no phrase.
    "greeting.ehlo-many-lines": ("starttls", ("first-line-only",), None, None),
    "greeting.ehlo-unknown-keywords": ("starttls", ("no-lockstep",), "client.sequence.lockstep", None),
    "greeting.multiline": ("starttls", ("first-line-only",), None, None),
    "greeting.no-extensions": ("starttls", ("no-lockstep",), "client.sequence.lockstep", None),
    "greeting.reject-554": ("starttls", ("no-quit",), "client.session.no-quit", None),
    "greeting.split": ("starttls", ("one-read-replies",), None, "malformed reply line"),
    "greeting.unavailable-421": ("starttls", ("always-succeed",), EXIT_0, "closing the session: 421"),
    # Pipelining
    "pipelining.not-offered": ("starttls", ("no-lockstep",), "client.sequence.lockstep", None),
    "pipelining.offered": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    "pipelining.offered-mixed-case": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    "pipelining.rcpt-refused-in-group": ("starttls", ("pipeline-data",), "client.data.before-354", None),
    "pipelining.replies-together": ("starttls", ("one-read-replies",), "no message reached", None),
    # Replies
    "replies.code-only": ("starttls", ("strict-reply-text",), "no message reached", "a reply line without text"),
    "replies.eight-bit-text": ("starttls", ("strict-reply-text",), "no message reached", "8-bit octets in a reply"),
    "replies.multiline-everywhere": ("starttls", ("first-line-only",), None, None),
    "replies.slow-end-of-data": ("starttls", ("impatient",), "exited with status 1", "no reply within 2 s"),
    "replies.slow-rcpt": ("starttls", ("impatient",), "no message reached", "no reply within 2 s"),
    "replies.split-octets": ("starttls", ("one-read-replies",), "no message reached", "malformed reply line"),
    "replies.unknown-code": ("starttls", ("exact-codes",), "no message reached", "MAIL refused (299"),
    # Security
    "security.auth-before-tls": ("required-auth", ("auth-in-clear",), "before TLS", None),
    "security.cert-mismatch": ("starttls", ("no-verify",), "inside TLS", None),
    "security.cert-trusted": ("starttls", ("cn-only",), None, "the subject CN"),
    "security.cert-untrusted": ("starttls", ("no-verify",), "inside TLS", None),
    "security.ehlo-after-starttls": ("starttls", ("no-ehlo-after-tls",), "client.starttls.ehlo-first", None),
    "security.no-starttls-in-tls": ("implicit", ("starttls-twice",), "client.starttls.in-tls", None),
    # starttls-keep-buffer is not seen here (the server reads the client's
    # next command only after its paused EHLO reply); the scenario's other
    # rule is.
    "security.starttls-injection": ("starttls", ("no-ehlo-after-tls",), "client.starttls.ehlo-first", None),
    "security.starttls-refused-454": ("required-auth", ("tls-downgrade",), "before TLS", None),
    "security.starttls-refused-502": ("required-auth", ("tls-downgrade",), "before TLS", None),
    "security.starttls-stripped": ("required-auth", ("tls-downgrade",), "before TLS", None),
}

SLOW_BREAKS = {"impatient", "one-read-replies", "no-final-crlf"}  # runs that wait for timeouts


def groups():
    """(set-up, breaks) -> [scenario], in table order."""
    out = {}
    for sid, (setup, breaks, _, _) in TABLE.items():
        out.setdefault((setup, breaks), []).append(sid)
    return out


def setups():
    out = {}
    for sid, (setup, _, _, _) in TABLE.items():
        out.setdefault(setup, []).append(sid)
    return out


def probe(setup, breaks, ids):
    """One `probe client` run: {scenario id: its JSON result}."""
    probe_flags, client_flags = SETUPS[setup]
    only = [x for sid in ids for x in ("--only", sid)]
    broken = [x for name in breaks for x in ("--break", name)]
    argv = [BIN, "probe", "client", *probe_flags, "-j", "4", "--format", "json", *only, "--",
            PYTHON, CLIENT, *CLIENT_ARGS, *client_flags, *broken]
    p = subprocess.run(argv, capture_output=True, timeout=RUN_TIMEOUT)
    assert p.returncode in (0, 1), (argv, p.returncode, p.stderr.decode("utf-8", "replace"))
    return {s["id"]: s for s in json.loads(p.stdout)["scenarios"]}


@pytest.fixture(scope="module")
def listed():
    """{scenario id: level} from --list."""
    p = subprocess.run([BIN, "probe", "client", "--list"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = [line.split("\t") for line in p.stdout.decode().splitlines() if line.strip()]
    return {row[1]: row[2] for row in rows}


@pytest.fixture(scope="module")
def runs():
    """Every run at once: ("careful", set-up) and (set-up, breaks) -> the
    run's results, or the exception it raised."""
    jobs = [("careful", setup, (), ids) for setup, ids in setups().items()]
    jobs += [("broken", setup, breaks, ids) for (setup, breaks), ids in groups().items()]
    # Longest first: the big careful run, then the runs that wait for timeouts.
    jobs.sort(key=lambda j: (j[0] != "careful" or len(j[3]) < 10, not SLOW_BREAKS & set(j[2])))

    def one(job):
        try:
            return probe(*job[1:])
        except Exception as e:  # reported by the test that reads it
            return e

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        results = list(pool.map(one, jobs))
    return {(kind, setup, breaks): r for (kind, setup, breaks, _), r in zip(jobs, results)}


def result(runs, key):
    r = runs[key]
    if isinstance(r, Exception):
        raise r
    return r


def test_the_table_covers_every_scenario(listed):
    missing = sorted(set(listed) - set(TABLE))
    gone = sorted(set(TABLE) - set(listed))
    assert not missing, "scenarios with no break that fails them: %s" % missing
    assert not gone, "rows for scenarios the suite no longer has: %s" % gone


def test_the_table_names_real_breaks_and_set_ups():
    for sid, (setup, breaks, _, _) in TABLE.items():
        assert setup in SETUPS, sid
        assert 1 <= len(breaks) <= 2 and set(breaks) <= set(BREAKS), (sid, breaks)


@pytest.mark.parametrize("setup", sorted(setups()))
def test_the_careful_client_passes(runs, setup):
    got = result(runs, ("careful", setup, ()))
    want = setups()[setup]
    assert sorted(got) == sorted(want), "probe ran other scenarios than asked"
    bad = {sid: (got[sid]["verdict"], got[sid].get("reason", ""), got[sid].get("client", {}).get("output", ""))
           for sid in want if got[sid]["verdict"] != "pass"}
    assert not bad, bad


@pytest.mark.parametrize("setup,breaks", sorted(groups()),
                         ids=["%s+%s" % (setup, "+".join(breaks)) for setup, breaks in sorted(groups())])
def test_the_break_fails_its_scenarios(runs, listed, setup, breaks):
    got = result(runs, ("broken", setup, breaks))
    want = groups()[(setup, breaks)]
    assert sorted(got) == sorted(want), "probe ran other scenarios than asked"
    for sid in want:
        s = got[sid]
        reason, output = s.get("reason", ""), s.get("client", {}).get("output", "")
        # RFC 2119 §5: the failure of a MAY scenario is reported as not-done,
        # unless a finding of a stricter rule it checks failed it.
        verdict = "not-done" if listed.get(sid) == "MAY" and s.get("failed_level") == "MAY" else "fail"
        assert s["verdict"] == verdict, (sid, s["verdict"], reason, output)
        _, _, in_reason, in_output = TABLE[sid]
        assert in_reason is None or in_reason in reason, (sid, reason)
        assert in_output is None or in_output in output, (sid, output)
