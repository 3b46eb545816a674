"""planted_fuzz.py — running `smtpkit fuzz server` against the planted-bug
server (planted_server.py), and telling which planted bug a finding is.

The fuzzer never sees the ground truth. Afterwards, each reproducer it wrote
is played again with `smtpkit replay --exec` against a fresh planted server
whose stderr goes to a file: the "==PLANTED== KIND: NAME" lines there name
the bugs that the reproducer fires. Used by scripts/tests/fuzz/ and
bench/fuzz_bench.py.
"""
import json
import os
import re
import shlex
import subprocess
import tempfile

PYTHON = "/usr/bin/python3"
PLANTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "planted_server.py")
MARK = re.compile(r"==PLANTED== (crash|hang|violation): ([a-z0-9-]+)")


def exec_command(bugs="all", stderr=None):
    """The --exec command of one planted stdio session (python -S: no site
    packages to import, a quicker start). stderr: a file to append to."""
    cmd = "%s -S %s --stdio --bugs %s" % (PYTHON, shlex.quote(PLANTED), bugs)
    if stderr:
        cmd += " 2>>%s" % shlex.quote(stderr)
    return cmd


def listen_command(port, bugs="all", log=None):
    """A shell command that starts the TCP planted server in the background
    and returns (for --restart)."""
    out = shlex.quote(log) if log else "/dev/null"
    return "%s -S %s --listen 127.0.0.1:%d --bugs %s >>%s 2>&1 &" % (PYTHON, shlex.quote(PLANTED), port, bugs, out)


def fired(smtpkit_bin, reproducer, timeout=2.0):
    """{(kind, name)} of the planted bugs the reproducer fires when replayed."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "stderr")
        open(log, "w").close()
        subprocess.run([smtpkit_bin, "replay", reproducer, "--exec", exec_command(stderr=log),
                        "--timeout", str(timeout), "--session-timeout", "20", "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        with open(log, encoding="utf-8", errors="replace") as f:
            return set(MARK.findall(f.read()))


def findings(out_dir):
    """stats.json's findings of a run."""
    with open(os.path.join(out_dir, "stats.json"), encoding="utf-8") as f:
        return json.load(f)


def bugs_found(smtpkit_bin, out_dir):
    """{bug name: seconds into the run it was first found} over the run's
    reproducers, each identified by replaying it."""
    stats = findings(out_dir)
    first = {}
    for f in stats["findings"]:
        for _, name in fired(smtpkit_bin, f["file"]):
            if name not in first or f["found_after_s"] < first[name]:
                first[name] = f["found_after_s"]
    return first
