"""`smtpkit record` as a recording proxy in front of a peer, for tests.

Recorder(host, port, out_dir, *flags) runs `smtpkit record --listen
127.0.0.1:0 --upstream HOST:PORT --out OUT_DIR --events -` plus the flags
given (--tls-passthrough, --timing, ...), reads its JSON-lines events
(docs/serve.md, "Recording real sessions") from its stdout, and knows its
port from the 'listening' event. transcript() waits for a session's
'closed' event and returns the file's text. stop() is SIGTERM, a bounded
wait, then SIGKILL; use it as a context manager, and a recorder nobody
stopped is still killed when Python exits.

Limits: Linux; the binary is found as smtpkit.find_binary() finds it
(SMTPKIT_BIN, the build tree, PATH), so scripts/python must be on the
path. Every wait is bounded.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import weakref
from typing import Any, Callable, Dict

from smtpkit import binary

Event = Dict[str, Any]


def _kill_forgotten(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


class Recorder:
    """`smtpkit record` on 127.0.0.1:0 in front of host:port; events read from its stdout."""

    def __init__(self, host: str, port: int, out_dir: str | os.PathLike[str], *flags: str) -> None:
        self.out_dir = str(out_dir)
        self.argv = [binary.find_binary(), "record", "--listen", "127.0.0.1:0", "--upstream", "%s:%d" % (host, port),
                     "--out", self.out_dir, "--events", "-", *flags]
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self._finalizer = weakref.finalize(self, _kill_forgotten, self.proc)
        self.events: list[Event] = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.port: int = self.wait(lambda e: e["event"] == "listening")["port"]

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.cond:
                self.events.append(json.loads(line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, pred: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event for which pred is true; TimeoutError when none
        comes in time or the proxy has exited."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError("no such event: %r (stderr %r)" % (
                        self.events, self.proc.stderr.read() if self.proc.poll() is not None else b""))
                self.cond.wait(min(left, 0.5))

    def transcript(self, session: str = "s000001", timeout: float = 10.0) -> tuple[str, Event]:
        """The session's transcript and its 'closed' event, once the proxy says it is closed."""
        e = self.wait(lambda e: e["event"] == "session" and e.get("state") == "closed" and e["session"] == session,
                      timeout)
        with open(e["transcript"], encoding="utf-8") as f:
            return f.read(), e

    def stop(self) -> int | None:
        """SIGTERM (open sessions are cut and written), then SIGKILL after
        10 s; the exit status (0 after SIGTERM)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._finalizer.detach()
        self.reader.join(5)
        return self.proc.returncode
