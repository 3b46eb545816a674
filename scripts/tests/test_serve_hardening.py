# test_serve_hardening.py — `smtpkit serve` under the faults of an outside
# stress run, one test each, with raw sockets and subprocesses (the plugin's
# event reader would hide what these tests look at):
#   a stalled --events reader (the server must not wait on it),
#   captured client octets echoed in a script's reply (bare CR, NUL, escape),
#   the open-file limit (raised, --max-sessions capped, 421 beyond),
#   lost output on a full disk (stderr, events, exit status 2),
#   endless input (per-line deadline, minimum data rate),
#   connections still in the accept queue at SIGTERM (421, not a reset).
# The BDAT shutdown grace is in test_serve_storage.py, the storage failure
# points in mockserver/server/test/storage_test.cpp.
#
# Limits: every socket has a timeout and every wait a deadline; RLIMIT_FSIZE
# stands in for a full disk here (bench/stress.py fills a real tmpfs).
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

import smtpkit


class Serve:
    """`smtpkit serve --listen 127.0.0.1:0 ARGS`, its stderr read by a thread."""

    def __init__(self, *args, pass_fds=(), preexec_fn=None):
        self.proc = subprocess.Popen([smtpkit.find_binary(), "serve", "--listen", "127.0.0.1:0", *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     pass_fds=pass_fds, preexec_fn=preexec_fn)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = self.wait_stderr("listening on 127.0.0.1:")
        self.port = int(line.rsplit(":", 1)[1])

    def _read(self):
        for raw in self.proc.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_stderr(self, text, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                if text in line:
                    return line
            assert self.proc.poll() is None or self._reader.is_alive(), "serve exited: %r" % self.lines
            time.sleep(0.02)
        raise AssertionError("no %r on stderr in %s s: %r" % (text, timeout, self.lines))

    def connect(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.settimeout(timeout)
        return s

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._reader.join(timeout=5)
        return rc


@pytest.fixture
def serve():
    started = []

    def start(*args, **kw):
        s = Serve(*args, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def reply(f):
    """One whole reply from a socket file: (code, [lines])."""
    lines = []
    while True:
        line = f.readline()
        assert line.endswith(b"\r\n"), "connection closed or line cut: %r" % line
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), lines


def read_until_closed(s, deadline):
    """Everything the peer sends until it closes (b"" on a reset), within `deadline` seconds."""
    got = b""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return got, "reset"
        if not chunk:
            return got, "closed"
        got += chunk
    return got, "open"


# --- 1. a stalled --events reader -------------------------------------------------------


def test_a_stalled_events_reader_does_not_stop_the_server(serve):
    r, w = os.pipe()
    srv = serve("--discard", "--events", "/dev/fd/%d" % w, "--idle-timeout", "3", pass_fds=[w])
    os.close(w)
    # Nobody reads the pipe from here on. 60,000 NOOPs make about 10 MB of
    # events: more than the pipe and the server's 8 MiB backlog hold.
    n = 60000
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        c.sendall(b"NOOP\r\n" * n)
        for _ in range(n):
            assert f.readline().startswith(b"250 ")
        c.sendall(b"QUIT\r\n")
        assert reply(f)[0] == 221
    srv.wait_stderr("dropping events until it catches up")
    # Other sessions go on, timeouts included.
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        c.sendall(b"EHLO client.example.test\r\n")
        assert reply(f)[0] == 250
        t0 = time.monotonic()
        code, _ = reply(f)  # the idle timeout's 421
        assert code == 421 and time.monotonic() - t0 < 8
    # The reader comes back: the stream says how many events it missed.
    got = b""
    end = time.monotonic() + 20
    while b'"events-dropped"' not in got and time.monotonic() < end:
        if select.select([r], [], [], 0.5)[0]:
            got += os.read(r, 1 << 20)
    assert b'"events-dropped"' in got, got[-300:]
    line = next(l for l in got.split(b"\n") if b'"events-dropped"' in l)
    event = json.loads(line)
    assert event["count"] > 0 and event["why"] == "the reader fell behind"
    srv.wait_stderr("events dropped while the reader of")
    drained = threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(r, 65536), b"")], daemon=True)
    drained.start()
    assert srv.stop() == 2  # events it was asked for were not all written
    assert any("events were not written to" in l for l in srv.lines), srv.lines
    drained.join(timeout=5)
    os.close(r)


# --- 2. captured client octets in replies -----------------------------------------------

ECHO_SCRIPT = """\
@rule VRFY {who}
S: 252 cannot verify {who}
@end
S: 220 mx.example.test ESMTP
C~ EHLO {name}
S: 250-mx greets {name}
S: 250 PIPELINING
"""


def test_captured_octets_cannot_forge_reply_lines(serve, tmp_path):
    script = tmp_path / "echo.smtp"
    script.write_text(ECHO_SCRIPT)
    srv = serve("--discard", "--script", str(script))
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        # A client that takes a bare CR as a line end would read a second reply.
        c.sendall(b"EHLO evil\r250 INJECTED\r\n")
        code, lines = reply(f)
        assert code == 250 and len(lines) == 2
        assert b"\r250" not in lines[0] and lines[0].startswith(b"250-mx greets evil")
        # The same through a rule: NUL and an escape sequence.
        c.sendall(b"VRFY a\x00b\x1b[2Jc\r\n")
        code, lines = reply(f)
        assert code == 252 and len(lines) == 1
        text = lines[0][:-2]
        assert all(32 <= o < 127 or o == 9 for o in text), text
        assert text.startswith(b"252 cannot verify a") and text.endswith(b"c")
        c.sendall(b"QUIT\r\n")
        assert reply(f)[0] == 221
    assert srv.stop() == 0


# --- 4. the open-file limit ---------------------------------------------------------------


def test_out_of_descriptors_a_client_gets_421_not_silence(serve):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 64))

    srv = serve("--discard", "--max-sessions", "20000", preexec_fn=low_limit)
    socks, firsts = [], []
    try:
        for _ in range(90):
            s = srv.connect(timeout=5)
            socks.append(s)
            firsts.append(s.makefile("rb").readline())  # 220, or 421 and a close; never nothing
        assert all(l.startswith((b"220 ", b"421 ")) for l in firsts), firsts
        held = sum(1 for l in firsts if l.startswith(b"220 "))
        assert b"421 4.3.2" in firsts[-1] and held >= 20
        # The soft limit was raised to the hard one, and --max-sessions capped to fit it.
        with open("/proc/%d/limits" % srv.proc.pid) as f:
            row = next(l for l in f if l.startswith("Max open files"))
        assert row.split()[3:5] == ["64", "64"], row
        line = srv.wait_stderr("--max-sessions 20000 capped to")
        assert int(re.search(r"capped to (\d+)", line).group(1)) == held
    finally:
        for s in socks:
            s.close()
    assert srv.stop() == 0


# --- 5. lost output on a full disk -----------------------------------------------------------


def test_events_that_cannot_be_written_are_reported(serve):
    srv = serve("--discard", "--events", "/dev/full")
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        c.sendall(b"QUIT\r\n")
        assert reply(f)[0] == 221
    srv.wait_stderr("events: cannot write to /dev/full: No space left on device")
    assert srv.stop() == 2
    assert any("events were not written to /dev/full" in l for l in srv.lines), srv.lines


def _small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))  # a disk that is full after 3,000 octets a file


def test_a_full_disk_is_reported_and_files_end_with_whole_lines(serve, tmp_path):
    events = tmp_path / "events.jsonl"
    tr = tmp_path / "tr"
    srv = serve("--maildir", str(tmp_path / "mail"), "--events", str(events), "--transcripts", str(tr),
                preexec_fn=_small_files)
    for n in range(3):
        with srv.connect() as c:
            f = c.makefile("rb")
            assert reply(f)[0] == 220
            c.sendall(b"EHLO client.example.test\r\n")
            assert reply(f)[0] == 250
            c.sendall(b"NOOP %d\r\n" % n * 150 + b"QUIT\r\n")  # about 4 KB of transcript, 27 KB of events
            while reply(f)[0] != 221:
                pass
    srv.wait_stderr("cannot write transcript")
    assert srv.stop() == 2
    text = events.read_bytes()
    assert 0 < len(text) <= 3000 and text.endswith(b"\n")
    for line in text.splitlines():
        json.loads(line)
    err = "\n".join(srv.lines)
    assert "events were not written to %s" % events in err and "File too large" in err
    assert re.search(r"3 transcripts could not be written in full", err), err


def test_a_transcript_that_cannot_be_written_is_an_event(serve, tmp_path):
    r, w = os.pipe()
    srv = serve("--discard", "--events", "/dev/fd/%d" % w, "--transcripts", str(tmp_path / "tr"), pass_fds=[w],
                preexec_fn=_small_files)
    os.close(w)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(os.fdopen(r, "rb")), daemon=True)
    reader.start()
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        c.sendall(b"EHLO client.example.test\r\n" + b"NOOP\r\n" * 300 + b"QUIT\r\n")
        while reply(f)[0] != 221:
            pass
    assert srv.stop() == 2
    reader.join(timeout=10)
    events = [json.loads(l) for l in lines]
    err, = [e for e in events if e["event"] == "output-error"]
    assert err["what"] == "transcript" and err["session"] == "s000001" and err["error"] == "File too large"
    closed, = [e for e in events if e["event"] == "session" and e["state"] == "closed"]
    assert closed["transcript_error"] == "File too large"
    stopped = events[-1]
    assert stopped["event"] == "stopped" and stopped["transcript_errors"] == 1


# --- 6. endless input ------------------------------------------------------------------------


def _stream(s, chunk, seconds, pace):
    """Sends `chunk` every `pace` seconds until the server closes or `seconds` pass; how long it lasted."""
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            s.sendall(chunk)
            time.sleep(pace)
    except OSError:
        pass
    return time.monotonic() - t0


@pytest.mark.parametrize("kind", ["endless-line", "endless-data", "slow-data"])
def test_endless_input_does_not_keep_a_session(serve, kind):
    srv = serve("--discard", "--line-deadline", "2", "--min-data-rate", "2000", "--max-size", "200000",
                "--idle-timeout", "300")
    with srv.connect() as c:
        f = c.makefile("rb")
        assert reply(f)[0] == 220
        if kind != "endless-line":
            for cmd in (b"EHLO client.example.test", b"MAIL FROM:<a@example.test>", b"RCPT TO:<b@example.test>",
                        b"DATA"):
                c.sendall(cmd + b"\r\n")
                reply(f)
        got = []
        watcher = threading.Thread(target=lambda: got.append(read_until_closed(c, 20)), daemon=True)
        watcher.start()
        if kind == "endless-line":
            lasted = _stream(c, b"X" * 1000, 20, 0.05)  # 20 kB/s, never a line end
        elif kind == "endless-data":
            lasted = _stream(c, (b"A" * 998 + b"\r\n") * 10, 20, 0.02)  # 500 kB/s, past --max-size
        else:
            lasted = _stream(c, b"A", 20, 0.1)  # 10 octets/s
        watcher.join(timeout=25)
    data, how = got[0]
    assert lasted < 10, "the session lived %.1f s" % lasted
    assert b"421 " in data and b"Timeout exceeded" in data and how in ("closed", "reset"), (data[-200:], how)
    assert srv.stop() == 0


# --- 7. connections in the accept queue at SIGTERM ----------------------------------------------


def test_connections_queued_at_sigterm_get_421(serve):
    srv = serve("--discard")
    os.kill(srv.proc.pid, signal.SIGSTOP)
    try:
        queued = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(30)]
        os.kill(srv.proc.pid, signal.SIGTERM)
    finally:
        os.kill(srv.proc.pid, signal.SIGCONT)
    answers = []
    for s in queued:
        data, how = read_until_closed(s, 10)
        answers.append((data, how))
        s.close()
    assert srv.stop() == 0
    for data, how in answers:
        assert b"421 " in data and how == "closed", answers
