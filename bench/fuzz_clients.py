#!/usr/bin/env python3
"""fuzz_clients.py — `smtpkit fuzz client` against real SMTP clients from
Debian (curl, swaks, msmtp, s-nail, and Python's smtplib through
scripts/tests/peers/smtplib_client.py), each set up as the client matrix
sets it up (scripts/tests/peers/probe_clients.py: STARTTLS required, the
test CA trusted), each for --minutes.

For each client it prints sessions/s, behaviours seen, the baseline (rules
the client breaks on unmutated replies, which are `smtpkit probe client`'s
business) and every finding with its reproducer; --keep DIR keeps each run's
folder there. A finding is a claim about someone else's software: serve its
reproducer (`smtpkit serve --script FILE`) to the client by hand and read
the session against the RFC before calling it one.

Usage: bench/fuzz_clients.py [--smtpkit PATH] [--minutes M] [--clients curl,swaks,...]
                             [--parallel N] [--seed N] [--keep DIR]
Runs bounded: each run stops at --minutes (plus minimisation).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "tests"))
from peers import probe_clients  # noqa: E402

CLIENTS = ["curl", "swaks", "msmtp", "s-nail", "smtplib"]


def run(binary, name, minutes, seed, out):
    spec = probe_clients.SPEC[name]
    cmd = [binary, "fuzz", "client", "--max-time", str(int(minutes * 60)), "--seed", str(seed), "--out", out,
           "--progress", "never", "--minimise-time", "30", "--hang-timeout", "2"]
    if spec["stdin"]:
        cmd.append("--stdin")
    cmd += ["--", *spec["argv"]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=minutes * 60 + 1800, cwd=ROOT)
    try:
        with open(os.path.join(out, "stats.json")) as f:
            return r.returncode, json.load(f), r.stderr
    except OSError:
        return r.returncode, None, r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smtpkit", default=os.path.join(ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    a = ap.parse_args()
    names = [c for c in a.clients.split(",") if c]
    work = tempfile.mkdtemp(prefix="smtpkit-fuzz-clients.")
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.parallel) as pool:
        for name in names:
            why = probe_clients.available(name)
            if why:
                print("%-8s skipped: %s" % (name, why))
                continue
            jobs[name] = pool.submit(run, a.smtpkit, name, a.minutes, a.seed, os.path.join(work, name))
    print("%-8s %9s %8s %10s %6s  %s" % ("client", "sessions", "per s", "behaviours", "found", "baseline"))
    for name, job in jobs.items():
        rc, s, err = job.result()
        if s is None:
            print("%-8s did not run (exit %d): %s" % (name, rc, err.strip()[-300:]))
            continue
        print("%-8s %9d %8.1f %10d %6d  %s" % (name, s["sessions"], s["sessions_per_s"], s["states"],
                                              len(s["findings"]), "; ".join(s["baseline"]) or "-"))
        for f in s["findings"] + [dict(x, title="(flaky) " + x["title"]) for x in s["flaky"]]:
            print("    %s\n      %s" % (f["title"], f["file"]))
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        for name in jobs:
            dst = os.path.join(a.keep, name)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(os.path.join(work, name), dst)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
