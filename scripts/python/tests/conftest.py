# conftest.py — the tests of the smtpkit Python package (scripts/python).
# Loads the plugin from this source tree unless `-p smtpkit.pytest_plugin`
# or an installed entry point already did, and checks after every test
# that no `smtpkit serve` it started is still running.
#
# Limits: Linux (/proc). Needs a built binary (SMTPKIT_BIN, else the
# build tree); without one every test here fails with the places tried.
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

if "smtpkit.pytest_plugin" not in sys.modules:
    sys.path.insert(0, PACKAGE_ROOT)
    pytest_plugins = ["smtpkit.pytest_plugin"]

from smtpkit import server as _server  # noqa: E402


def processes_using(paths):
    """[(pid, cmdline)] of live processes whose command line names one of paths."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % entry, "rb") as f:
                if f.read().split(b") ", 1)[-1][:1] == b"Z":
                    continue  # a zombie is gone already; its parent reaps it
        except OSError:
            continue
        if any(p in cmd for p in paths):
            found.append((int(entry), cmd))
    return found


@pytest.fixture(autouse=True)
def no_leaked_servers():
    before = len(_server.started_workdirs)
    yield
    mine = _server.started_workdirs[before:]
    deadline = time.monotonic() + 5
    left = processes_using(mine)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = processes_using(mine)
    assert not left, "smtpkit serve processes left running: %r" % left
