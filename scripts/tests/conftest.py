# conftest.py — fixtures of the scripts/tests pytest folder: real SMTP
# servers (peers/servers.py) started per test and always stopped, a
# factory of `smtpkit record` proxies (peers/record.py), the smtpkit
# plugin's mock-server fixtures, and a check after every test that no
# process started from a test's work directories is still running.
#
# Run with Debian's /usr/bin/python3 (python3-pytest, python3-aiosmtpd);
# peers that are not installed make their tests skip, not fail.
import os
import shutil
import sys
import time

import pytest

from peers import servers
from peers.record import Recorder

# The smtpkit pytest plugin (smtp_server, smtp_server_factory) for the
# test_serve_* files, from this source tree (the top-level pytest.ini puts
# scripts/tests and scripts/python on the path), unless `-p
# smtpkit.pytest_plugin` or an installed copy's entry point loaded it.
if "smtpkit.pytest_plugin" not in sys.modules:
    pytest_plugins = ["smtpkit.pytest_plugin"]


def have(tool):
    return shutil.which(tool) is not None or os.access(tool, os.X_OK)


def processes_using(paths):
    """[(pid, cmdline)] of live processes whose command line names one of paths."""
    from smtpkit.server import leftover_processes  # one /proc scan for every suite

    return leftover_processes(paths)


@pytest.fixture(autouse=True)
def no_leaked_processes():
    from smtpkit import server as mock  # `smtpkit serve` processes started by the plugin

    before, before_mock = len(servers.started_workdirs), len(mock.started_workdirs)
    yield
    mine = servers.started_workdirs[before:] + mock.started_workdirs[before_mock:]
    deadline = time.monotonic() + 5
    left = processes_using(mine)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = processes_using(mine)
    assert not left, "processes left running: %r" % left


def _started(factory, skip_unless):
    if not have(skip_unless):
        pytest.skip("%s is not installed" % skip_unless)
    peer = factory()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def aiosmtpd_server():
    yield from _started(servers.start_aiosmtpd, servers.PYTHON)


@pytest.fixture
def aiosmtpd_tls_auth():
    """aiosmtpd with STARTTLS and AUTH PLAIN/LOGIN (after TLS) for alice/wonderland."""
    yield from _started(lambda: servers.start_aiosmtpd(tls=True, auth=("alice", "wonderland")), servers.PYTHON)


@pytest.fixture
def exim_server():
    yield from _started(servers.start_exim, servers.EXIM)


@pytest.fixture
def exim_tls_auth():
    yield from _started(lambda: servers.start_exim(tls=True, auth=("alice", "wonderland")), servers.EXIM)


@pytest.fixture
def smtp_sink():
    yield from _started(servers.start_smtp_sink, servers.SMTP_SINK)


@pytest.fixture
def record(tmp_path):
    """record(peer, *flags, out=None) -> `smtpkit record` in front of peer
    (peers/record.py), transcripts in tmp_path; all stopped after the test,
    each with exit status 0."""
    made = []

    def start(peer, *flags, out=None):
        r = Recorder(peer.host, peer.port, out or tmp_path / ("rec%d" % len(made)), *flags)
        made.append(r)
        return r

    yield start
    for r in made:
        assert r.stop() == 0, r.proc.stderr.read()
