"""Pytest fixtures for the smtpkit mock server.

  smtp_server           a MockServer started fresh for each test
  smtp_server_factory   make as many as a test needs: factory(script=None, **options)
  @pytest.mark.smtp_script(SCRIPT..., path=, text=, **options)
                        scripts for smtp_server: a str with a newline is script text,
                        one without (or a path object) a file name; path=/text= say it
  @pytest.mark.smtp_options(**options)          serve flags for smtp_server
  @pytest.mark.smtp_allow_findings(*rules)      findings --smtpkit-fail-on ignores (none: all)
  --smtpkit-fail-on must|should   fail a test whose client broke a rule of that level,
                                  even when the test's own assertions passed
  --smtpkit-bin PATH              the binary (default: SMTPKIT_BIN, build tree, PATH)
  ini smtpkit_ignore = RULE...    rules every server waives (reported, never failing a test)
  ini smtpkit_config = FILE       waivers and levels (default: the nearest .smtpkit.yaml above
                                  the rootdir, the file `smtpkit check` reads)

A failing test gets each session's transcript, the findings and every
inline script (numbered, since its temporary file is gone after the
test) as report sections. Load with `-p smtpkit.pytest_plugin`; once the package is
installed its pytest11 entry point, named the same, loads it (and the
flag then finds it already loaded).

Limits: the fail-on check looks at findings known when the test body
ends, after waiting up to 2 s for open sessions to close; a session the
test leaves open is judged on what it sent so far. Servers are stopped at
fixture teardown. A test whose server cannot start (a binary without
`serve --script` given a script, say) fails with the server's own
message; it is never skipped.
"""
from __future__ import annotations

import os
from typing import Any, Generator, Iterator

import pytest

from .server import Finding, MockServer, Script, counts, running

_SERVERS = pytest.StashKey[list[MockServer]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smtpkit", "smtpkit mock SMTP server")
    group.addoption("--smtpkit-fail-on", choices=("must", "should"), default=None,
                    help="fail a test whose SMTP client broke a rule of this level (findings of smtpkit serve)")
    group.addoption("--smtpkit-bin", default=None, help="smtpkit binary (default: $SMTPKIT_BIN, the build tree, PATH)")
    parser.addini("smtpkit_ignore", type="linelist", default=[],
                  help="rules (ids or globs) every smtp_server waives: still reported, never failing a test")
    parser.addini("smtpkit_config", default="",
                  help="waivers and levels file (default: the nearest .smtpkit.yaml above the rootdir)")


def policy_options(config: pytest.Config) -> dict[str, Any]:
    """The serve flags of the run's policy: the ini's waivers, and the config
    file `smtpkit check` would read from the rootdir (docs/reports.md)."""
    options: dict[str, Any] = {}
    ignore = [r for r in config.getini("smtpkit_ignore") if r.strip()]
    if ignore:
        options["ignore"] = ignore
    path = config.getini("smtpkit_config")
    if path:
        options["config"] = str(config.rootpath / path)
    else:
        for d in (config.rootpath, *config.rootpath.parents):
            if (d / ".smtpkit.yaml").is_file():
                options["config"] = str(d / ".smtpkit.yaml")
                break
        else:
            options["no_config"] = True  # not one above serve's own working folder either
    return options


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smtp_script(*scripts, path=None, text=None, **options): scripts for "
                            "smtp_server (a str with a newline is text, one without a file name)")
    config.addinivalue_line("markers", "smtp_options(**options): smtpkit serve options for smtp_server")
    config.addinivalue_line("markers", "smtp_allow_findings(*rules): findings --smtpkit-fail-on does not count")


class ServerFactory:
    """Starts MockServers for one test and stops them all at its end."""

    def __init__(self, node: pytest.Item, binary: str | None = None) -> None:
        self.node = node
        self.binary = binary
        self.servers: list[MockServer] = []

    def __call__(self, script: Script | list[Script] | None = None, **options: Any) -> MockServer:
        """A started MockServer; options as MockServer takes them (script_path=, script_text=, serve flags)."""
        if self.binary and "binary" not in options:
            options["binary"] = self.binary
        if not {"config", "no_config"} & set(options):
            for k, v in policy_options(self.node.config).items():
                options.setdefault(k, v)
        srv = MockServer(script, **options)
        self.node.stash.setdefault(_SERVERS, []).append(srv)
        self.servers.append(srv)
        return srv.start()

    def close(self) -> None:
        errors: list[Exception] = []
        for srv in self.servers:
            try:
                srv.close()
            except Exception as e:  # noqa: BLE001 (stop every server, then report)
                errors.append(e)
        if errors:
            raise errors[0]


@pytest.fixture
def smtp_server_factory(request: pytest.FixtureRequest) -> Iterator[ServerFactory]:
    """factory(script=None, **options) -> a started MockServer; all are stopped after the test."""
    factory = ServerFactory(request.node, request.config.getoption("smtpkit_bin"))
    yield factory
    factory.close()


@pytest.fixture
def smtp_server(smtp_server_factory: ServerFactory, request: pytest.FixtureRequest) -> MockServer:
    """A fresh MockServer (reference behaviour, or the smtp_script marker's script)."""
    options: dict[str, Any] = {}
    m = request.node.get_closest_marker("smtp_options")
    if m:
        options.update(m.kwargs)
    scripts: list[Script] = []
    m = request.node.get_closest_marker("smtp_script")
    if m:
        kwargs = dict(m.kwargs)
        scripts = list(m.args)
        if kwargs.get("script") is not None:
            scripts.append(kwargs.pop("script"))
        # path= is a file name even without a newline; text= is text even without one.
        options["script_path"] = kwargs.pop("path", None)
        options["script_text"] = kwargs.pop("text", None)
        options.update(kwargs)
    return smtp_server_factory(script=scripts or None, **options)


def _allowed(item: pytest.Item) -> set[str] | None:
    m = item.get_closest_marker("smtp_allow_findings")
    if m is None:
        return set()
    return set(m.args) if m.args else None  # None: every rule


def _sections(servers: list[MockServer]) -> list[tuple[str, str]]:
    out = []
    for n, srv in enumerate(servers, 1):
        name = "smtpkit server %d (127.0.0.1:%s)" % (n, srv.port)
        lines = ["%s finding(s)" % len(srv.findings)] + ["  %s" % f for f in srv.findings]
        if srv.returncode is not None or not srv.alive:
            lines.append("server: %s" % srv.summary())
            err = srv.stderr_text().strip()
            if err:
                lines += ["stderr:", err]
        out.append(("%s: findings" % name, "\n".join(lines)))
        for path, text in srv.script_texts.items():
            numbered = "\n".join("%4d  %s" % (n, line) for n, line in enumerate(text.splitlines(), 1))
            out.append(("%s: script %s" % (name, os.path.basename(path)), numbered))
        for s in srv.sessions:
            try:
                text = s.transcript
            except OSError as e:
                text = "(transcript unreadable: %s)" % e
            out.append(("%s: transcript %s" % (name, s.id), text))
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    servers = item.stash.get(_SERVERS, None)
    if not servers:
        return
    fail_on = item.config.getoption("smtpkit_fail_on")
    if rep.when == "call" and rep.passed and fail_on and not hasattr(rep, "wasxfail"):
        allowed = _allowed(item)
        bad: list[Finding] = []
        if allowed is not None:
            for srv in servers:
                if srv.alive:
                    srv.settle(2.0)
                bad += [f for f in srv.findings if counts(f.level, fail_on) and not f.waived and f.rule not in allowed]
        if bad:
            rep.outcome = "failed"
            rep.longrepr = ("the SMTP client broke the protocol (--smtpkit-fail-on %s):\n" % fail_on
                            + "\n".join("  %s" % f for f in bad))
    if rep.failed and not getattr(item, "_smtpkit_reported", False):
        item._smtpkit_reported = True
        for title, text in _sections(servers):
            rep.sections.append((title, text))


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A server a test forgot to stop (started without the fixtures).
    for srv in list(running.values()):
        try:
            srv.close()
        except Exception:  # noqa: BLE001
            pass
