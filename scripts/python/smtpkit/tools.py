"""Thin wrappers over the verbs that write a conformance report.

`smtpkit check` (recorded dialogues), `smtpkit probe server` (a suite
against a live server) and `smtpkit replay` (a recording's client side
against a server), each run with `--format json` and returned as a
Report. Exit status 0 and 1 are reports (pass, violations); 2 is a
ToolError carrying the binary's stderr (e.g. "file:line:col: ...").

Limits: the command lines of probe and replay follow docs/cli.md
(`probe server HOST:PORT`, `replay TRANSCRIPT --target HOST:PORT`); a
binary without the verb fails like any other error, with a ToolError
carrying what the binary said.
Reports: `check` and `replay` list "dialogues" (replay adds "replay"),
`probe` lists "scenarios"; findings of both are flattened into
Report.findings. A verb that writes JSON lines instead gets them as a
list in Report.data.
"""
from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Iterable, Protocol, Tuple, Union

from . import binary as _binary
from .errors import ToolError, describe_exit
from .server import Finding, counts

StrPath = Union[str, "os.PathLike[str]"]


class Endpoint(Protocol):
    """Anything with a host and a port, such as a MockServer."""

    host: str
    port: int | None


# "host:port", (host, port), or an object with .host and .port.
Target = Union[str, Tuple[str, int], Endpoint]


class Report:
    """A parsed `--format json` report and how the verb exited."""

    def __init__(self, data: Any, returncode: int, stderr: str = "", argv: list[str] | None = None) -> None:
        self.data = data
        self.returncode = returncode
        self.stderr = stderr
        self.argv = argv

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    @property
    def verdict(self) -> str | None:
        return self.data.get("verdict") if isinstance(self.data, dict) else None

    @property
    def summary(self) -> dict[str, Any]:
        return self.data.get("summary", {}) if isinstance(self.data, dict) else {}

    @property
    def dialogues(self) -> list[dict[str, Any]]:
        return self.data.get("dialogues", []) if isinstance(self.data, dict) else []

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        """probe: one entry per scenario (id, verdict, reason, findings, ...)."""
        return self.data.get("scenarios", []) if isinstance(self.data, dict) else []

    def failed(self) -> list[dict[str, Any]]:
        """The dialogues or scenarios whose verdict is not pass (or n/a)."""
        return [x for x in self.dialogues + self.scenarios if x.get("verdict") not in ("pass", "not_applicable")]

    @property
    def findings(self) -> list[Finding]:
        out = []
        for d in self.dialogues + self.scenarios:
            source = d.get("source") or d.get("id")
            for f in d.get("findings") or []:
                out.append(Finding(f.get("rule"), f.get("side"), f.get("level"), f.get("rfc"), f.get("message", ""),
                                   f.get("excerpt", ""), f.get("offset"), line=f.get("line"), source=source))
        return out

    def findings_at(self, fail_on: str = "must") -> list[Finding]:
        return [f for f in self.findings if counts(f.level, fail_on)]

    def rules(self) -> list[str]:
        """The rule ids found, sorted, each once."""
        return sorted({f.rule for f in self.findings})

    def __repr__(self) -> str:
        return "Report(%s, %s, %d finding(s))" % (self.verdict, describe_exit(self.returncode), len(self.findings))


def _target(target: Target, port: int | None) -> str:
    if port is not None:
        return "%s:%d" % (target, port)
    if isinstance(target, (tuple, list)):
        return "%s:%d" % tuple(target)
    if hasattr(target, "host") and hasattr(target, "port"):
        return "%s:%d" % (target.host, target.port)
    return str(target)


def _run(argv: list[str], timeout: float) -> Report:
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise ToolError("%s did not finish within %s s" % (" ".join(argv[1:3]), timeout), None,
                        (e.stderr or b"").decode("utf-8", "replace"), argv) from e
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    data = None
    text = out.strip()
    if text:
        try:
            data = json.loads(text)
        except ValueError:
            try:
                data = [json.loads(line) for line in text.splitlines() if line.strip()]
            except ValueError:
                data = None
    verb = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv[:2]))
    if p.returncode not in (0, 1):
        raise ToolError("%s failed (%s): %s" % (verb, describe_exit(p.returncode), err.strip() or "(no message)"),
                        p.returncode, err, argv)
    if data is None:
        raise ToolError("%s wrote no JSON report (%s); stdout: %r; stderr: %s"
                        % (verb, describe_exit(p.returncode), out[:400], err.strip()), p.returncode, err, argv)
    return Report(data, p.returncode, err, argv)


def _report_flags(fail_on: str | None) -> list[str]:
    return ["--fail-on", fail_on] if fail_on else []


def check(paths: StrPath | Iterable[StrPath], *, judge: str | None = None, fail_on: str | None = None,
          args: Iterable[str] = (), binary: str | None = None, timeout: float = 120) -> Report:
    """`smtpkit check --format json PATHS...`: judge recorded dialogues.
    paths: a transcript file or folder, or a list of them."""
    binary = _binary.find_binary(binary)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    argv = [binary, "check", "--format", "json"] + _report_flags(fail_on)
    if judge:
        argv += ["--judge", judge]
    argv += list(args) + ["--"] + [os.fspath(p) for p in paths]
    return _run(argv, timeout)


def probe_server(target: Target, port: int | None = None, *, suite: StrPath | Iterable[StrPath] | None = None,
                 fail_on: str | None = None, args: Iterable[str] = (), binary: str | None = None,
                 timeout: float = 300) -> Report:
    """`smtpkit probe server HOST:PORT --format json`: run the conformance
    suite against a live server. target: "host:port", (host, port), an
    object with .host/.port, or a host with port=. suite: a folder or file
    of scenario scripts, or a list of them; args: more flags (--only ID,
    --starttls, --insecure, ...)."""
    binary = _binary.find_binary(binary)
    argv = [binary, "probe", "server", _target(target, port), "--format", "json"] + _report_flags(fail_on)
    for s in ([suite] if isinstance(suite, (str, os.PathLike)) else suite or []):
        argv += ["--suite", os.fspath(s)]
    return _run(argv + list(args), timeout)


def replay(transcript: StrPath, target: Target, port: int | None = None, *, fail_on: str | None = None,
           args: Iterable[str] = (), binary: str | None = None, timeout: float = 120) -> Report:
    """`smtpkit replay TRANSCRIPT --target HOST:PORT --format json`: play a
    recording's client side against a server and judge what it answers."""
    binary = _binary.find_binary(binary)
    argv = [binary, "replay", os.fspath(transcript), "--target", _target(target, port), "--format", "json"]
    return _run(argv + _report_flags(fail_on) + list(args), timeout)
