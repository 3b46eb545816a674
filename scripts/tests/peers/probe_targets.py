"""The servers `smtpkit probe server` is run against.

In tests (scripts/tests/test_probe_servers.py) and for
docs/conformance-matrix.md (scripts/gen_matrix.py): how each is started,
the probe flags it needs, and its version. One place, so the pinned
verdicts and the published matrix come from the same runs.

  smtpkit-serve  `smtpkit serve` (the reference server), --discard, one user
  aiosmtpd       STARTTLS and AUTH PLAIN/LOGIN (offered after STARTTLS,
                 so the probe runs with --starttls)
  exim           exim -bdf with STARTTLS and AUTH (private configuration)
  exim-bs        `exim -bs` on stdin/stdout (--exec), same configuration
                 without TLS and AUTH
  postfix        Postfix smtpd under its own master, STARTTLS, no AUTH
  smtp-sink      Postfix's smtp-sink test server

Every server listens on 127.0.0.1 at a port chosen at run time.
"""
import contextlib
import os
import re
import selectors
import shutil
import subprocess
import sys
import time

from . import postfix, servers

REPO = servers.REPO
AUTH = ("alice", "wonderland")
TARGETS = ["smtpkit-serve", "aiosmtpd", "exim", "exim-bs", "postfix", "smtp-sink"]


def smtpkit_bin():
    return os.environ.get("SMTPKIT_BIN", os.path.join(REPO, "build", "default", "cli", "smtpkit"))


def available(name):
    """None when the target can run here, else why not."""
    if name == "smtpkit-serve":
        return None if os.access(smtpkit_bin(), os.X_OK) else "no smtpkit binary at %s" % smtpkit_bin()
    if name == "aiosmtpd":
        return None if shutil.which(servers.PYTHON) else "no %s" % servers.PYTHON
    if name in ("exim", "exim-bs"):
        return None if os.access(servers.EXIM, os.X_OK) else "exim4 is not installed"
    if name == "postfix":
        return None if postfix.available() else "Postfix needs root and .deps/postfix (scripts/setup.sh)"
    if name == "smtp-sink":
        return None if os.access(servers.SMTP_SINK, os.X_OK) else "smtp-sink not unpacked (scripts/setup.sh)"
    return "unknown target %s" % name


def _first_line(argv, env=None):
    try:
        p = subprocess.run(argv, capture_output=True, timeout=20, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    out = (p.stdout or p.stderr).decode("utf-8", "replace").strip().splitlines()
    return out[0] if out else "?"


def version(name):
    if name == "smtpkit-serve":
        return _first_line([smtpkit_bin(), "--version"])
    if name == "aiosmtpd":
        return "aiosmtpd " + _first_line([servers.PYTHON, "-c", "import aiosmtpd; print(aiosmtpd.__version__)"])
    if name in ("exim", "exim-bs"):
        line = _first_line([servers.EXIM, "-bV"])
        m = re.search(r"Exim version (\S+)", line)
        return "Exim " + (m.group(1) if m else line)
    if name in ("postfix", "smtp-sink"):
        return "Postfix " + postfix.version()
    return "?"


class _Serve:
    """`smtpkit serve` on 127.0.0.1:0; the port comes from its stderr."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [smtpkit_bin(), "serve", "--listen", "127.0.0.1:0", "--discard", "--hostname", "mx.smtpkit.test",
             "--user", "%s:%s" % AUTH],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.port = None
        buf = b""
        deadline = time.monotonic() + 15
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stderr, selectors.EVENT_READ)
            while self.port is None and time.monotonic() < deadline:
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    break
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", buf)
                if m:
                    self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            raise servers.PeerError("smtpkit serve did not start: %r" % buf[-500:])
        self.address = "127.0.0.1:%d" % self.port

    def stop(self):
        servers.stop_process(self.proc)
        if self.proc.stderr:
            self.proc.stderr.close()


@contextlib.contextmanager
def running(name):
    """Yields the probe arguments that reach a started `name` (target first)."""
    if name == "smtpkit-serve":
        s = _Serve()
        try:
            yield [s.address, "--insecure", "--auth", "%s:%s" % AUTH]
        finally:
            s.stop()
    elif name == "aiosmtpd":
        with servers.start_aiosmtpd(tls=True, auth=AUTH) as p:
            yield [p.address, "--starttls", "--insecure", "--auth", "%s:%s" % AUTH]
    elif name == "exim":
        with servers.start_exim(tls=True, auth=AUTH) as p:
            yield [p.address, "--insecure", "--auth", "%s:%s" % AUTH]
    elif name == "exim-bs":
        workdir, config, user = servers.prepare_exim()
        try:
            yield ["--exec", " ".join(servers.exim_bs_argv(config, user))]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    elif name == "postfix":
        with postfix.start_postfix(tls=True) as p:
            yield [p.address, "--insecure"]
    elif name == "smtp-sink":
        with servers.start_smtp_sink() as p:
            yield [p.address]
    else:
        raise ValueError(name)


def probe(args, *extra, timeout=120):
    """Runs `smtpkit probe server ARGS --format json`; (returncode, report dict, stderr)."""
    import json
    p = subprocess.run([smtpkit_bin(), "probe", "server", *args, "--format", "json", *extra], capture_output=True,
                       timeout=timeout)
    report = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, report, p.stderr.decode("utf-8", "replace")


def verdicts(report):
    """{scenario id: "pass" | "fail/MUST" | "not-done" | "not-applicable" | "error", with
    ":outcome" for the end-of-data probes}."""
    out = {}
    for s in report["scenarios"]:
        v = s["verdict"]
        if v == "fail":
            v += "/" + s["failed_level"]
        if s.get("outcome"):
            v += ":" + s["outcome"]["result"]
        out[s["id"]] = v
    return out


if __name__ == "__main__":  # python3 -m peers.probe_targets NAME: print the verdicts
    name = sys.argv[1]
    with running(name) as args:
        rc, rep, err = probe(args)
    print(rc, err)
    for k, v in sorted(verdicts(rep).items()):
        print(k, v)
