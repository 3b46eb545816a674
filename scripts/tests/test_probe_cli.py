"""test_probe_cli.py — `smtpkit probe server` as a command: the suite, the
report formats (text grouped by group with colour only on a terminal and
never with NO_COLOR, JSON, JUnit XML), --only, users' own --suite folders,
and the exit statuses (0 / 1 / 2) — mostly against `smtpkit serve`, whose
verdicts test_probe_servers.py pins.

Bounded: every command has a timeout; servers stop after each test.
"""
import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

from peers import probe_targets

BIN = probe_targets.smtpkit_bin()
pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="no smtpkit binary at %s" % BIN)


def smtpkit(*args, env=None, timeout=120):
    return subprocess.run([BIN, *args], capture_output=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def serve():
    """Probe arguments that reach a running `smtpkit serve`."""
    with probe_targets.running("smtpkit-serve") as args:
        yield args


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_suite_has_at_least_50_scenarios_in_four_groups():
    p = smtpkit("probe", "server", "--list")
    assert p.returncode == 0, p.stderr
    rows = [l.split("\t") for l in p.stdout.decode().splitlines()]
    groups = {}
    for group, sid, level, title in rows:
        groups[group] = groups.get(group, 0) + 1
        assert sid.startswith(group.lower() + "."), sid
        assert level in ("MUST", "SHOULD", "MAY") and title
    assert set(groups) == {"Basics", "Errors", "Extensions", "Security"}
    assert sum(groups.values()) >= 50
    assert all(n >= 10 for n in groups.values()), groups


def test_text_report_is_grouped_with_counts_and_a_verdict(serve):
    p = smtpkit("probe", "server", *serve, "--color", "never")
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    for g in ("Basics", "Errors", "Extensions", "Security"):
        assert re.search(r"^%s — \d+ scenarios: \d+ pass, \d+ fail, \d+ not applicable, \d+ error"
                         r"(, \d+ not done)?(, \d+ waived)?$" % g, out, re.M), g
    assert re.search(r"^  pass  basics\.greeting ", out, re.M)
    assert re.search(r"^  FAIL  security\.open-relay\[example\.net\] .*\[SHOULD, RFC 5321 §3\.6\.2\]$", out, re.M)
    assert "security.smuggling.lf-dot-lf" in out and "kept-in-message" in out
    summary = out.rstrip().splitlines()[-1]
    assert re.match(r"^\d+ scenarios in (?:\d+ ms|[\d.]+ s): \d+ pass, 2 fail \(0 MUST, 2 SHOULD, 0 MAY\), 1 not done, "
                    r"\d+ not applicable, 0 error — PASS \(fail on MUST\)$", summary), summary
    assert re.search(r"^  n/d   security\.early-talker .*\[MAY, RFC 5321 §4\.3\.1\]$", out, re.M)
    assert "\033[" not in out


def test_fail_on_should_tightens_the_exit_status(serve):
    assert smtpkit("probe", "server", *serve, "--fail-on", "should", "--format", "json").returncode == 1
    assert smtpkit("probe", "server", *serve, "--fail-on", "must", "--format", "json").returncode == 0


def run_on_a_terminal(argv, env):
    """stdout is a pseudo-terminal: what a user sees."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(10)
    os.close(master)
    return out.decode("utf-8", "replace")


def test_colour_on_a_terminal_and_never_with_no_color(serve):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    argv = [BIN, "probe", "server", *serve, "--only", "basics"]
    assert "\033[32m" in run_on_a_terminal(argv, env)
    assert "\033[" not in run_on_a_terminal(argv, dict(env, NO_COLOR="1"))


def test_json_report(serve):
    p = smtpkit("probe", "server", *serve, "--format", "json")
    doc = json.loads(p.stdout)
    assert doc["tool"] == "smtpkit probe server" and doc["schema"] == 1
    assert doc["verdict"] == "pass" and doc["fail_on"] == "MUST"
    assert doc["greeting"].startswith("220 mx.smtpkit.test")
    assert "PIPELINING" in doc["ehlo"]
    s = doc["summary"]
    assert s["scenarios"] == len(doc["scenarios"]) == (s["pass"] + s["fail"] + s["not_applicable"] + s["error"] +
                                                        s["not_done"] + s["waived"])
    relay = next(x for x in doc["scenarios"] if x["id"] == "security.open-relay[example.org]")
    assert relay["verdict"] == "fail" and relay["failed_level"] == "SHOULD" and relay["counts"] is False
    assert relay["mismatches"][0]["received"].startswith("250")
    assert "RCPT TO:<relay-probe@example.org>" in relay["dialogue"]
    smuggle = next(x for x in doc["scenarios"] if x["id"] == "security.smuggling.cr-dot-lf")
    assert smuggle["outcome"] == {"kind": "end-of-data", "variant": "\\r.\\n", "result": "kept-in-message",
                                  "replies": [250], "detail": smuggle["outcome"]["detail"]}


def test_junit_report(serve, tmp_path):
    out = tmp_path / "probe.xml"
    p = smtpkit("probe", "server", *serve, "--format", "junit", "--fail-on", "should", "-o", str(out))
    assert p.returncode == 1 and p.stdout == b""
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Basics", "Errors", "Extensions", "Security"]
    cases = root.findall(".//testcase")
    assert int(root.get("tests")) == len(cases) >= 50
    failures = root.findall(".//failure")
    assert int(root.get("failures")) == len(failures) == 2  # the two open-relay instances (SHOULD)
    assert int(root.get("skipped")) == len(root.findall(".//skipped")) > 0
    # Refusing an early talker is a MAY: a server that does not is "not done", never a failure.
    early = root.find(".//testcase[@name='security.early-talker']")
    skipped = early.find("skipped")
    assert early.find("failure") is None and skipped.get("type") == "not-done"
    assert skipped.get("message").startswith("NOT DONE (MAY, optional): ")
    assert early.find("system-out").text.startswith("# smtpkit client driver: security.early-talker")


def test_an_output_that_cannot_be_written_exits_2(serve, tmp_path):
    target = tmp_path / "no-such-dir" / "probe.xml"
    p = smtpkit("probe", "server", *serve, "--only", "basics", "--format", "junit", "-o", str(target))
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode().endswith("smtpkit probe server: cannot write %s\n" % target)


def test_only_selects_groups_ids_and_prefixes(serve):
    def ids(*only):
        args = [a for o in only for a in ("--only", o)]
        p = smtpkit("probe", "server", *serve, "--format", "json", *args)
        return [s["id"] for s in json.loads(p.stdout)["scenarios"]]
    assert ids("basics.quit") == ["basics.quit"]
    assert all(i.startswith("security.smuggling.") for i in ids("security.smuggling")) and len(ids("security.smuggling")) == 10
    assert all(i.startswith("errors.") for i in ids("errors"))
    assert ids("security.open-relay") == ["security.open-relay[example.net]", "security.open-relay[example.org]"]
    p = smtpkit("probe", "server", *serve, "--only", "no-such-thing")
    assert p.returncode == 2 and b"matches no scenario" in p.stderr


def test_relay_domains_make_one_instance_each(serve):
    p = smtpkit("probe", "server", *serve, "--format", "json", "--only", "security.open-relay",
                "--relay-domain", "relay.invalid")
    assert [s["id"] for s in json.loads(p.stdout)["scenarios"]] == ["security.open-relay[relay.invalid]"]


def test_a_users_suite(serve, tmp_path):
    (tmp_path / "mine.smtp").write_text(
        "# A site rule: the greeting names our host.\n"
        "@scenario site.greeting-name\n@title the greeting names mx.smtpkit.test\n@group Site\n@level must\n"
        "@rfc site policy\nS~ 220 mx.smtpkit.test{*}\nC: QUIT\nS~ 221{*}\n")
    p = smtpkit("probe", "server", *serve, "--no-builtin", "--suite", str(tmp_path), "--format", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0
    assert [(s["id"], s["verdict"], s["group"]) for s in doc["scenarios"]] == [("site.greeting-name", "pass", "Site")]
    p = smtpkit("probe", "server", *serve, "--suite", str(tmp_path), "--format", "json")
    assert len(json.loads(p.stdout)["scenarios"]) > 50, "a --suite adds to the built-in one"


@pytest.mark.parametrize("text,message", [
    ("@scenario x.y\n@title t\n@group G\n@level must\nS~ 220 {\n", "bad.smtp:5:"),
    ("@scenario x.y\n@title t\n@group G\nS~ 220{*}\n", "neither @level nor @checks"),
    ("@scenario x.y\n@title t\n@group G\n@checks no.such.rule\nS~ 220{*}\n", "@checks no.such.rule: no such rule"),
    ("@title t\n@group G\n@level must\nS~ 220{*}\n", "no @scenario"),
])
def test_a_bad_scenario_stops_before_anything_is_sent(tmp_path, text, message):
    (tmp_path / "bad.smtp").write_text(text)
    p = smtpkit("probe", "server", "127.0.0.1:%d" % closed_port(), "--no-builtin", "--suite", str(tmp_path))
    assert p.returncode == 2
    assert message in p.stderr.decode(), p.stderr


def test_an_unreachable_target_exits_2_at_once():
    t0 = time.monotonic()
    p = smtpkit("probe", "server", "127.0.0.1:%d" % closed_port(), "--format", "json")
    assert p.returncode == 2
    assert time.monotonic() - t0 < 10
    assert b"cannot connect" in p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "error" and all(s["verdict"] == "error" for s in doc["scenarios"])


@pytest.mark.parametrize("args", [
    [],
    ["127.0.0.1"],
    ["127.0.0.1:25", "--exec", "exim -bs"],
    ["127.0.0.1:25", "--starttls", "--tls"],
    ["127.0.0.1:25", "--auth", "nocolon"],
    ["127.0.0.1:25", "--format", "yaml"],
])
def test_usage_errors_exit_2(args):
    assert smtpkit("probe", "server", *args).returncode == 2


def test_help_warns_that_probing_delivers_mail():
    out = smtpkit("probe", "server", "--help").stdout.decode()
    assert "Probing a production server delivers test mail" in out
    for flag in ("--suite", "--only", "--starttls", "--tls", "--insecure", "--exec", "--from", "--rcpt",
                 "--relay-domain", "--fail-on", "--format", "--output"):
        assert flag in out, flag


def test_exec_runs_a_command_per_scenario():
    # A shell "server" that greets and answers QUIT: enough for basics.quit.
    script = ("printf '220 sh.smtpkit.test ready\\r\\n'; read line; printf '250-sh.smtpkit.test\\r\\n250 HELP\\r\\n';"
              " read line; printf '221 bye\\r\\n'")
    p = smtpkit("probe", "server", "--exec", script, "--only", "basics.quit", "--format", "json")
    doc = json.loads(p.stdout)
    assert [s["verdict"] for s in doc["scenarios"]] == ["pass"], doc["scenarios"][0]["reason"]
    assert doc["target"] == "exec: " + script


def test_implicit_tls_and_the_certificate_check():
    proc = subprocess.Popen([BIN, "serve", "--tls-listen", "127.0.0.1:0", "--discard", "--hostname", "mx.smtpkit.test"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        line = proc.stderr.readline().decode()
        port = re.search(r"listening on 127\.0\.0\.1:(\d+) \(implicit TLS\)", line).group(1)
        target = "127.0.0.1:" + port
        p = smtpkit("probe", "server", target, "--tls", "--insecure", "--only", "basics", "--format", "json")
        doc = json.loads(p.stdout)
        assert p.returncode == 0, doc
        assert doc["tls"].startswith("TLS")
        assert all(s["verdict"] == "pass" for s in doc["scenarios"])
        # Self-signed: without --insecure the handshake is refused, and the
        # message says what to do.
        p = smtpkit("probe", "server", target, "--tls", "--only", "basics.quit")
        assert p.returncode == 2
        assert b"certificate not accepted" in p.stderr and b"--insecure" in p.stderr
    finally:
        probe_targets.servers.stop_process(proc)
        proc.stderr.close()


def test_starttls_over_the_pipes_of_an_exec_target(tmp_path):
    cert, key = probe_targets.servers.make_cert(str(tmp_path), "stdio.smtpkit.test")
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "stdio_tls_server.py")
    command = "%s %s %s %s" % (probe_targets.servers.PYTHON, server, cert, key)
    p = smtpkit("probe", "server", "--exec", command, "--insecure", "--only", "extensions.starttls",
                "--only", "security.starttls-injection", "--format", "json")
    doc = json.loads(p.stdout)
    assert {s["id"]: s["verdict"] for s in doc["scenarios"]} == {
        "extensions.starttls": "pass", "security.starttls-injection": "pass"}, [s["reason"] for s in doc["scenarios"]]
    assert all(s["tls"].startswith("TLS") for s in doc["scenarios"])


def test_a_command_that_does_not_start_is_a_setup_error():
    p = smtpkit("probe", "server", "--exec", "/nonexistent/smtpd -bs", "--format", "json")
    assert p.returncode == 2
    assert b"the command ended without sending anything" in p.stderr and b"not found" in p.stderr


@pytest.mark.skipif(not shutil.which("xmllint"), reason="xmllint is not installed")
def test_junit_validates_against_the_schema_check_uses(serve, tmp_path):
    out = tmp_path / "probe.xml"
    smtpkit("probe", "server", *serve, "--format", "junit", "--fail-on", "should", "-o", str(out))
    xsd = os.path.join(probe_targets.REPO, "conformance", "test", "junit.xsd")
    p = subprocess.run(["xmllint", "--noout", "--schema", xsd, str(out)], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
