"""MockServer: run `smtpkit serve` for a test and see what it saw.

The server writes JSON-lines events (docs/serve.md) into a pipe; a
reader thread turns them into messages, sessions and findings. Readiness
is the server's own "ready" event, never a sleep; every wait is bounded; a
server that dies raises ServerDied with its stderr.

Limits: Linux (pass_fds, /dev/fd); standard library only. Listens on
127.0.0.1 only, on ports the server picks (port 0). Message bodies are
read from the Maildir when first asked for (and before the work folder
is removed), not held in memory while the server runs. A server nobody
stopped is killed when Python exits (weakref.finalize, which runs at
exit); one started from the main thread also dies when the Python process
is killed (PR_SET_PDEATHSIG), one started from another thread does not.
"""
from __future__ import annotations

import ctypes
import email
import email.policy
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import struct
import tempfile
import termios
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterable, Mapping, Sequence, TypeVar, Union, cast

from . import binary as _binary
from .errors import ScriptNotFound, ServerDied, ServerError, ServerStartError, WaitTimeout, describe_exit, tail

LEVELS = ("MUST", "SHOULD", "MAY", "ADVICE")

T = TypeVar("T")
Event = Dict[str, Any]
# A script: its path (a path object, or a string without a newline), or its
# text (a string with a newline; text= takes one without).
Script = Union[str, "os.PathLike[str]"]

# Every server this process started and has not stopped (pid -> MockServer),
# and the work folder of every server ever started, for leak checks.
running: dict[int, MockServer] = {}
started_workdirs: list[str] = []
_running_lock = threading.Lock()


def leftover_processes(workdirs: Iterable[str] | None = None) -> list[tuple[int, str]]:
    """[(pid, command line)] of live processes (zombies aside) whose command
    line names one of `workdirs` (default: every server this Python
    started). Linux only (/proc)."""
    workdirs = list(started_workdirs if workdirs is None else workdirs)
    found: list[tuple[int, str]] = []
    if not workdirs:
        return found
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % entry, "rb") as f:
                if f.read().rsplit(b") ", 1)[-1][:1] == b"Z":
                    continue  # exited; its parent reaps it
        except OSError:
            continue
        if any(w in cmd for w in workdirs):
            found.append((int(entry), cmd))
    return found


def counts(level: str | None, fail_on: str | None) -> bool:
    """True when a finding of `level` fails a run with --fail-on `fail_on`."""
    order = {"MUST": 0, "SHOULD": 1, "MAY": 2, "ADVICE": 3}
    return order.get(str(level).upper(), 9) <= order.get(str(fail_on).upper(), -1)


class Finding:
    """One rule a peer broke: from a live session or from a report."""

    __slots__ = ("session", "rule", "side", "level", "rfc", "message", "excerpt", "offset", "line", "source",
                 "waived", "rule_level", "script", "script_line", "expected", "received")

    rule: str
    side: str
    level: str
    rfc: str
    message: str
    excerpt: str
    offset: int | None
    session: str | None  # live findings: the session id
    line: int | None  # findings of a report: the transcript line
    source: str | None  # ... and the transcript (or scenario)
    waived: str | None  # a policy waived it (.smtpkit.yaml, --ignore): why, and where
    rule_level: str | None  # a policy set its level: the rule's own
    # script.mismatch: the script, the line of the record expected, that
    # record as written ("C: EHLO x"), and what came instead (escaped).
    script: str | None
    script_line: int | None
    expected: str | None
    received: str | None

    def __init__(self, rule: str, side: str, level: str, rfc: str, message: str, excerpt: str = "",
                 offset: int | None = None, session: str | None = None, line: int | None = None,
                 source: str | None = None, waived: str | None = None, rule_level: str | None = None,
                 script: str | None = None, script_line: int | None = None,
                 expected: str | None = None, received: str | None = None) -> None:
        self.rule, self.side, self.level, self.rfc = rule, side, level, rfc
        self.message, self.excerpt, self.offset = message, excerpt, offset
        self.session, self.line, self.source = session, line, source
        self.waived, self.rule_level = waived, rule_level
        self.script, self.script_line, self.expected, self.received = script, script_line, expected, received

    @classmethod
    def from_event(cls, e: Event) -> Finding:
        w = e.get("waived")
        return cls(e.get("rule"), e.get("side"), e.get("level"), e.get("rfc"), e.get("message", ""),
                   e.get("excerpt", ""), e.get("offset"), session=e.get("session"),
                   waived="%s (%s)" % (w.get("reason"), w.get("by")) if w else None, rule_level=e.get("rule_level"),
                   script=e.get("script"), script_line=e.get("script_line"), expected=e.get("expected"),
                   received=e.get("received"))

    def __str__(self) -> str:
        where = self.session or ("%s:%s" % (self.source, self.line) if self.source else "")
        rfc = " (%s)" % self.rfc if self.rfc else ""  # script.mismatch has no RFC section
        return "%s%s %s %s: %s%s%s%s" % (where + ": " if where else "", self.side, self.level, self.rule,
                                         self.message, rfc, " at %r" % self.excerpt if self.excerpt else "",
                                         " [waived: %s]" % self.waived if self.waived else "")

    def __repr__(self) -> str:
        return "Finding(%s)" % self

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class Reply:
    """One reply of the server: its code, the text of its last line, every line's text."""

    __slots__ = ("code", "text", "lines")

    code: int
    text: str
    lines: list[str]

    def __init__(self, code: int, text: str, lines: list[str] | None = None) -> None:
        self.code, self.text, self.lines = code, text, lines or [text]

    def __repr__(self) -> str:
        return "Reply(%d, %r)" % (self.code, self.text)


class Message:
    """A message the server accepted (it got 250): envelope, TLS and AUTH
    facts, and the stored octets (`raw`, dot-unstuffed, byte for byte)."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.id: str | None = event.get("id")
        self.session: str | None = event.get("session")
        self.path: str | None = event.get("path") or None
        self.envelope_path: str | None = event.get("envelope_path") or None  # the Maildir's envelopes.jsonl
        self.envelope_offset: int | None = event.get("envelope_offset")  # of this message's line in it
        self.size: int | None = event.get("size")
        self.sha256: str | None = event.get("sha256")
        self.envelope: dict[str, Any] = event.get("envelope") or {}
        self._raw: bytes | None = None
        self._email: email.message.EmailMessage | None = None

    @property
    def mail_from(self) -> str | None:
        return self.envelope.get("mail_from")

    @property
    def mail_params(self) -> dict[str, Any]:
        return self.envelope.get("mail_params", {})

    @property
    def helo(self) -> str | None:
        return self.envelope.get("helo")

    @property
    def esmtp(self) -> bool | None:
        return self.envelope.get("esmtp")

    @property
    def peer(self) -> str | None:
        return self.envelope.get("peer")

    @property
    def transport(self) -> str | None:
        return self.envelope.get("transport")

    @property
    def tls(self) -> bool:
        return bool(self.envelope.get("tls"))

    @property
    def tls_version(self) -> str | None:
        return self.envelope.get("tls_version")

    @property
    def tls_cipher(self) -> str | None:
        return self.envelope.get("tls_cipher")

    @property
    def auth(self) -> str | None:
        return self.envelope.get("auth")

    @property
    def rcpt_to(self) -> list[str]:
        return [r.get("address") for r in self.envelope.get("rcpt_to", [])]

    @property
    def rcpt_params(self) -> dict[str, dict[str, Any]]:
        return {r.get("address"): r.get("params", {}) for r in self.envelope.get("rcpt_to", [])}

    @property
    def raw(self) -> bytes | None:
        """The stored octets (None with --discard)."""
        if self._raw is None and self.path:
            with open(self.path, "rb") as f:
                self._raw = f.read()
        return self._raw

    @property
    def email(self) -> email.message.EmailMessage | None:
        """The message parsed by the `email` package (policy.default)."""
        if self._email is None and self.raw is not None:
            # policy.default makes an EmailMessage (get_content() and friends).
            self._email = cast("email.message.EmailMessage",
                               email.message_from_bytes(self.raw, policy=email.policy.default))
        return self._email

    def stored_envelope(self) -> dict[str, Any]:
        """The envelope as the Maildir keeps it: this message's line of
        DIR/envelopes.jsonl ({"id", "file", "envelope"}), its "envelope"."""
        with open(self.envelope_path, "rb") as f:
            f.seek(self.envelope_offset or 0)
            line = json.loads(f.readline())
        if line.get("id") != self.id:
            raise ServerError("%s: the line at %s is not message %s" % (self.envelope_path, self.envelope_offset, self.id))
        return line["envelope"]

    @property
    def subject(self) -> str | None:
        """The Subject field, decoded (None without one, or with --discard)."""
        msg = self.email
        return None if msg is None or msg["Subject"] is None else str(msg["Subject"])

    def __repr__(self) -> str:
        return "Message(%s from %r to %r, subject %r, %s octets)" % (self.id, self.mail_from, self.rcpt_to,
                                                                    self.subject, self.size)

    def __str__(self) -> str:
        """The message text, as str() of an email.message.Message gives it
        (the octets read as UTF-8, undecodable ones replaced)."""
        raw = self.raw
        return repr(self) if raw is None else raw.decode("utf-8", "replace")


class Session:
    """One client connection as the server saw it."""

    def __init__(self, sid: str, peer: str | None = None) -> None:
        self.id = sid
        self.peer = peer
        self.state = "open"
        self.implicit_tls = False
        self.tls: Event | None = None  # {"state", "version", "cipher"} after a handshake
        self.auth_user: str | None = None
        self.commands: list[str] = []  # command lines, as the server took them
        self.replies: list[Reply] = []
        self.dialogue: list[tuple[str, str]] = []  # ("C", line) / ("S", "250 text") in event order
        self.findings: list[Finding] = []
        self.findings_count: int | None = None  # from the "closed" event
        self.messages: list[Message] = []
        self.discarded: list[Event] = []  # "discarded" events (octets ignored, e.g. after STARTTLS)
        self.notes: list[Event] = []  # script notes: what differed from a recording but is not compared
        self.transcript_path: str | None = None
        self._transcript: str | None = None

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    @property
    def transcript(self) -> str:
        """The session's transcript (dialogue format), read from the server's
        transcript folder; while it is open, what the events told so far."""
        if self._transcript is not None:
            return self._transcript
        if self.transcript_path and os.path.exists(self.transcript_path):
            with open(self.transcript_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if self.closed:
                self._transcript = text
            return text
        lines = ["# session %s (%s): no transcript file yet; commands and replies so far" % (self.id, self.state)]
        for side, text in self.dialogue:
            lines.append("%s: %s" % (side, text))
        return "\n".join(lines) + "\n"

    def _load(self) -> None:
        try:
            self.transcript  # noqa: B018 (caches the file text once closed)
        except OSError:
            pass

    def __repr__(self) -> str:
        return "Session(%s %s, %d commands, %d findings)" % (self.id, self.state, len(self.commands), len(self.findings))


_FLAG_SPECIAL = {"tls", "users", "user", "no", "auth_mechanisms", "args", "script", "scripts"}


def _flags(options: Mapping[str, Any]) -> list[str]:
    """Keyword options -> command-line flags: foo_bar=1 -> --foo-bar 1,
    True -> --foo-bar, False/None -> nothing, list -> repeated."""
    argv: list[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                argv += [flag, str(v)]
        else:
            argv += [flag, str(value)]
    return argv


def _kill_forgotten(proc: subprocess.Popen[bytes]) -> None:
    """Kill a server nobody stopped: at interpreter exit, or when its
    MockServer is collected. Holds the process, never the MockServer."""
    if proc.poll() is None:
        try:
            proc.kill()
            proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _pdeathsig() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 (best effort in the child)
        pass


class MockServer:
    """`smtpkit serve` on 127.0.0.1, port chosen at run time.

    script: a dialogue-format script, as a path or as inline text (or a list
    of them); options: serve flags as keywords (max_size=1000 ->
    --max-size 1000, durable=True -> --durable, no=["pipelining"] ->
    --no pipelining, users={"alice": "pw"} -> --user alice:pw, tls=True adds
    an implicit-TLS listener, http=True the web view and Mailpit API on
    http_url, pop3=True POP3 on pop3_port, args=[...] raw extra flags).
    """

    def __init__(self, script: Script | Sequence[Script] | None = None, *,
                 script_path: Script | Sequence[Script] | None = None, script_text: str | Sequence[str] | None = None,
                 binary: str | None = None,
                 workdir: str | os.PathLike[str] | None = None, keep: bool = False, start_timeout: float = 30.0,
                 stop_timeout: float | None = None, env: Mapping[str, str] | None = None, **options: Any) -> None:
        self.binary = _binary.find_binary(binary)
        self.options = dict(options)
        options.setdefault("shutdown_grace", 2)
        self._own_workdir = workdir is None
        self.workdir = os.path.abspath(workdir) if workdir else tempfile.mkdtemp(prefix="smtpkit-serve-")
        self.keep = keep
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout if stop_timeout is not None else float(options["shutdown_grace"]) + 5.0
        self.maildir = os.path.abspath(options.pop("maildir", None) or os.path.join(self.workdir, "maildir"))
        self.transcripts_dir = os.path.abspath(options.pop("transcripts", None) or os.path.join(self.workdir, "transcripts"))
        self.stderr_path = os.path.join(self.workdir, "stderr.txt")
        self.script_texts: dict[str, str] = {}  # inline script file -> its text (kept after close())
        try:
            self.scripts = self._script_files(script if script is not None else options.pop("scripts", None),
                                              script_path, script_text)
        except BaseException:
            self._cleanup_workdir()
            raise
        self._env = env
        self._argv_options = options
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.tls_port: int | None = None
        self.http_url: str | None = None  # with http=True: the web view and Mailpit API, "http://127.0.0.1:PORT"
        self.pop3_port: int | None = None  # with pop3=True
        self.endpoints: list[Event] = []
        self.info: Event = {}  # the "ready" event
        self.stopped_info: Event | None = None  # the "stopped" event
        self.events: list[Event] = []
        self.messages: list[Message] = []
        self.findings: list[Finding] = []
        self._sessions: dict[str, Session] = {}
        self.refused: list[Event] = []  # "refused" session events (--max-sessions)
        self.store_errors: list[Event] = []
        self._cond = threading.Condition()
        self._eof = False
        self._reader: threading.Thread | None = None
        self._events_fd: int | None = None
        self._finalizer: weakref.finalize | None = None
        self._ready = False
        self._stop_requested = False

    # --- command line ---------------------------------------------------------

    def _script_files(self, script: Script | Sequence[Script] | None, paths: Script | Sequence[Script] | None,
                      texts: str | Sequence[str] | None) -> list[str]:
        """Paths of the scripts, in order: `script` (each a path, or text when
        it holds a newline), then `paths`, then `texts` (inline text is
        written to WORKDIR/inline-script-N.smtp)."""
        def items(x: Any) -> list[Any]:
            return [] if x is None else list(x) if isinstance(x, (list, tuple)) else [x]

        ordered: list[tuple[str, Any]] = []
        for s in items(script):
            if isinstance(s, str) and "\n" in s:
                ordered.append(("text", s))
            elif isinstance(s, (str, os.PathLike)):
                ordered.append(("path", s))
            else:
                raise TypeError("script must be a path or the script text, not %r" % type(s).__name__)
        ordered += [("path", s) for s in items(paths)] + [("text", s) for s in items(texts)]
        files = []
        inline = 0
        for kind, s in ordered:
            if kind == "path":
                path = os.path.abspath(os.fspath(s))
                if not os.path.isfile(path):
                    raise ScriptNotFound("script file not found: %s%s" % (
                        os.fspath(s), "" if os.path.isabs(os.fspath(s)) else " (from %s)" % os.getcwd())
                        + " — a script given as text holds a newline (or pass it as text=...)")
                files.append(path)
                continue
            if not isinstance(s, str):
                raise TypeError("script text must be a str, not %r" % type(s).__name__)
            inline += 1
            path = os.path.join(self.workdir, "inline-script-%d.smtp" % inline)
            text = s if s.endswith("\n") else s + "\n"
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            self.script_texts[path] = text
            files.append(path)
        return files

    def argv(self, events_target: str) -> list[str]:
        """The `smtpkit serve` command line, events written to `events_target`."""
        o = dict(self._argv_options)
        argv = [self.binary, "serve", "--listen", "127.0.0.1:0", "--events", events_target,
                "--maildir", self.maildir, "--transcripts", self.transcripts_dir]
        if o.pop("tls", False):
            argv += ["--tls-listen", "127.0.0.1:0"]
        for service in ("http", "pop3"):
            where = o.pop(service, None)
            if where:
                argv += ["--" + service, "127.0.0.1:0" if where is True else str(where)]
        users = o.pop("users", None) or o.pop("user", None)
        if isinstance(users, dict):
            users = ["%s:%s" % kv for kv in users.items()]
        elif isinstance(users, (tuple, list)) and len(users) == 2 and all(isinstance(u, str) for u in users) \
                and ":" not in users[0]:
            users = ["%s:%s" % tuple(users)]  # ("alice", "pw")
        elif isinstance(users, str):
            users = [users]
        for u in users or []:
            argv += ["--user", u if isinstance(u, str) else "%s:%s" % tuple(u)]
        no = o.pop("no", None)
        for ext in ([no] if isinstance(no, str) else no or []):
            argv += ["--no", ext]
        mechs = o.pop("auth_mechanisms", None)
        if mechs:
            argv += ["--auth-mechanisms", mechs if isinstance(mechs, str) else ",".join(mechs)]
        extra = list(o.pop("args", None) or [])
        argv += _flags(o)
        for s in self.scripts:
            argv += ["--script", s]
        return argv + extra

    # --- life cycle -------------------------------------------------------------

    def start(self) -> MockServer:
        """Start the server and wait for its "ready" event; returns self."""
        if self.proc is not None:
            return self
        r, w = os.pipe()
        argv = self.argv("/dev/fd/%d" % w)
        self.command_line = argv
        stderr = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, pass_fds=(w,), cwd=self.workdir,
                env=self._env, preexec_fn=_pdeathsig if threading.current_thread() is threading.main_thread() else None)
        except OSError as e:
            os.close(r)
            os.close(w)
            stderr.close()
            self._cleanup_workdir()
            raise ServerStartError("cannot run %s: %s" % (self.binary, e)) from e
        finally:
            if self.proc is not None:
                os.close(w)
                stderr.close()
        with _running_lock:
            running[self.proc.pid] = self
            started_workdirs.append(self.workdir)
        # A server a test forgets to stop is still killed when Python exits
        # (weakref.finalize runs its callbacks at exit; a __del__ would not
        # run while the reader thread holds this object).
        self._finalizer = weakref.finalize(self, _kill_forgotten, self.proc)
        self._events_fd = r
        self._reader = threading.Thread(target=self._read_events, args=(r,), name="smtpkit-events-%d" % self.proc.pid,
                                        daemon=True)
        self._reader.start()
        try:
            self._wait_ready()
        except BaseException:
            self._kill()
            self._cleanup_workdir()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        with self._cond:
            while not self._ready:
                if self._eof or self.proc.poll() is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        if self._ready:
            return
        # Exited (or exiting: its event stream ended), or still running.
        rc = self._reap(2.0) if self._eof or self.proc.poll() is not None else None
        if rc is None:
            err = self.stderr_text()
            raise ServerStartError("smtpkit serve was not ready within %.0f s (no 'ready' event); stderr:\n%s"
                                   % (self.start_timeout, err or "(empty)"), None, err)
        err = self.stderr_text()
        raise ServerStartError("smtpkit serve exited before it was ready (%s): %s" % (describe_exit(rc), err.strip()
                               or "(no message on stderr)"), rc, err)

    def _reap(self, timeout: float) -> int | None:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._forget()
        return self.returncode

    def _forget(self) -> None:
        with _running_lock:
            running.pop(self.proc.pid, None)
        if self._finalizer is not None:
            self._finalizer.detach()

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self._reap(10)
            self._join_reader(5)

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, a bounded wait, then SIGKILL. Returns the exit status
        (negative: killed by that signal). Safe to call twice."""
        if self.proc is None:
            return None
        self._stop_requested = True
        if self.returncode is None:
            timeout = self.stop_timeout if timeout is None else timeout
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
            if self._reap(timeout) is None:
                self.proc.kill()
                self._reap(10)
        self._join_reader(5)
        return self.returncode

    def _join_reader(self, timeout: float) -> None:
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout)

    def close(self) -> int | None:
        """stop(), keep what tests may still read (message octets,
        transcripts) in memory, and remove the work folder."""
        rc = self.stop()
        with self._cond:
            for m in self.messages:
                try:
                    m.raw  # noqa: B018 (loads and caches)
                except OSError:
                    pass
            for s in self._sessions.values():
                s._load()
        self._cleanup_workdir()
        return rc

    def _cleanup_workdir(self) -> None:
        if self._own_workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- events -------------------------------------------------------------------

    def _read_events(self, fd: int) -> None:
        # Octets are read without blocking and applied under the lock, so
        # "nothing left in the pipe" (see _drained) means every event the
        # server has written so far is applied.
        os.set_blocking(fd, False)
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        partial = b""
        eof = False
        while not eof:
            poller.poll()
            with self._cond:
                while True:
                    try:
                        chunk = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        break
                    except OSError:
                        chunk = b""
                    if not chunk:
                        eof = True
                        break
                    *lines, partial = (partial + chunk).split(b"\n")
                    for line in lines:
                        self._apply(self._parse_event(line))
                self._cond.notify_all()
        with self._cond:
            if partial:
                self._apply(self._parse_event(partial))
            self._events_fd = None
            os.close(fd)
            self._eof = True
            self._cond.notify_all()

    @staticmethod
    def _parse_event(line: bytes) -> Event:
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "unparsed", "text": line.decode("utf-8", "replace")}

    def _drained(self) -> bool:
        """True when every event the server has written is applied (call
        with the lock held)."""
        fd = self._events_fd
        if fd is None:
            return True
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0] == 0
        except OSError:
            return True

    def _session(self, sid: str, peer: str | None = None) -> Session:
        s = self._sessions.get(sid)
        if s is None:
            s = self._sessions[sid] = Session(sid, peer)
        return s

    def _apply(self, e: Event) -> None:
        self.events.append(e)
        kind = e.get("event")
        sid = e.get("session")
        if kind == "listening":
            self.endpoints.append(e)
            if e.get("tls"):
                self.tls_port = self.tls_port or e.get("port")
            else:
                self.port = self.port or e.get("port")
        elif kind == "service":
            if e.get("service") == "http":
                self.http_url = e.get("url")
            elif e.get("service") == "pop3":
                self.pop3_port = e.get("port")
        elif kind == "ready":
            self.info = e
            self._ready = True
        elif kind == "session":
            state = e.get("state")
            if state == "refused" or sid is None:
                self.refused.append(e)
                return
            s = self._session(sid, e.get("peer"))
            s.state = state
            if state == "open":
                s.peer = e.get("peer")
                s.implicit_tls = bool(e.get("tls"))
            elif state == "closed":
                s.findings_count = e.get("findings")
                s.transcript_path = e.get("transcript")
        elif kind == "command":
            s = self._session(sid)
            s.commands.append(e.get("line", ""))
            s.dialogue.append(("C", e.get("line", "")))
        elif kind == "reply":
            s = self._session(sid)
            r = Reply(e.get("code"), e.get("text", ""), e.get("lines"))
            s.replies.append(r)
            for i, text in enumerate(r.lines):
                s.dialogue.append(("S", "%d%s%s" % (r.code, "-" if i + 1 < len(r.lines) else " ", text)))
        elif kind == "tls":
            self._session(sid).tls = e
        elif kind == "auth":
            self._session(sid).auth_user = e.get("user")
        elif kind == "message":
            m = Message(e)
            self.messages.append(m)
            self._session(sid).messages.append(m)
        elif kind == "finding":
            f = Finding.from_event(e)
            self.findings.append(f)
            self._session(sid).findings.append(f)
        elif kind == "discarded":
            self._session(sid).discarded.append(e)
        elif kind == "script" and "note" in e:
            self._session(sid).notes.append(e)
        elif kind == "store-error":
            self.store_errors.append(e)
        elif kind == "stopped":
            self.stopped_info = e

    # --- what was seen --------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int | None]:
        return (self.host, self.port)

    @property
    def sessions(self) -> list[Session]:
        """Sessions in the order they opened."""
        with self._cond:
            return sorted(self._sessions.values(), key=lambda s: s.id)

    def session(self, sid: str) -> Session:
        with self._cond:
            return self._sessions[sid]

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.returncode is None and self.proc.poll() is None

    def stderr_text(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return tail(f.read())
        except OSError:
            return ""

    def reset(self) -> None:
        """Forget the messages, findings, events and closed sessions seen so
        far (sessions still open stay). Stored files are left in place."""
        with self._cond:
            self.events.clear()
            self.messages.clear()
            self.findings.clear()
            self.refused.clear()
            self.store_errors.clear()
            for sid in [k for k, s in self._sessions.items() if s.closed]:
                del self._sessions[sid]
            for s in self._sessions.values():
                s.findings.clear()
                s.messages.clear()

    # --- waiting -------------------------------------------------------------------------

    def _exit_status(self) -> int | None:
        """The exit status once the event stream has ended (the process is
        exiting: wait a little for it), or None if it is still running."""
        if self.returncode is None:
            try:
                self.returncode = self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                return None
            self._forget()
        return self.returncode

    def wait_for(self, predicate: Callable[[MockServer], T], timeout: float = 10.0,
                 what: str = "the condition") -> T:
        """Wait until predicate(self) is true (checked after each event).
        Raises WaitTimeout, or ServerDied when the server is gone."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                if self._eof:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout("waited %.1f s for %s; %s" % (timeout, what, self.summary()))
                self._cond.wait(min(left, 0.5))
        # The event stream ended: the server exited (or was stopped).
        value = predicate(self)
        if value:
            return value
        rc = self._exit_status()
        err = self.stderr_text()
        if rc is None:
            raise ServerError("smtpkit serve closed its event stream but is still running; waited for %s; %s"
                              % (what, self.summary()), None, err)
        if self._stop_requested:
            raise ServerError("smtpkit serve is stopped (%s); waited for %s; %s"
                              % (describe_exit(rc), what, self.summary()), rc, err)
        raise ServerDied("smtpkit serve stopped on its own (%s) while the test waited for %s; stderr:\n%s"
                         % (describe_exit(rc), what, err.strip() or "(empty)"), rc, err)

    def wait_for_messages(self, n: int = 1, timeout: float = 10.0) -> list[Message]:
        """The first n messages collected (since start or reset())."""
        self.wait_for(lambda s: len(s.messages) >= n, timeout, "%d message(s)" % n)
        with self._cond:
            return list(self.messages[:n])

    def wait_for_sessions_closed(self, n: int | None = None, timeout: float = 10.0) -> list[Session]:
        """Wait until n sessions have closed (default: every session opened
        so far, and at least one). Returns the closed sessions."""
        def done(s: MockServer) -> bool:
            if not s._drained():
                return False
            closed = [x for x in s._sessions.values() if x.closed]
            if n is None:
                return bool(s._sessions) and len(closed) == len(s._sessions)
            return len(closed) >= n
        self.wait_for(done, timeout, "%s session(s) to close" % ("every" if n is None else n))
        with self._cond:
            return sorted((x for x in self._sessions.values() if x.closed), key=lambda x: x.id)

    def settle(self, timeout: float = 2.0) -> bool:
        """Wait (bounded, no error) until no session is open; True if so."""
        try:
            # Drained first: the server writes a session's events before its
            # replies, so a session whose client is done is known by then.
            self.wait_for(lambda s: s._drained() and all(x.closed for x in s._sessions.values()), timeout,
                          "open sessions to close")
            return True
        except (WaitTimeout, ServerError):
            return False

    def findings_at(self, fail_on: str = "must") -> list[Finding]:
        """The findings at `fail_on` or above that a policy did not waive."""
        with self._cond:
            return [f for f in self.findings if counts(f.level, fail_on) and not f.waived]

    def assert_no_findings(self, level: str = "ADVICE") -> None:
        """AssertionError listing each finding (with its session's
        transcript) when there is one at `level` or above."""
        bad = self.findings_at(level)
        if bad:
            text = ["%d finding(s):" % len(bad)] + ["  %s" % f for f in bad]
            for sid in sorted({f.session for f in bad}):
                text += ["--- transcript %s ---" % sid, self._sessions[sid].transcript]
            raise AssertionError("\n".join(text))

    def summary(self) -> str:
        """One paragraph on the state: process, sessions, last replies."""
        parts = ["server %s" % ("running" if self.alive else describe_exit(self.returncode if self.returncode is not None
                                                                           else self.proc and self.proc.poll()))]
        parts.append("%d message(s), %d finding(s)" % (len(self.messages), len(self.findings)))
        for s in sorted(self._sessions.values(), key=lambda x: x.id)[-5:]:
            last = s.dialogue[-4:]
            parts.append("session %s %s, last: %s" % (s.id, s.state, " | ".join("%s: %s" % d for d in last) or "-"))
        return "; ".join(parts)

    def __repr__(self) -> str:
        return "MockServer(%s:%s, %s)" % (self.host, self.port, "running" if self.alive else "stopped")
