#!/usr/bin/env python3
"""fuzz_bench.py — time-to-find of every planted bug, `smtpkit fuzz server
--mutator grammar` side by side with `--mutator bytes` (byte-level mutation
alone over the same seeds: the baseline), on the planted-bug server
(scripts/tests/peers/planted_server.py, one stdio process per session).

For each mutator and each random seed it runs the fuzzer for --minutes,
identifies every reproducer by replaying it (peers/planted_fuzz.py: the
planted server names the bug it fires on stderr, which the fuzzer never
reads) and reports, per bug, the seconds into the run when it was first
found, the median over seeds, and the ratio bytes/grammar (a bug bytes never
found counts as the whole run, so the ratio is a lower bound then).

Usage: bench/fuzz_bench.py [--smtpkit PATH] [--minutes M] [--seeds 1,2,3]
                           [--mutators grammar,bytes] [--parallel N] [--json FILE]
Runs bounded: each run stops at --minutes. --parallel runs (default 2, one
per core) go side by side, grammar and bytes interleaved so both meet the
same load.
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "tests"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "python"))
from peers import planted_fuzz  # noqa: E402
from peers.planted_server import BUGS  # noqa: E402


def run_one(binary, mutator, seed, minutes, seeds_dir):
    with tempfile.TemporaryDirectory(prefix="fuzz-bench-") as out:
        cmd = [binary, "fuzz", "server", "--exec", planted_fuzz.exec_command(), "--seeds", seeds_dir,
               "--mutator", mutator, "--seed", str(seed), "--max-time", str(int(minutes * 60)), "--jobs", "1",
               "--out", out, "--progress", "never", "--minimise-time", "10", "--timeout", "0.5",
               "--hang-timeout", "1", "--fail-on", "should"]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=minutes * 60 + 900)
        stats = planted_fuzz.findings(out)
        found = planted_fuzz.bugs_found(binary, out)
        return {"mutator": mutator, "seed": seed, "sessions": stats["sessions"],
                "sessions_per_s": round(stats["sessions_per_s"], 1), "found": found}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smtpkit", default=os.environ.get("SMTPKIT_BIN", os.path.join(ROOT, "build/default/cli/smtpkit")))
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--mutators", default="grammar,bytes")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "scripts", "tests", "fuzz", "seeds"),
                    help="seed transcripts (default: the fuzz test's seeds)")
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    mutators = a.mutators.split(",")
    seeds = [int(x) for x in a.seeds.split(",")]
    plan = [(m, seed) for seed in seeds for m in mutators]  # interleaved: grammar, bytes, grammar, ...
    runs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.parallel) as pool:
        futures = [pool.submit(run_one, a.smtpkit, m, seed, a.minutes, a.corpus) for m, seed in plan]
        for f in futures:
            r = f.result()
            print("%-8s seed %-3d %6d sessions (%5.1f/s)  found %d/%d" %
                  (r["mutator"], r["seed"], r["sessions"], r["sessions_per_s"], len(r["found"]), len(BUGS)),
                  flush=True)
            runs.append(r)
    limit = a.minutes * 60
    print("\ntime to find (s): median over seeds [each seed]; '-' not found within %.0f s" % limit)
    print("%-18s %-7s " % ("bug", "depth") + "".join("%-32s" % m for m in mutators) + "bytes/grammar")
    table = {}
    for bug, info in BUGS.items():
        row = {}
        for m in mutators:
            times = [r["found"].get(bug) for r in runs if r["mutator"] == m]
            row[m] = times
        med = {m: statistics.median([t if t is not None else limit for t in row[m]]) for m in mutators}
        cells = []
        for m in mutators:
            shown = " ".join("-" if t is None else "%.0f" % t for t in row[m])
            all_missing = all(t is None for t in row[m])
            cells.append("%-32s" % (("-" if all_missing else "%.0f" % med[m]) + " [" + shown + "]"))
        ratio = ""
        if "grammar" in med and "bytes" in med and med["grammar"] > 0:
            bytes_missing = any(t is None for t in row["bytes"])
            ratio = ("≥" if bytes_missing else "") + "%.1f" % (med["bytes"] / med["grammar"])
        print("%-18s %-7s " % (bug, info["depth"]) + "".join(cells) + ratio)
        table[bug] = {"depth": info["depth"], "times": row, "median": med}
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"minutes": a.minutes, "runs": runs, "bugs": table}, f, indent=2)


if __name__ == "__main__":
    main()
