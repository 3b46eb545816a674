"""The relays `smtpkit probe relay` is run against, and the inbound servers
whose end-of-data results make the smuggling pairs.

In tests (scripts/tests/test_probe_relay_matrix.py) and for
docs/relay-matrix.md (scripts/gen_relay_matrix.py): how each relay is
started with its route to the probe's sink, and how each inbound server's
`probe server --only security.smuggling` report is made. One place, so the
pinned verdicts and the published matrix come from the same runs.

  smtpkit-serve  `smtpkit serve --route sink.test=SINK` (the mock server as a
                 relay, --relay-retry 1)
  exim           Debian's Exim as a relay (peers/relays.py: manualroute to
                 the sink, a queue run every 5 s)
  postfix        Postfix under its own master as a relay (peers/relays.py:
                 transport_maps to the sink, backoff 5-10 s)

Inbound servers (peers/probe_targets.py, as the conformance matrix runs
them): aiosmtpd, exim, postfix, smtp-sink, smtpkit-serve.

Every relay listens on 127.0.0.1 at a port chosen at run time; the sink's
port is one that was free a moment before the relay is started (the relay
must be told it before the probe starts).
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import time

from . import postfix, probe_clients, probe_targets, relays, servers

REPO = servers.REPO
DOMAIN = "sink.test"
RELAYS = ["smtpkit-serve", "exim", "postfix"]
INBOUNDS = ["aiosmtpd", "exim", "postfix", "smtp-sink", "smtpkit-serve"]
# The probe's waits: long enough for a queue run (exim 5 s, postfix 2 s)
# and a retry after a 451 (exim 5-10 s, postfix 5-7 s).
WAIT = 30
RETRY_WAIT = 45


def smtpkit_bin():
    return probe_targets.smtpkit_bin()


def available(name):
    """None when the relay can run here, else why not."""
    if name == "smtpkit-serve":
        return probe_targets.available(name)
    if name == "exim":
        return None if relays.exim_available() else "exim4 cannot run here"
    if name == "postfix":
        return None if relays.postfix_available() else "Postfix needs root and .deps/postfix (scripts/setup.sh)"
    return "unknown relay %s" % name


def version(name):
    if name == "smtpkit-serve":
        return probe_targets.version(name)
    if name == "exim":
        return probe_targets.version("exim")
    if name == "postfix":
        return "Postfix " + postfix.version()
    return "?"


HOW = {
    "smtpkit-serve": "`smtpkit serve --route sink.test=SINK --relay-retry 1`",
    "exim": "exim4 -bdf -q5s, private configuration: manualroute for sink.test to the sink, retry `F,10m,5s`",
    "postfix": "master + smtpd, `relay_domains = sink.test`, transport_maps to the sink, backoff 5-10 s",
}


class _ServeRelay:
    """`smtpkit serve` relaying sink.test to the sink; its console goes to a
    file (read for the port), so a relay that says much never blocks."""

    def __init__(self, sink_port):
        self.workdir = servers.make_workdir("serve-relay")
        self.log = os.path.join(self.workdir, "stderr.txt")
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [smtpkit_bin(), "serve", "--listen", "127.0.0.1:0", "--hostname", "relay-smtpkit.test", "--route",
                 "%s=127.0.0.1:%d" % (DOMAIN, sink_port), "--relay-retry", "1", "--maildir",
                 os.path.join(self.workdir, "maildir")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        self.port = None
        deadline = time.monotonic() + 15
        while self.port is None and time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.log, "rb") as f:
                m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise servers.PeerError("smtpkit serve did not start")
        self.address = "127.0.0.1:%d" % self.port

    def stop(self):
        servers.stop_process(self.proc)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def running(name, sink_port):
    """Yields the relay's address ("127.0.0.1:PORT"), routing DOMAIN to the sink."""
    if name == "smtpkit-serve":
        r = _ServeRelay(sink_port)
        try:
            yield r.address
        finally:
            r.stop()
    elif name == "exim":
        with relays.start_exim_relay(sink_port, domain=DOMAIN) as r:
            yield r.address
    elif name == "postfix":
        with relays.start_postfix_relay(sink_port, domain=DOMAIN) as r:
            yield r.address
    else:
        raise ValueError(name)


def inbound_reports(directory, names=INBOUNDS):
    """Runs `probe server --only security.smuggling` on each inbound server;
    {name: path of its JSON report} (the servers that cannot run here are left out)."""
    out = {}
    for n in names:
        if probe_targets.available(n) is not None:
            continue
        with probe_targets.running(n) as args:
            rc, rep, err = probe_targets.probe(args, "--only", "security.smuggling")
        if rep is None:
            raise RuntimeError("probe server %s gave no report: %s" % (n, err))
        path = os.path.join(directory, n + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rep, f)
        out[n] = path
    return out


def probe(name, inbound=None, extra=(), timeout=600):
    """Starts relay `name` and runs `smtpkit probe relay` through it
    (--format json, --inbound NAME=FILE for each of `inbound`);
    (returncode, report dict or None, stderr, seconds)."""
    sink_port = servers.free_port()
    args = ["--sink-listen", "127.0.0.1:%d" % sink_port, "--domain", DOMAIN, "--wait", str(WAIT),
            "--retry-wait", str(RETRY_WAIT), "--format", "json"]
    for n, path in sorted((inbound or {}).items()):
        args += ["--inbound", "%s=%s" % (n, path)]
    start = time.monotonic()
    with running(name, sink_port) as address:
        p = subprocess.run([smtpkit_bin(), "probe", "relay", "--submit", address, *args, *extra],
                           capture_output=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    report = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, report, p.stderr.decode("utf-8", "replace"), seconds


# The same readings as the server probe's and the client probe's reports.
verdicts = probe_targets.verdicts  # {check id: "pass" | "fail/MUST" | ..., ":result" for end-of-data checks}
reasons = probe_clients.reasons


if __name__ == "__main__":  # python3 -m peers.probe_relays NAME [INBOUND...]: print the verdicts
    import sys
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        inb = inbound_reports(d, sys.argv[2:]) if len(sys.argv) > 2 else {}
        rc, rep, err, secs = probe(sys.argv[1], inb)
    print("exit %d, %.1f s, %s" % (rc, secs, err.strip()))
    why = reasons(rep)
    for k, v in verdicts(rep).items():
        print(v, k, why[k][:200])
