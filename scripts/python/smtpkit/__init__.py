"""Python drivers and a pytest plugin for the smtpkit binary.

MockServer runs `smtpkit serve` for tests; check, probe_server and replay
run the report verbs; smtpkit.pytest_plugin holds the fixtures. Standard
library only.

Limits: Linux; the binary must be built (see smtpkit.binary.find_binary
for where it is looked for). API reference: docs/python.md.
"""
from .binary import find_binary, has_flag, has_verb, verbs
from .errors import (BinaryNotFound, NotAvailable, ScriptNotFound, ServerDied, ServerError, ServerStartError,
                     SmtpkitError, ToolError, WaitTimeout)
from .server import Finding, Message, MockServer, Reply, Session
from .tools import Report, check, probe_server, replay

__all__ = [
    "BinaryNotFound", "Finding", "Message", "MockServer", "NotAvailable", "Reply", "Report", "ScriptNotFound",
    "ServerDied", "ServerError", "ServerStartError", "Session", "SmtpkitError", "ToolError", "WaitTimeout", "check",
    "find_binary", "has_flag", "has_verb", "probe_server", "replay", "verbs",
]
__version__ = "0.1.0"
