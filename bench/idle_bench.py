#!/usr/bin/env python3
"""idle_bench.py — resident memory per idle SMTP session: `smtpkit serve`
side by side with Postfix's smtp-sink and aiosmtpd in the same run.

For each server it opens N connections on 127.0.0.1 (default 10,000), reads
every greeting (so each session really exists on the server), holds them
all idle, and reads the server's resident set size (VmRSS, /proc) before and
after. Per-session memory is (after - before) / N, and the ratio is to
smtpkit. A server that cannot hold N sessions is reported with how many it
held. smtpkit runs as it does by default (live conformance check on).

Usage: bench/idle_bench.py [--sessions N] [--smtpkit PATH] [--only NAME]...
Runs bounded: every connect and read has a timeout, servers are stopped at
the end, and the whole run takes well under a minute per server.
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time

from serve_bench import PF_ENV, ROOT, SINK, free_port  # the same Postfix tools, the same port choice

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-aiosmtpd


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def greet(port, timeout=10.0):
    """A connection that has read its 220 greeting, or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(timeout)
        got = b""
        while b"\n" not in got:
            chunk = s.recv(512)
            if not chunk:
                s.close()
                return None
            got += chunk
        if not got.startswith(b"220"):
            s.close()
            return None
        return s
    except OSError:
        return None


def wait_ready(port, proc, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s before greeting" % proc.returncode)
        s = greet(port, timeout=1.0)
        if s:
            s.sendall(b"QUIT\r\n")
            s.close()
            return
        time.sleep(0.05)
    raise RuntimeError("server on port %d never greeted" % port)


def start(name, port, smtpkit, n):
    if name == "smtpkit":
        args = [smtpkit, "serve", "--listen", "127.0.0.1:%d" % port, "--discard", "--no-starttls",
                "--max-sessions", str(n + 100), "--idle-timeout", "600"]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if name == "smtp-sink":
        # 1024: listen backlog; -m: at most this many sessions at once
        args = [SINK, "-u", "nobody", "-m", str(n + 100), "127.0.0.1:%d" % port, "1024"]
        return subprocess.Popen(args, env=PF_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if name == "aiosmtpd":
        args = [SYSTEM_PYTHON, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % port, "-c", "aiosmtpd.handlers.Sink"]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    raise ValueError(name)


def available(name, smtpkit):
    if name == "smtpkit":
        return os.access(smtpkit, os.X_OK)
    if name == "smtp-sink":
        return os.access(SINK, os.X_OK)
    if name == "aiosmtpd":
        return subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True).returncode == 0
    return False


def measure(name, smtpkit, n):
    port = free_port()
    proc = start(name, port, smtpkit, n)
    socks = []
    try:
        wait_ready(port, proc)
        time.sleep(0.3)
        before = rss_kib(proc.pid)
        t0 = time.monotonic()
        for _ in range(n):
            s = greet(port)
            if s is None:
                break
            socks.append(s)
        opened = time.monotonic() - t0
        time.sleep(1.0)  # let the server settle (buffers, timers)
        alive = proc.poll() is None
        after = rss_kib(proc.pid) if alive else before
        held = len(socks)
        return {"server": name, "sessions": held, "asked": n, "rss_before_kib": before, "rss_after_kib": after,
                "bytes_per_session": (after - before) * 1024 / held if held else float("nan"),
                "open_seconds": opened, "alive": alive}
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10000, help="idle sessions per server (default 10000)")
    ap.add_argument("--smtpkit", default=os.path.join(ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--only", action="append", choices=["smtpkit", "smtp-sink", "aiosmtpd"])
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.sessions + 200
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit("idle_bench: the open-file limit (%d) is below the %d this run needs" % (hard, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    results = []
    for name in a.only or ["smtpkit", "smtp-sink", "aiosmtpd"]:
        if not available(name, a.smtpkit):
            print("%-10s not available (run scripts/setup.sh and build first)" % name)
            continue
        results.append(measure(name, a.smtpkit, a.sessions))
    base = next((r for r in results if r["server"] == "smtpkit"), None)
    print("%-10s %9s %12s %12s %14s %8s" % ("server", "sessions", "RSS before", "RSS after", "per session", "ratio"))
    for r in results:
        ratio = r["bytes_per_session"] / base["bytes_per_session"] if base and base["bytes_per_session"] > 0 else float("nan")
        r["ratio_to_smtpkit"] = ratio
        note = "" if r["sessions"] == r["asked"] and r["alive"] else "  (held %d of %d%s)" % (
            r["sessions"], r["asked"], "" if r["alive"] else ", server died")
        print("%-10s %9d %9d KiB %9d KiB %10.1f KiB %7.1fx%s" % (
            r["server"], r["sessions"], r["rss_before_kib"], r["rss_after_kib"], r["bytes_per_session"] / 1024, ratio,
            note))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
