#!/usr/bin/env python3
"""fuzz_real.py — `smtpkit fuzz server` against real SMTP servers from
Debian: Exim as `exim -bs` (one process per session, stdin/stdout), aiosmtpd
over TCP, Postfix's smtp-sink over TCP, and Postfix's smtpd under its own
master (the unpacked package, as the probe tests run it), each for
--minutes, with the peers' private configurations of
scripts/tests/peers/servers.py and postfix.py.

For each target it prints sessions/s, states, and every finding (crash,
hang, violation) with its reproducer; --keep DIR copies each run's folder
there (reproducers, corpus, stats.json). A finding is a claim about
someone else's software: read its reproducer against the RFC before
calling it one (docs/fuzzing.md, "Real targets").

Usage: bench/fuzz_real.py [--smtpkit PATH] [--minutes M] [--targets exim-bs,aiosmtpd,smtp-sink,postfix]
                          [--jobs N] [--seed N] [--keep DIR]
Runs bounded: each run stops at --minutes; every server is stopped after it.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "tests"))
from peers import postfix, servers  # noqa: E402


def fuzz(binary, target_args, minutes, jobs, seed, out):
    cmd = [binary, "fuzz", "server", *target_args, "--max-time", str(int(minutes * 60)), "--jobs", str(jobs),
           "--seed", str(seed), "--out", out, "--progress", "never", "--minimise-time", "30"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=minutes * 60 + 1800)
    with open(os.path.join(out, "stats.json")) as f:
        return r.returncode, json.load(f)


def run_target(name, binary, minutes, jobs, seed, out):
    if name == "exim-bs":
        workdir, config, user = servers.prepare_exim(False, None, "")
        argv = servers.exim_bs_argv(config, user)
        try:
            return fuzz(binary, ["--exec", "cd %s && %s" % (shlex.quote(workdir), shlex.join(argv))], minutes, jobs,
                        seed, out)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    start = {"aiosmtpd": servers.start_aiosmtpd, "smtp-sink": servers.start_smtp_sink,
             "postfix": postfix.start_postfix}[name]
    peer = start()
    try:
        return fuzz(binary, [peer.address], minutes, jobs, seed, out)
    finally:
        peer.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smtpkit", default=os.environ.get("SMTPKIT_BIN", os.path.join(ROOT, "build/default/cli/smtpkit")))
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--targets", default="exim-bs,aiosmtpd,smtp-sink,postfix")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="copy each run's folder to DIR/<target>")
    a = ap.parse_args()
    for name in a.targets.split(","):
        with tempfile.TemporaryDirectory(prefix="fuzz-real-") as out:
            rc, s = run_target(name, a.smtpkit, a.minutes, a.jobs, a.seed, out)
            print("%-10s exit %d  %6d sessions in %4.0f s (%5.1f/s)  states %d  corpus %d  errors %d  stalled %d  "
                  "stopped by %s" % (name, rc, s["sessions"], s["elapsed_s"], s["sessions_per_s"], s["states"],
                                     s["corpus"], s["errors"], s["stalled"], s["stopped_by"]), flush=True)
            for f in s["findings"]:
                print("    %-9s %s  (%s, after %.0f s)" % (f["oracle"], f["title"], os.path.basename(f["file"]),
                                                       f["found_after_s"]))
            for f in s["flaky"]:
                print("    flaky     %s" % f["title"])
            if a.keep:
                dest = os.path.join(a.keep, name)
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(out, dest)


if __name__ == "__main__":
    main()
