#!/usr/bin/env python3
"""serve_bench.py — `smtpkit serve` side by side with Postfix's smtp-sink,
both driven by Postfix's smtp-source in the same run.

For each storage mode (discard; files: Maildir for smtpkit, one file per
message with smtp-sink -d; durable: Maildir with --durable against the same
smtp-sink -d, which does not sync, and against smtpkit's own files row of
the same run) and each concurrency (1, 20, 100 parallel
sessions), with connections reused (smtp-source -d) and with a new
connection per message, it reports messages/s and server CPU time per
message (user+system of the server process, from /proc), and the ratio of
smtpkit to smtp-sink. smtpkit runs as configured by default: the live
conformance check of each client is on.

Usage: bench/serve_bench.py [--smtpkit PATH] [--messages N] [--storage MODE]... [--json FILE]
Runs bounded: every smtp-source run has a message count and a timeout.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSTFIX = os.path.join(ROOT, ".deps", "postfix")
SINK = os.path.join(POSTFIX, "usr", "sbin", "smtp-sink")
SOURCE = os.path.join(POSTFIX, "usr", "sbin", "smtp-source")
PF_ENV = dict(os.environ, LD_LIBRARY_PATH=os.path.join(POSTFIX, "usr", "lib", "postfix"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_banner(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(100).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    s.recv(100)
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on port %d never greeted" % port)


class Server:
    def __init__(self, kind, storage, smtpkit, work, extra=()):
        self.kind = kind
        self.port = free_port()
        if kind == "smtp-sink":
            args = [SINK, "-u", "nobody", "-m", "1000"]
            if storage in ("files", "durable"):
                os.chmod(work, 0o755)
                d = os.path.join(work, "sink")
                os.makedirs(d, exist_ok=True)
                os.chmod(d, 0o777)
                args += ["-d", d + "/%H%M%S."]
            args += ["127.0.0.1:%d" % self.port, "1024"]
            self.proc = subprocess.Popen(args, env=PF_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            args = [smtpkit, "serve", "--listen", "127.0.0.1:%d" % self.port, "--no-starttls", "--hostname",
                    "mx.example.test"]
            args += ["--discard"] if storage == "discard" else ["--maildir", os.path.join(work, "maildir")]
            if storage == "durable":
                args.append("--durable")
            args += list(extra)
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_banner(self.port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def drive(port, messages, sessions, reuse, size):
    args = [SOURCE, "-m", str(messages), "-s", str(sessions), "-l", str(size), "-M", "client.example.test",
            "-f", "sender@example.test", "-t", "rcpt@example.test"]
    if reuse:
        args.append("-d")
    args.append("127.0.0.1:%d" % port)
    t0 = time.monotonic()
    subprocess.run(args, env=PF_ENV, check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtpkit", default=os.path.join(ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--messages", type=int, default=4000, help="messages per run (default 4000)")
    ap.add_argument("--size", type=int, default=2000, help="message payload octets (default 2000)")
    ap.add_argument("--storage", action="append", choices=("discard", "files", "durable"),
                    help="storage modes to run (repeatable; default: all three)")
    ap.add_argument("--sessions", type=int, action="append", help="concurrencies to run (default: 1, 20, 100)")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    for tool in (SINK, SOURCE, a.smtpkit):
        if not os.access(tool, os.X_OK):
            sys.exit("missing %s (run scripts/setup.sh and build first)" % tool)
    results = []
    print("%-8s %-6s %4s  %-9s  %12s %12s  %7s  %14s %14s  %7s" % (
        "storage", "conn", "par", "", "smtp-sink/s", "smtpkit/s", "ratio", "sink CPU/msg", "smtpkit CPU/msg",
        "ratio"))
    files = {}  # (reuse, sessions) -> smtpkit's msg/s with --maildir, for the durable rows
    # The servers' folders are removed only at the end: on ext4 without a
    # journal, inodes freed in the last minutes are skipped one by one
    # when new files are made (recently_deleted), so a run right after
    # the other server's thousands of files were removed would pay for
    # that removal. The servers also take turns at going first.
    works = []
    try:
        run_cells(a, results, files, works)
    finally:
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


def run_cells(a, results, files, works):
    turn = 0
    for storage in a.storage or ("discard", "files", "durable"):
        for reuse in (True, False):
            for par in a.sessions or (1, 20, 100):
                n = a.messages if par > 1 else max(1000, a.messages // 2)
                row = {"storage": storage, "reuse": reuse, "sessions": par, "messages": n}
                turn += 1
                for kind in ("smtp-sink", "smtpkit") if turn % 2 else ("smtpkit", "smtp-sink"):
                    work = tempfile.mkdtemp(prefix="smtpkit-bench-")
                    works.append(work)
                    srv = Server(kind, storage, a.smtpkit, work)
                    try:
                        drive(srv.port, min(n, 200), par, reuse, a.size)  # warm up
                        c0 = cpu_seconds(srv.proc.pid)
                        wall = drive(srv.port, n, par, reuse, a.size)
                        cpu = cpu_seconds(srv.proc.pid) - c0
                    finally:
                        srv.stop()
                    row[kind] = {"msgs_per_s": n / wall, "cpu_us_per_msg": cpu * 1e6 / n}
                s, k = row["smtp-sink"], row["smtpkit"]
                row["speed_ratio"] = k["msgs_per_s"] / s["msgs_per_s"]
                row["cpu_ratio"] = k["cpu_us_per_msg"] / s["cpu_us_per_msg"] if s["cpu_us_per_msg"] else float("inf")
                note = ""
                if storage == "files":
                    files[(reuse, par)] = k["msgs_per_s"]
                if storage == "durable" and (reuse, par) in files:
                    row["durable_ratio"] = k["msgs_per_s"] / files[(reuse, par)]
                    note = "%.2fx nd" % row["durable_ratio"]
                results.append(row)
                print("%-8s %-6s %4d  %-9s  %12.0f %12.0f  %6.2fx  %12.1fus %14.1fus  %6.2fx" % (
                    storage, "reuse" if reuse else "new", par, note, s["msgs_per_s"], k["msgs_per_s"],
                    row["speed_ratio"], s["cpu_us_per_msg"], k["cpu_us_per_msg"], row["cpu_ratio"]), flush=True)


if __name__ == "__main__":
    main()
