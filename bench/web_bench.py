#!/usr/bin/env python3
"""web_bench.py — does the web view slow the SMTP path? `smtpkit serve`
driven by Postfix's smtp-source (as in serve_bench.py) with `--http` off,
and with `--http` on and the page's two WebSocket streams (/api/events and
/api/smtpkit/live) followed by a reader, as an open browser tab follows
them — or, with --browser, by the page itself in headless Chromium. Runs alternate off/on to spread the machine's noise over both, and
the median messages/s of each is compared.

Usage: bench/web_bench.py [--messages N] [--rounds R] [--sessions S] [--browser]
Runs bounded: every smtp-source run has a message count and a timeout;
readers stop with their server.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts", "tests"))

import serve_bench as sb  # noqa: E402
from peers.websocket import WebSocket, Closed  # noqa: E402
from peers.browser import Browser  # noqa: E402


def follow(url, counts, key):
    try:
        ws = WebSocket(url, timeout=30)
    except OSError:
        return
    try:
        while True:
            ws.recv(timeout=30)
            counts[key] += 1
    except (Closed, OSError):
        pass
    finally:
        ws.sock.close()


def run(a, storage, http):
    work = tempfile.mkdtemp(prefix="smtpkit-webbench-")
    extra, readers, counts = [], [], {"events": 0, "live": 0}
    if http:
        hport = sb.free_port()
        extra = ["--http", "127.0.0.1:%d" % hport]
    srv = sb.Server("smtpkit", storage, a.smtpkit, work, extra)
    browser = None
    try:
        if http and a.browser:
            browser = Browser()
            browser.call("Page.navigate", url="http://127.0.0.1:%d/" % hport)
            browser.wait("!!document.getElementById('status') && document.getElementById('status').textContent === 'live'",
                         "the live page", timeout=30)
        elif http:
            for path, key in (("/api/events", "events"), ("/api/smtpkit/live", "live")):
                t = threading.Thread(target=follow, args=("ws://127.0.0.1:%d%s" % (hport, path), counts, key), daemon=True)
                t.start()
                readers.append(t)
        sb.drive(srv.port, 200, a.sessions, True, a.size)  # warm up
        c0 = sb.cpu_seconds(srv.proc.pid)
        wall = sb.drive(srv.port, a.messages, a.sessions, True, a.size)
        cpu = sb.cpu_seconds(srv.proc.pid) - c0
        if browser is not None:
            counts["events"] = browser.eval("document.querySelectorAll('#messages tr.message').length")
    finally:
        if browser is not None:
            browser.close()
        srv.stop()
        for t in readers:
            t.join(10)
        shutil.rmtree(work, ignore_errors=True)
    return a.messages / wall, cpu * 1e6 / a.messages, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtpkit", default=os.path.join(sb.ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--browser", action="store_true", help="follow with the page in headless Chromium")
    a = ap.parse_args()
    for tool in (sb.SOURCE, a.smtpkit):
        if not os.access(tool, os.X_OK):
            sys.exit("missing %s (run scripts/setup.sh and build first)" % tool)
    for storage in ("discard", "files"):
        got = {False: [], True: []}
        for _ in range(a.rounds):
            for http in (False, True):
                rate, cpu, counts = run(a, storage, http)
                got[http].append((rate, cpu))
                print("%-8s http %-3s %8.0f msg/s %7.1f us CPU/msg%s" % (
                    storage, "on" if http else "off", rate, cpu,
                    ("  (rows on the page: %(events)d)" if a.browser else "  (ws messages: events %(events)d, live %(live)d)") % counts
                    if http else ""), flush=True)
        off = statistics.median(r for r, _ in got[False])
        on = statistics.median(r for r, _ in got[True])
        print("%-8s median: off %.0f msg/s, on %.0f msg/s, on/off %.3f" % (storage, off, on, on / off), flush=True)


if __name__ == "__main__":
    main()
