# conftest.py — the tests of the smtpkit Python package (scripts/python).
# Loads the plugin from this source tree (the top-level pytest.ini puts
# scripts/python on the path) unless `-p smtpkit.pytest_plugin` or an
# installed entry point already did, and checks after every test that no
# `smtpkit serve` it started is still running.
#
# Limits: Linux (/proc). Needs a built binary (SMTPKIT_BIN, else the
# build tree); without one every test here fails with the places tried.
import sys
import time

import pytest

from smtpkit import server as _server

if "smtpkit.pytest_plugin" not in sys.modules:
    pytest_plugins = ["smtpkit.pytest_plugin"]


@pytest.fixture(autouse=True)
def no_leaked_servers():
    before = len(_server.started_workdirs)
    yield
    mine = _server.started_workdirs[before:]
    deadline = time.monotonic() + 5
    left = _server.leftover_processes(mine)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _server.leftover_processes(mine)
    assert not left, "smtpkit serve processes left running: %r" % left
