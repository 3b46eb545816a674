#!/usr/bin/env python3
"""stress.py — a bounded stress run of `smtpkit serve` on 127.0.0.1.

Three phases, each bounded in time and in connections; the script stops by
itself and kills only the servers it started:

1. hostile: slowloris clients (endless command lines, a few octets at a
   time; --line-deadline 3), endless DATA (faster than --min-data-rate,
   so only --max-size, 1 MB here, ends it), random bytes and half-open TLS handshakes, all at
   once, while one well-behaved client sends messages one after the other.
   Every message of the good client must get its 250, and the run reports
   how long each took.
2. kill -9: a --durable server under load from parallel clients is killed
   with SIGKILL, several rounds; every message that got a 250 must be in
   new/ with its line in envelopes.jsonl (and no message without its line).
3. disk full, by space and by inodes: only when a tmpfs can be mounted
   (root in a system that allows it): the Maildir fills up; the clients must get 451/452 (never a
   250 for a message that is not there), the server must stay up and say
   so on stderr, and every 250 message must be whole.

Usage: bench/stress.py [--smtpkit PATH] [--seconds N] [--hostile N] [--rounds N]
Exit status 0 when every check held, 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


class Server:
    """`smtpkit serve` on 127.0.0.1, any free port; ports read from its events."""

    def __init__(self, smtpkit, work, extra, tls=False):
        self.events = os.path.join(work, "events.jsonl")
        self.stderr_path = os.path.join(work, "stderr.txt")
        args = [smtpkit, "serve", "--listen", "127.0.0.1:0", "--hostname", "mx.example.test",
                "--events", self.events] + extra
        if tls:
            args += ["--tls-listen", "127.0.0.1:0"]
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.port = self.tls_port = None
        end = time.monotonic() + 15
        ready = False
        while time.monotonic() < end and not ready:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + open(self.stderr_path).read())
            if not os.path.exists(self.events):
                continue
            with open(self.events) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    e = json.loads(line)
                    if e.get("event") == "listening":
                        if e.get("tls"):
                            self.tls_port = int(e["port"])
                        else:
                            self.port = int(e["port"])
                    elif e.get("event") == "ready":
                        ready = True
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("no listening event: " + open(self.events).read())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                fail("server did not stop within %d s of signal %d" % (timeout, sig))
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return 0


MESSAGE = "From: a@example.test\r\nTo: b@example.test\r\nSubject: stress %d\r\n\r\n" + "line of text\r\n" * 100


def send_one(port, n, timeout=20):
    """One message; returns (code, queue id or None)."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="good.example.test", timeout=timeout) as s:
        s.ehlo()
        s.mail("a@example.test")
        s.rcpt("b@example.test")
        code, resp = s.data(MESSAGE % n)
        qid = None
        text = resp.decode("ascii", "replace")
        if code == 250 and "queued as " in text:
            qid = text.rsplit("queued as ", 1)[1].split()[0]
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
        return code, qid


# --- hostile clients: each bounded by `until` ------------------------------------------------

def hostile(kind, port, tls_port, until, stats):
    rnd = random.Random()
    while time.monotonic() < until:
        try:
            target = tls_port if kind == "tls" else port
            s = socket.create_connection(("127.0.0.1", target), timeout=5)
        except OSError:
            stats["connect_errors"] += 1
            time.sleep(0.2)
            continue
        stats["connections"] += 1
        try:
            s.settimeout(2)
            if kind != "tls":
                s.recv(512)  # greeting
            if kind == "slowloris":
                s.sendall(b"EHLO ")
                while time.monotonic() < until:
                    s.sendall(b"x" * rnd.randint(1, 8))
                    time.sleep(0.2)
            elif kind == "endless-data":
                s.sendall(b"EHLO evil.example.test\r\nMAIL FROM:<e@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
                chunk = b"endless " * 128 + b"\r\n"
                while time.monotonic() < until:
                    s.sendall(chunk)
                    time.sleep(0.005)
            elif kind == "random":
                while time.monotonic() < until:
                    s.sendall(os.urandom(rnd.randint(1, 600)))
                    try:
                        s.recv(4096)
                    except socket.timeout:
                        pass
                    time.sleep(0.02)
            elif kind == "tls":
                # A ClientHello's record header and a few octets of it; then nothing.
                s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
                while time.monotonic() < until:
                    if s.recv(512) == b"":
                        break
        except (OSError, socket.timeout):
            pass  # the server cut it: what it should do
        finally:
            s.close()
            stats["closed"] += 1


def phase_hostile(a, work):
    print("== phase 1: hostile mix, %d hostile clients of each kind, %d s" % (a.hostile, a.seconds), flush=True)
    d = os.path.join(work, "p1")
    os.makedirs(d)
    srv = Server(a.smtpkit, d, ["--maildir", os.path.join(d, "maildir"), "--line-deadline", "3",
                                "--max-size", "1000000", "--idle-timeout", "10"],
                 tls=True)
    until = time.monotonic() + a.seconds
    threads = []
    stats = {}
    for kind in ("slowloris", "endless-data", "random", "tls"):
        stats[kind] = {"connections": 0, "closed": 0, "connect_errors": 0}
        for _ in range(a.hostile):
            t = threading.Thread(target=hostile, args=(kind, srv.port, srv.tls_port, until, stats[kind]), daemon=True)
            t.start()
            threads.append(t)
    time.sleep(1)
    good = []
    n = 0
    peak_rss = peak_fds = 0
    while time.monotonic() < until - 1:
        t0 = time.monotonic()
        try:
            code, qid = send_one(srv.port, n)
        except (OSError, smtplib.SMTPException) as e:
            code, qid = None, None
            fail("phase 1: the good client's message %d failed: %r" % (n, e))
        good.append((code, time.monotonic() - t0, qid))
        n += 1
        peak_rss = max(peak_rss, srv.rss_kib())
        peak_fds = max(peak_fds, srv.fds())
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=10)
    rc = srv.stop()
    ok = [g for g in good if g[0] == 250]
    lat = sorted(g[1] for g in ok)
    if len(ok) != len(good):
        fail("phase 1: %d of %d good messages did not get 250" % (len(good) - len(ok), len(good)))
    stored = os.listdir(os.path.join(d, "maildir", "new"))
    for _, _, qid in ok:
        if not any(name.startswith(qid + ".") for name in stored):
            fail("phase 1: message %s got 250 but is not in new/" % qid)
    timeouts = {}
    for line in open(srv.events):
        e = json.loads(line)
        if e.get("event") == "timeout":
            timeouts[e.get("why")] = timeouts.get(e.get("why"), 0) + 1
    if rc != 0:
        fail("phase 1: server exit status %s" % rc)
    print("good client: %d messages, %d got 250; latency median %.1f ms, max %.1f ms" % (
        len(good), len(ok), 1000 * lat[len(lat) // 2] if lat else 0, 1000 * lat[-1] if lat else 0))
    for kind, st in stats.items():
        print("hostile %-12s connections %5d, cut by the server or ended %5d, connect errors %d" % (
            kind, st["connections"], st["closed"], st["connect_errors"]))
    print("server timeouts by reason: %s; peak RSS %.1f MiB, peak descriptors %d, exit %s" % (
        json.dumps(timeouts, sort_keys=True), peak_rss / 1024, peak_fds, rc), flush=True)


# --- kill -9 under load -------------------------------------------------------------------

def journal(maildir):
    ids, withdrawn = set(), set()
    path = os.path.join(maildir, "envelopes.jsonl")
    if not os.path.exists(path):
        return ids
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                continue  # a torn last line of a killed server: its message was never acknowledged
            e = json.loads(raw)
            (withdrawn if e.get("withdrawn") else ids).add(e["id"])
    return ids - withdrawn


def loader(port, until, acked, errors, lock):
    n = 0
    while time.monotonic() < until:
        try:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="load.example.test", timeout=10) as s:
                s.ehlo()
                while time.monotonic() < until:
                    s.mail("a@example.test")
                    s.rcpt("b@example.test")
                    code, resp = s.data(MESSAGE % n)
                    n += 1
                    text = resp.decode("ascii", "replace")
                    if code == 250 and "queued as " in text:
                        with lock:
                            acked.append(text.rsplit("queued as ", 1)[1].split()[0])
        except (OSError, smtplib.SMTPException):
            with lock:
                errors[0] += 1
            if time.monotonic() < until:
                time.sleep(0.05)
            return  # the server is gone: this loader is done


def phase_kill(a, work):
    print("== phase 2: kill -9 under load with --durable, %d rounds" % a.rounds, flush=True)
    total_acked = 0
    for r in range(a.rounds):
        d = os.path.join(work, "p2-%d" % r)
        os.makedirs(d)
        maildir = os.path.join(d, "maildir")
        srv = Server(a.smtpkit, d, ["--maildir", maildir, "--durable", "--no-check"])
        acked, errors, lock = [], [0], threading.Lock()
        until = time.monotonic() + 30
        threads = [threading.Thread(target=loader, args=(srv.port, until, acked, errors, lock), daemon=True)
                   for _ in range(20)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 3.0))
        srv.proc.kill()
        srv.proc.wait()
        srv.stderr.close()
        for t in threads:
            t.join(timeout=15)
        with lock:
            got = list(acked)
        stored = set(os.listdir(os.path.join(maildir, "new")))
        lines = journal(maildir)
        lost = [q for q in got if q not in lines or not any(s.startswith(q + ".") for s in stored)]
        unlisted = [s for s in stored if not any(s.startswith(i + ".") for i in lines)]
        total_acked += len(got)
        print("round %d: %d messages got 250 before the kill; in new/ %d, journal lines %d; lost %d; "
              "messages in new/ without a line %d" % (r + 1, len(got), len(stored), len(lines), len(lost),
                                                      len(unlisted)), flush=True)
        if lost:
            fail("phase 2 round %d: %d acknowledged messages lost, e.g. %s" % (r + 1, len(lost), lost[:3]))
        if unlisted:
            fail("phase 2 round %d: %d messages in new/ without an envelope line" % (r + 1, len(unlisted)))
    print("kill -9: %d acknowledged messages over %d rounds, none lost" % (total_acked, a.rounds)
          if not any("phase 2" in f for f in failures) else "kill -9: losses, see above", flush=True)


# --- disk full ------------------------------------------------------------------------------

def phase_disk_full(a, work):
    print("== phase 3: disk full, by space (a 1 MiB tmpfs) and by inodes (400 inodes)", flush=True)
    for label, opts in (("space", "size=1m,nr_inodes=100000"), ("inodes", "size=64m,nr_inodes=400")):
        mnt = os.path.join(work, "small-" + label)
        os.makedirs(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt], capture_output=True, text=True)
        if r.returncode != 0:
            print("skipped: cannot mount a tmpfs here (%s)" % (r.stderr.strip() or r.returncode), flush=True)
            return
        try:
            for durable in (False, True):
                disk_full_once(a, work, mnt, label, durable)
        finally:
            subprocess.run(["umount", mnt], check=False)


def disk_full_once(a, work, mnt, label, durable):
    sub = os.path.join(mnt, "d" if durable else "n")
    d = os.path.join(work, "p3-%s-%d" % (label, durable))
    os.makedirs(d)
    srv = Server(a.smtpkit, d, ["--maildir", sub, "--no-check"] + (["--durable"] if durable else []))
    acked, refused, other = [], 0, 0
    for n in range(1000):  # full well before 1,000 messages either way
        try:
            code, qid = send_one(srv.port, n, timeout=10)
        except (OSError, smtplib.SMTPException):
            other += 1
            continue
        if code == 250:
            acked.append(qid)
        elif code in (451, 452, 552):
            refused += 1
        else:
            other += 1
        if refused >= 20:
            break
    alive = srv.proc.poll() is None
    rc = srv.stop()
    lines = journal(sub)
    stored = os.listdir(os.path.join(sub, "new"))
    lost = [q for q in acked if q not in lines or not any(s.startswith(q + ".") for s in stored)]
    unlisted = [s for s in stored if not any(s.startswith(i + ".") for i in lines)]
    err = open(srv.stderr_path, errors="replace").read()
    print("full by %s, %s: %d stored with 250, %d refused (451/452), %d other; server up while full: %s; "
          "exit %s; lost %d; in new/ without a line %d; stderr says why: %s" % (
              label, "durable" if durable else "plain", len(acked), refused, other, alive, rc, len(lost),
              len(unlisted), "No space" in err), flush=True)
    if not alive:
        fail("phase 3: the server died on a full disk")
    if lost or unlisted:
        fail("phase 3: %d messages got 250 but are not whole on disk, %d without a line" % (len(lost), len(unlisted)))
    if refused == 0:
        fail("phase 3: the disk never filled up (no 451)")
    shutil.rmtree(sub, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtpkit", default=os.path.join(ROOT, "build", "default", "cli", "smtpkit"))
    ap.add_argument("--seconds", type=int, default=20, help="length of the hostile phase (default 20)")
    ap.add_argument("--hostile", type=int, default=25, help="hostile clients of each kind (default 25)")
    ap.add_argument("--rounds", type=int, default=3, help="kill -9 rounds (default 3)")
    ap.add_argument("--phase", action="append", choices=("hostile", "kill", "disk"), help="phases to run")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="smtpkit-stress-")
    t0 = time.monotonic()
    try:
        phases = a.phase or ("hostile", "kill", "disk")
        if "hostile" in phases:
            phase_hostile(a, work)
        if "kill" in phases:
            phase_kill(a, work)
        if "disk" in phases:
            phase_disk_full(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("== %s in %.0f s" % ("FAILED: %d checks" % len(failures) if failures else "all checks held",
                               time.monotonic() - t0), flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
