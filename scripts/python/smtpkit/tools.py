"""Thin wrappers over the verbs that write a conformance report.

`smtpkit check` (recorded dialogues), `smtpkit probe server` (a suite
against a live server) and `smtpkit replay` (a recording's client side
against a server), each run with `--format json` and returned as a
Report. Exit status 0 and 1 are reports (pass, violations); 2 is a
ToolError carrying the binary's stderr (e.g. "file:line:col: ...").

Limits: the command lines of probe and replay follow docs and DESIGN.md
(`probe server HOST:PORT`, `replay TRANSCRIPT --target HOST:PORT`); when a
verb is not in the binary, NotAvailable is raised before anything runs.
Reports: `check` and `replay` list "dialogues" (replay adds "replay"),
`probe` lists "scenarios"; findings of both are flattened into
Report.findings. A verb that writes JSON lines instead gets them as a
list in Report.data.
"""
import json
import os
import subprocess

from . import binary as _binary
from .errors import NotAvailable, ToolError, describe_exit
from .server import Finding, counts


class Report:
    """A parsed `--format json` report and how the verb exited."""

    def __init__(self, data, returncode, stderr="", argv=None):
        self.data = data
        self.returncode = returncode
        self.stderr = stderr
        self.argv = argv

    @property
    def passed(self):
        return self.returncode == 0

    @property
    def verdict(self):
        return self.data.get("verdict") if isinstance(self.data, dict) else None

    @property
    def summary(self):
        return self.data.get("summary", {}) if isinstance(self.data, dict) else {}

    @property
    def dialogues(self):
        return self.data.get("dialogues", []) if isinstance(self.data, dict) else []

    @property
    def scenarios(self):
        """probe: one entry per scenario (id, verdict, reason, findings, ...)."""
        return self.data.get("scenarios", []) if isinstance(self.data, dict) else []

    def failed(self):
        """The dialogues or scenarios whose verdict is not pass (or n/a)."""
        return [x for x in self.dialogues + self.scenarios if x.get("verdict") not in ("pass", "not_applicable")]

    @property
    def findings(self):
        out = []
        for d in self.dialogues + self.scenarios:
            source = d.get("source") or d.get("id")
            for f in d.get("findings") or []:
                out.append(Finding(f.get("rule"), f.get("side"), f.get("level"), f.get("rfc"), f.get("message", ""),
                                   f.get("excerpt", ""), f.get("offset"), line=f.get("line"), source=source))
        return out

    def findings_at(self, fail_on="must"):
        return [f for f in self.findings if counts(f.level, fail_on)]

    def rules(self):
        """The rule ids found, sorted, each once."""
        return sorted({f.rule for f in self.findings})

    def __repr__(self):
        return "Report(%s, %s, %d finding(s))" % (self.verdict, describe_exit(self.returncode), len(self.findings))


def _target(target, port):
    if port is not None:
        return "%s:%d" % (target, port)
    if isinstance(target, (tuple, list)):
        return "%s:%d" % tuple(target)
    if hasattr(target, "host") and hasattr(target, "port"):
        return "%s:%d" % (target.host, target.port)
    return str(target)


def _run(argv, timeout):
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


def _need(verb, binary):
    if not _binary.has_verb(verb, binary):
        raise NotAvailable("smtpkit %s is not in this build (%s lists: %s)"
                           % (verb, binary, ", ".join(_binary.verbs(binary)) or "nothing"))


def _report_flags(fail_on):
    return ["--fail-on", fail_on] if fail_on else []


def check(paths, *, judge=None, fail_on=None, args=(), binary=None, timeout=120):
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


def probe_server(target, port=None, *, suite=None, fail_on=None, args=(), binary=None, timeout=300):
    """`smtpkit probe server HOST:PORT --format json`: run the conformance
    suite against a live server. target: "host:port", (host, port), an
    object with .host/.port, or a host with port=. suite: a folder or file
    of scenario scripts, or a list of them; args: more flags (--only ID,
    --starttls, --insecure, ...)."""
    binary = _binary.find_binary(binary)
    _need("probe", binary)
    argv = [binary, "probe", "server", _target(target, port), "--format", "json"] + _report_flags(fail_on)
    for s in ([suite] if isinstance(suite, (str, os.PathLike)) else suite or []):
        argv += ["--suite", os.fspath(s)]
    return _run(argv + list(args), timeout)


def replay(transcript, target, port=None, *, fail_on=None, args=(), binary=None, timeout=120):
    """`smtpkit replay TRANSCRIPT --target HOST:PORT --format json`: play a
    recording's client side against a server and judge what it answers."""
    binary = _binary.find_binary(binary)
    _need("replay", binary)
    argv = [binary, "replay", os.fspath(transcript), "--target", _target(target, port), "--format", "json"]
    return _run(argv + _report_flags(fail_on) + list(args), timeout)
