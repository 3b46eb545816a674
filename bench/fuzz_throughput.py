#!/usr/bin/env python3
"""fuzz_throughput.py — is the fuzzer the bottleneck? `smtpkit fuzz server`
side by side with Postfix's smtp-source, both against the same `smtpkit
serve --discard --no-check` over TCP, one new connection per session, the
same number of sessions at once (--jobs / -s), in the same run.

smtp-source sends the plainest session there is (EHLO, MAIL, RCPT, DATA, a
small message, QUIT); the fuzzer sends mutated dialogues of the bundled
seeds and judges every reply with the conformance engine (--fail-on crash,
--no-minimise: findings cost nothing extra). The goal (issue 16): the
fuzzer's sessions/s at least 80 % of smtp-source's. Sessions per second of
each, the ratio, and the server's CPU time per session of each run.

Usage: bench/fuzz_throughput.py [--smtpkit PATH] [--sessions N] [--jobs J]... [--runs R] [--json FILE]
Runs bounded: a session count per run, and timeouts.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serve_bench  # noqa: E402  (the Postfix tools, the server, smtp-source)


def fuzz_rate(smtpkit, port, sessions, jobs, out):
    t0 = time.monotonic()
    p = subprocess.run([smtpkit, "fuzz", "server", "127.0.0.1:%d" % port, "--max-sessions", str(sessions), "--jobs",
                        str(jobs), "--seed", "1", "--out", out, "--progress", "never", "--no-minimise", "--fail-on",
                        "crash", "--timeout", "1", "--hang-timeout", "1"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=1800)
    wall = time.monotonic() - t0
    if not os.path.exists(os.path.join(out, "stats.json")):
        sys.exit("fuzz_throughput: the fuzzer ended with status %d and no stats.json:\n%s" %
                 (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    with open(os.path.join(out, "stats.json")) as f:
        s = json.load(f)
    return s["sessions"], s["sessions_per_s"], wall, s["stalled"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtpkit", default=os.path.join(serve_bench.ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--sessions", type=int, default=4000)
    ap.add_argument("--jobs", type=int, action="append", help="sessions at once (default: 1 and 2)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    for tool in (serve_bench.SOURCE, a.smtpkit):
        if not os.access(tool, os.X_OK):
            sys.exit("fuzz_throughput: %s is not there (scripts/setup.sh installs Postfix's tools)" % tool)
    rows = []
    print("%4s %3s %14s %14s %7s %12s %12s" % ("jobs", "run", "smtp-source/s", "fuzz/s", "ratio", "cpu/sess src",
                                                 "cpu/sess fuzz"))
    for jobs in a.jobs or [1, 2]:
        for run in range(a.runs):
            with tempfile.TemporaryDirectory() as work:
                srv = serve_bench.Server("smtpkit", "discard", a.smtpkit, work, extra=["--no-check"])
                try:
                    c0 = serve_bench.cpu_seconds(srv.proc.pid)
                    t = serve_bench.drive(srv.port, a.sessions, jobs, False, 200)
                    c1 = serve_bench.cpu_seconds(srv.proc.pid)
                    n, rate, wall, stalled = fuzz_rate(a.smtpkit, srv.port, a.sessions, jobs,
                                                       os.path.join(work, "fuzz"))
                    c2 = serve_bench.cpu_seconds(srv.proc.pid)
                finally:
                    srv.stop()
            src = a.sessions / t
            row = dict(jobs=jobs, run=run + 1, source_per_s=src, fuzz_per_s=rate, ratio=rate / src,
                       server_cpu_ms_source=1000 * (c1 - c0) / a.sessions,
                       server_cpu_ms_fuzz=1000 * (c2 - c1) / max(n, 1), fuzz_sessions=n, fuzz_stalled=stalled)
            rows.append(row)
            print("%4d %3d %14.0f %14.0f %6.2fx %11.2fms %11.2fms" % (jobs, run + 1, src, rate, rate / src,
                                                                    row["server_cpu_ms_source"],
                                                                    row["server_cpu_ms_fuzz"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
