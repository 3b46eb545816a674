"""The exceptions of the Python drivers.

Every error that comes from the smtpkit binary carries what the binary
said (its stderr) and its exit status, so a failing test tells why without
a second run.

Limits: the text of stderr is kept whole up to 64 KiB (the tail beyond).
"""
from __future__ import annotations


class SmtpkitError(Exception):
    """Base class of every error raised by the smtpkit package."""


class BinaryNotFound(SmtpkitError):
    """No smtpkit binary; the message lists every place that was tried."""


class NotAvailable(SmtpkitError):
    """This smtpkit binary lacks a verb or a flag the call needs.

    Kept so that code catching it still runs; the package no longer raises
    it. A verb or flag the binary lacks shows as the binary's own error:
    ToolError from check/probe_server/replay, ServerStartError from
    MockServer.start()."""


class ToolError(SmtpkitError):
    """A smtpkit verb failed to run (exit status 2, or output that is not its report)."""

    def __init__(self, message: str, returncode: int | None = None, stderr: str = "",
                 argv: list[str] | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
        self.argv = argv


class ServerError(SmtpkitError):
    """`smtpkit serve` did not start, or stopped on its own."""

    def __init__(self, message: str, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class ServerStartError(ServerError):
    """`smtpkit serve` exited (or hung) before it was ready."""


class ServerDied(ServerError):
    """`smtpkit serve` exited while a test was still using it."""


class ScriptNotFound(SmtpkitError, FileNotFoundError):
    """A script named by its path is not there (a script given as text holds
    a newline, or is passed as text=)."""


class WaitTimeout(SmtpkitError, TimeoutError):
    """A bounded wait ran out; the message says what was seen meanwhile."""


def describe_exit(returncode: int | None) -> str:
    """'exit status 2' or 'killed by SIGKILL'."""
    import signal

    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return "killed by %s" % signal.Signals(-returncode).name
        except ValueError:
            return "killed by signal %d" % -returncode
    return "exit status %d" % returncode


def tail(text: str, limit: int = 65536) -> str:
    if len(text) <= limit:
        return text
    return "…" + text[-limit:]
