"""Find the smtpkit binary and learn what it can do.

Order: the SMTPKIT_BIN environment variable, then the build tree of the
source checkout this package sits in (build/default/cli/smtpkit under the
first folder above the package that holds CMakeLists.txt and cli/), then
PATH. The error names every place tried. A SMTPKIT_BIN that is set but
not executable is an error at once (falling back would test another
binary than the one asked for).

verbs(), has_verb() and has_flag() read a binary's --help text (verbs
listed under "Subcommands:", flags of a verb), cached per binary path and
mtime. They are a guess from CLI11's help layout, kept for users who want
to print or log what a build offers; nothing in this package decides by
them, and smtpkit's own tests never skip on them: a verb or flag a build
lacks makes the call that needs it fail with the binary's own error
(ToolError, ServerStartError). A verb's help is trusted only when the
top-level help lists the verb (CLI11 prints the top-level help for
unknown verbs).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

from .errors import BinaryNotFound

BUILD_RELATIVE = os.path.join("build", "default", "cli", "smtpkit")
_help_cache: dict[tuple[object, ...], str] = {}


def source_root(start: str | os.PathLike[str] | None = None) -> str | None:
    """The smtpkit source checkout above `start` (default: this package), or None."""
    d = os.path.abspath(start or os.path.dirname(__file__))
    while True:
        if os.path.isfile(os.path.join(d, "CMakeLists.txt")) and os.path.isdir(os.path.join(d, "cli")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _executable(path: str | os.PathLike[str]) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary(explicit: str | os.PathLike[str] | None = None) -> str:
    """Absolute path of the smtpkit binary; raises BinaryNotFound."""
    tried = []
    if explicit:
        if _executable(explicit):
            return os.path.abspath(explicit)
        raise BinaryNotFound("smtpkit binary %r (given explicitly) is not an executable file" % explicit)
    env = os.environ.get("SMTPKIT_BIN")
    if env:
        if _executable(env):
            return os.path.abspath(env)
        # Set but wrong: falling back would test some other binary.
        raise BinaryNotFound("SMTPKIT_BIN=%s is not an executable file (unset it to use the build tree or PATH)" % env)
    tried.append("SMTPKIT_BIN (not set)")
    root = source_root()
    if root:
        cand = os.path.join(root, BUILD_RELATIVE)
        if _executable(cand):
            return cand
        tried.append("%s (not built: cmake --preset default && cmake --build --preset default)" % cand)
    else:
        tried.append("the build tree (no smtpkit source checkout above %s)" % os.path.dirname(os.path.abspath(__file__)))
    on_path = shutil.which("smtpkit")
    if on_path:
        return os.path.abspath(on_path)
    tried.append("PATH (no smtpkit in %s)" % os.environ.get("PATH", ""))
    raise BinaryNotFound("smtpkit binary not found; tried:\n  " + "\n  ".join(tried))


def help_text(binary: str, *verb: str) -> str:
    """`smtpkit [VERB...] --help` output (cached)."""
    key: tuple[object, ...]
    try:
        st = os.stat(binary)
        key = (binary, st.st_mtime_ns, st.st_size, verb)
    except OSError:
        key = (binary, None, None, verb)
    if key not in _help_cache:
        try:
            p = subprocess.run([binary, *verb, "--help"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
            _help_cache[key] = (p.stdout + p.stderr).decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired) as e:
            _help_cache[key] = ""
            return "(cannot run %s --help: %s)" % (binary, e)
    return _help_cache[key]


def verbs(binary: str | None = None) -> list[str]:
    """The verbs this binary lists under 'Subcommands:' (read from --help: for information only)."""
    text = help_text(binary or find_binary())
    found, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s{1,4}([a-z][a-z0-9-]*)\b", line)
            if m:
                found.append(m.group(1))
            elif line.strip() and not line.startswith(" "):
                inside = False
    return found


def has_verb(verb: str, binary: str | None = None) -> bool:
    """True when `smtpkit --help` lists VERB (a guess from the help text: for information only)."""
    return verb in verbs(binary)


def has_flag(verb: str, flag: str, binary: str | None = None) -> bool:
    """True when `smtpkit VERB --help` lists FLAG (e.g. has_flag('serve', '--script')); a guess
    from the help text, for information only."""
    binary = binary or find_binary()
    if not has_verb(verb.split()[0], binary):
        return False
    text = help_text(binary, *verb.split())
    return re.search(r"(^|[\s,])" + re.escape(flag) + r"(?![\w-])", text, re.M) is not None
