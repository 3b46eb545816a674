"""`smtpkit check` and `smtpkit rules`: exit status, the three report formats,
colour, the generated documents.

- exit 0 / 1 / 2 (2 for an unreadable transcript, with file:line:col and what
  was expected), --fail-on;
- text: one line per finding, "file:line: side LEVEL rule-id: message (RFC ...)";
  colour only on a terminal (a pty here), never with NO_COLOR;
- JSON: the structure documented in docs/reports.md;
- JUnit: valid against conformance/test/junit.xsd (xmllint, from the Debian
  package libxml2-utils), and read the way GitLab's JUnit parser reads it
  (lib/gitlab/ci/parsers/test/junit.rb: testsuite name; testcase name,
  classname, time; status from failure / error / skipped; failure text);
- `smtpkit rules` as text, JSON and Markdown; docs/rules.md and the rule
  corpus are what the generators give today.
Standard library only.
"""
import functools
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("SMTPKIT_BIN", os.path.join(ROOT, "build/default/cli/smtpkit"))
RULES = os.path.join(ROOT, "conformance", "test", "rules")
DIALOGUES = os.path.join(ROOT, "corpus", "dialogues")
XSD = os.path.join(ROOT, "conformance", "test", "junit.xsd")

CLEAN = os.path.join(DIALOGUES, "rfc5321-d1-typical.smtp")
MUST_CASE = os.path.join(RULES, "server.esc.class.bad.smtp")          # one MUST finding
SHOULD_CASE = os.path.join(RULES, "client.line.too-long.bad.smtp")    # one SHOULD finding
ADVICE_CASE = os.path.join(RULES, "client.auth.plaintext.bad.smtp")   # one ADVICE finding
LEVELS = ("MUST", "SHOULD", "MAY", "ADVICE")
FINDING_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): (?P<side>client|server) (?P<level>MUST|SHOULD|MAY|ADVICE) "
    r"(?P<rule>[a-z0-9][a-z0-9.-]*): (?P<message>.+) \((?P<rfc>RFC \d+ §[0-9.]+)\)$")


def run(args, env=None, stdin=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    p = subprocess.run([BIN, *args], capture_output=True, timeout=60, env=e, input=stdin)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_json(args):
    rc, out, err = run([*args, "--format", "json"])
    return rc, json.loads(out), err


@pytest.fixture
def unreadable(tmp_path):
    p = tmp_path / "broken.smtp"
    p.write_text("S: 220 mx.example.test\nC: EHLO a\\qb\n")
    return str(p)


# --- exit status ---------------------------------------------------------

def test_exit_0_when_clean_1_on_a_must_finding():
    assert run(["check", CLEAN])[0] == 0
    assert run(["check", MUST_CASE])[0] == 1
    assert run(["check", CLEAN, MUST_CASE])[0] == 1


def test_exit_2_on_an_unreadable_transcript_with_file_line_col_and_what_was_expected(unreadable):
    rc, out, err = run(["check", unreadable])
    assert rc == 2
    assert f"{unreadable}:2:10: invalid escape" in err
    assert "expected" in err
    # Even alongside a failing dialogue, an unreadable one makes it 2.
    assert run(["check", MUST_CASE, unreadable])[0] == 2


def test_exit_2_on_usage_errors():
    assert run(["check"])[0] == 2
    rc, _, err = run(["check", os.path.join(ROOT, "no", "such.smtp")])
    assert rc == 2 and "no such file" in err
    assert run(["check", "--format", "yaml", CLEAN])[0] == 2
    assert run(["check", "--fail-on", "never", CLEAN])[0] == 2


def test_fail_on_should_counts_should_findings_and_advice_never_counts():
    assert run(["check", SHOULD_CASE])[0] == 0
    assert run(["check", "--fail-on", "should", SHOULD_CASE])[0] == 1
    assert run(["check", "--fail-on", "must", SHOULD_CASE])[0] == 0
    assert run(["check", "--fail-on", "should", ADVICE_CASE])[0] == 0
    assert run(["check", "--fail-on", "may", ADVICE_CASE])[0] == 0


def test_a_folder_is_checked_recursively():
    rc, doc, _ = run_json(["check", DIALOGUES])
    sources = [d["source"] for d in doc["dialogues"]]
    assert len(sources) == len([f for f in os.listdir(DIALOGUES) if f.endswith(".smtp")])
    assert sources == sorted(sources)


def test_judge_one_side_only():
    _, both, _ = run_json(["check", os.path.join(RULES, "server.syntax.accepted.bad.smtp")])
    sides = {f["side"] for f in both["dialogues"][0]["findings"]}
    assert sides == {"client", "server"}
    _, server, _ = run_json(["check", "--judge", "server", os.path.join(RULES, "server.syntax.accepted.bad.smtp")])
    assert {f["side"] for f in server["dialogues"][0]["findings"]} == {"server"}
    assert all(not a.startswith("client.") for a in server["dialogues"][0]["applied"])


# --- text ----------------------------------------------------------------

def test_text_one_line_per_finding_then_its_excerpt_then_a_summary():
    rc, out, _ = run(["check", "--color", "never", MUST_CASE, ADVICE_CASE, CLEAN])
    lines = out.splitlines()
    findings = [FINDING_LINE.match(l) for l in lines if not l.startswith(" ") and l != lines[-1]]
    assert findings and all(findings), lines
    m = findings[0]
    assert (m["file"], m["line"], m["side"], m["level"], m["rule"], m["rfc"]) == (
        MUST_CASE, "17", "server", "MUST", "server.esc.class", "RFC 2034 §4")
    assert m["message"] == "5.0.0 with reply code 250"
    assert lines[lines.index(m.group(0)) + 1] == "    5.0.0 OK"  # the excerpt, indented
    assert any(f["rule"] == "client.auth.plaintext" and f["level"] == "ADVICE" for f in findings)
    assert lines[-1].startswith("3 dialogues: 1 MUST, 0 SHOULD, 0 MAY, 1 advice")
    assert "FAIL (fail on MUST, 1 failing)" in lines[-1]
    _, out, _ = run(["check", CLEAN])
    assert out.splitlines() == ["1 dialogue: 0 MUST, 0 SHOULD, 0 MAY, 0 advice — PASS (fail on MUST, 0 failing)"]


def test_text_lines_agree_with_the_json_findings():
    files = [os.path.join(RULES, f) for f in sorted(os.listdir(RULES)) if f.endswith(".bad.smtp")][:40]
    _, out, _ = run(["check", "--color", "never", *files])
    text = [FINDING_LINE.match(l) for l in out.splitlines() if FINDING_LINE.match(l)]
    _, doc, _ = run_json(["check", *files])
    js = [(d["source"], str(f["line"]), f["side"], f["level"], f["rule"], f["rfc"])
          for d in doc["dialogues"] for f in d["findings"]]
    assert [(m["file"], m["line"], m["side"], m["level"], m["rule"], m["rfc"]) for m in text] == js


def tty_run(args, env):
    """Run with stdout (and stdin, stderr) on a pseudo-terminal."""
    e = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    e.update(env)
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execve(BIN, [BIN, *args], e)
        finally:
            os._exit(127)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color():
    rc, out = tty_run(["check", MUST_CASE], {})
    assert rc == 1
    assert "\x1b[31mMUST\x1b[0m" in out  # the level, red
    assert "\x1b[" in out.splitlines()[-1]  # the verdict
    rc, out = tty_run(["check", MUST_CASE], {"NO_COLOR": "1"})
    assert rc == 1 and "server.esc.class" in out and "\x1b[" not in out
    # no-color.org: an empty NO_COLOR does not count.
    assert "\x1b[" in tty_run(["check", MUST_CASE], {"NO_COLOR": ""})[1]
    assert "\x1b[" not in tty_run(["check", "--color", "never", MUST_CASE], {})[1]
    # Not a terminal: no colour unless asked for by flag (which no-color.org
    # lets override NO_COLOR: the flag is the user's own request).
    assert "\x1b[" not in run(["check", MUST_CASE])[1]
    assert "\x1b[" in run(["check", "--color", "always", MUST_CASE])[1]
    # A report written to a file is not for a terminal.
    rc, out = tty_run(["check", "-o", os.devnull, MUST_CASE], {})
    assert rc == 1


def test_no_colour_in_json_or_junit_even_on_a_terminal():
    for fmt in ("json", "junit"):
        rc, out = tty_run(["check", "--format", fmt, MUST_CASE], {})
        assert rc == 1 and "\x1b[" not in out


# --- JSON ----------------------------------------------------------------

def test_json_structure(unreadable):
    rc, doc, _ = run_json(["check", MUST_CASE, ADVICE_CASE, unreadable])
    assert rc == 2
    assert list(doc) == ["tool", "schema", "fail_on", "verdict", "summary", "dialogues"]
    assert doc["tool"] == "smtpkit check" and doc["schema"] == 1
    assert doc["fail_on"] == "MUST" and doc["verdict"] == "fail"
    assert doc["summary"] == {"dialogues": 3, "MUST": 1, "SHOULD": 0, "MAY": 0, "ADVICE": 1, "waived": 0}
    must, advice, broken = doc["dialogues"]
    assert list(must) == ["source", "records", "octets", "findings", "applied", "suppressed", "verdict"]
    assert must["source"] == MUST_CASE and must["verdict"] == "fail"
    assert isinstance(must["records"], int) and set(must["octets"]) == {"client", "server"}
    (f,) = must["findings"]
    assert f == {"rule": "server.esc.class", "side": "server", "level": "MUST", "rfc": "RFC 2034 §4", "line": 17,
                 "offset": f["offset"], "stream": "server", "message": "5.0.0 with reply code 250",
                 "excerpt": "5.0.0 OK", "counts": True}
    assert list(f) == ["rule", "side", "level", "rfc", "line", "offset", "stream", "message", "excerpt", "counts"]
    assert isinstance(f["offset"], int) and 0 <= f["offset"] < must["octets"]["server"]
    assert "server.esc.class" in must["applied"] and "server.esc.missing" in must["applied"]
    assert must["suppressed"] == {}
    assert advice["verdict"] == "pass" and advice["findings"][0]["counts"] is False
    assert broken == {"source": unreadable, "error": {"line": 2, "column": 10, "message": broken["error"]["message"]},
                      "verdict": "error"}
    assert "invalid escape" in broken["error"]["message"]


def test_json_fail_on_should_changes_counts_and_verdicts():
    _, doc, _ = run_json(["check", "--fail-on", "should", SHOULD_CASE])
    assert doc["fail_on"] == "SHOULD" and doc["verdict"] == "fail"
    assert doc["dialogues"][0]["findings"][0]["counts"] is True
    _, doc, _ = run_json(["check", SHOULD_CASE])
    assert doc["verdict"] == "pass" and doc["dialogues"][0]["findings"][0]["counts"] is False


def test_json_every_finding_names_a_catalogued_rule_that_applied():
    _, cat, _ = run(["rules", "--format", "json"])
    rules = {r["id"]: r for r in json.loads(cat)["rules"]}
    _, doc, _ = run_json(["check", RULES])
    for d in doc["dialogues"]:
        for f in d["findings"]:
            r = rules[f["rule"]]
            assert (f["side"], f["level"], f["rfc"]) == (r["side"], r["level"], r["rfc"])
            assert f["rule"] in d["applied"]


# --- JUnit ---------------------------------------------------------------

def xmllint():
    path = shutil.which("xmllint")
    if path is None:
        pytest.fail("xmllint not found: install the Debian package libxml2-utils (scripts/setup.sh)")
    return path


def junit(tmp_path, args, name="report.xml"):
    out = tmp_path / name
    rc, _, _ = run(["check", "--format", "junit", "-o", str(out), *args])
    return rc, out


def validate(path):
    p = subprocess.run([xmllint(), "--noout", "--schema", XSD, str(path)], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()


def gitlab_cases(path):
    """What GitLab's JUnit parser takes from a report: one entry per testcase."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"  # GitLab allows one top-level testsuites
    cases = []
    for suite in root.iter("testsuite"):
        for tc in suite.findall("testcase"):
            failure, error, skipped = tc.find("failure"), tc.find("error"), tc.find("skipped")
            if failure is not None:
                status, output = "failed", failure
            elif error is not None:
                status, output = "error", error
            elif skipped is not None:
                status, output = "skipped", skipped
            else:
                status, output = "success", None
            out = tc.find("system-out")
            cases.append({
                "suite_name": suite.get("name"),
                "classname": tc.get("classname"),
                "name": tc.get("name"),
                "execution_time": float(tc.get("time")),
                "status": status,
                "message": None if output is None else output.get("message"),
                "type": None if output is None else output.get("type"),
                "system_output": None if output is None else output.text,
                "system_out": None if out is None else out.text,
                # Not GitLab's: Jenkins keeps a case's properties.
                "properties": [(p.get("name"), p.get("value")) for p in tc.findall("properties/property")],
            })
    return root, cases


def test_junit_validates_against_the_schema(tmp_path, unreadable):
    weird = tmp_path / "odd \"name\" <&>.smtp"
    weird.write_bytes(b"S: 220 mx.example.test\nC: EHLO client.example.test\nS: 250 mx.example.test\n"
                      b"C: NOOP \\0\\x01\\xff\\xef\\xbf\\xbf \xc3\xa9\nS: 250 \\x1b]0;t\\x07 ok\n")
    for i, args in enumerate([[CLEAN], [MUST_CASE, SHOULD_CASE, ADVICE_CASE], [RULES], [DIALOGUES],
                              [unreadable, MUST_CASE], [str(weird)], ["--fail-on", "should", RULES]]):
        _, out = junit(tmp_path, args, f"r{i}.xml")
        validate(out)


def test_the_schema_rejects_what_consumers_would_misread(tmp_path):
    bad = tmp_path / "bad.xml"
    for doc in ['<testsuites><testsuite tests="1"><testcase name="a"/></testsuite></testsuites>',  # suite name
                '<testsuites><testsuite name="s" tests="-1"/></testsuites>',  # negative count
                '<testsuites><testsuite name="s" tests="1"><testcase name="a" time="soon"/></testsuite></testsuites>',
                '<testsuites><testsuite name="s" tests="1"><testcase/></testsuite></testsuites>',  # case name
                '<testsuites><testsuite name="s" tests="1"><testcase name="a"><oops/></testcase></testsuite></testsuites>']:
        bad.write_text(doc)
        p = subprocess.run([xmllint(), "--noout", "--schema", XSD, str(bad)], capture_output=True, timeout=60)
        assert p.returncode != 0, doc


def test_junit_read_like_gitlab(tmp_path):
    rc, out = junit(tmp_path, [MUST_CASE, ADVICE_CASE, CLEAN])
    assert rc == 1
    root, cases = gitlab_cases(out)
    assert root.get("tests") == str(len(cases)) and root.get("failures") == "1" and root.get("errors") == "0"
    assert [s.get("name") for s in root.findall("testsuite")] == [MUST_CASE, ADVICE_CASE, CLEAN]
    assert all(c["classname"] in ("smtpkit.client", "smtpkit.server") and c["execution_time"] == 0.0 for c in cases)
    (failed,) = [c for c in cases if c["status"] == "failed"]
    assert failed["suite_name"] == MUST_CASE and failed["name"] == f"server.esc.class [{MUST_CASE}]"
    assert failed["classname"] == "smtpkit.server" and failed["type"] == "MUST"
    assert failed["message"] == f"{MUST_CASE}:17: server.esc.class: 5.0.0 with reply code 250"
    assert failed["system_output"].startswith(f"{MUST_CASE}:17: MUST server.esc.class: 5.0.0 with reply code 250 "
                                              "(RFC 2034 §4)")
    # Below --fail-on: a passing test case with the finding as system-out.
    (noted,) = [c for c in cases if c["system_out"]]
    assert noted["status"] == "success" and noted["name"] == f"client.auth.plaintext [{ADVICE_CASE}]"
    assert "ADVICE client.auth.plaintext: PLAIN without TLS" in noted["system_out"]
    # ... and a property of the case, which Jenkins lists for a passing case.
    props = noted["properties"]
    assert len(props) == 1 and props[0][0] == "smtpkit.below-fail-on"
    assert "ADVICE client.auth.plaintext: PLAIN without TLS" in props[0][1]
    for s in root.findall("testsuite"):
        assert int(s.get("tests")) == len(s.findall("testcase"))
        assert int(s.get("failures")) == len(s.findall("testcase/failure"))


@functools.lru_cache(maxsize=None)
def grammar_rules():
    _, out, _ = run(["rules", "--format", "json", "--family", "grammar"])
    return frozenset(r["id"] for r in json.loads(out)["rules"])


def case_name_for(rule, source):
    """Grammar rules fold into one test case per side; a case is named by rule and dialogue (docs/reports.md)."""
    return (rule.split(".", 1)[0] + ".grammar" if rule in grammar_rules() else rule) + f" [{source}]"


def test_junit_failures_are_the_counted_findings(tmp_path):
    _, doc, _ = run_json(["check", "--fail-on", "should", RULES])
    _, out = junit(tmp_path, ["--fail-on", "should", RULES])
    _, cases = gitlab_cases(out)
    failed = {(c["suite_name"], c["name"]) for c in cases if c["status"] == "failed"}
    counted = {(d["source"], case_name_for(f["rule"], d["source"])) for d in doc["dialogues"] for f in d["findings"]
               if f["counts"]}
    assert failed == counted
    noted = {(c["suite_name"], c["name"]) for c in cases if c["system_out"]}
    below = {(d["source"], case_name_for(f["rule"], d["source"])) for d in doc["dialogues"] for f in d["findings"]
             if not f["counts"]}
    assert noted == below


def test_junit_error_for_an_unreadable_transcript(tmp_path, unreadable):
    rc, out = junit(tmp_path, [unreadable])
    assert rc == 2
    root, cases = gitlab_cases(out)
    assert root.get("errors") == "1"
    (c,) = cases
    assert c["status"] == "error" and c["type"] == "unreadable" and c["name"] == "read"
    assert c["message"].startswith(f"{unreadable}:2:10: invalid escape")


# --- rules ---------------------------------------------------------------

def test_rules_text_json_markdown_agree():
    rc, text, _ = run(["rules"])
    assert rc == 0
    # One line per rule, each followed by one indented line of its grounds.
    lines = [l for l in text.splitlines() if not l.startswith(" ")]
    grounds = [l for l in text.splitlines() if l.startswith("    ")]
    n = int(lines[-1].split()[0])
    assert lines[-1] == f"{n} rules" and len(lines) == n + 1 and len(grounds) == n
    rc, js, _ = run(["rules", "--format", "json"])
    doc = json.loads(js)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc["iana_registry"])
    rules = doc["rules"]
    assert len(rules) == n and len({r["id"] for r in rules}) == n
    for r in rules:
        assert set(r) == {"id", "side", "level", "rfc", "family", "text", "grounds"}
        assert set(r["grounds"]) == {"section", "quote", "note", "errata"}
        assert r["grounds"]["section"].startswith("RFC ") and (r["grounds"]["quote"] or r["grounds"]["note"])
        assert r["side"] in ("client", "server") and r["level"] in LEVELS
        assert r["family"] in ("protocol", "grammar", "data") and r["id"].startswith(r["side"] + ".")
        assert re.fullmatch(r"RFC \d+ §[0-9.]+", r["rfc"]), r
    assert [l.split()[0] for l in lines[:-1]] == [r["id"] for r in rules]
    rc, md, _ = run(["rules", "--format", "markdown"])
    rows = [l for l in md.splitlines() if l.startswith("| `")]
    assert [re.match(r"\| `([^`]+)`", l)[1] for l in rows] == [r["id"] for r in rules]
    assert "<" not in "".join(rows)  # "<CRLF>" would render as an HTML tag


def test_rules_filters():
    _, js, _ = run(["rules", "--format", "json", "--side", "server", "--family", "protocol"])
    rules = json.loads(js)["rules"]
    assert rules and all(r["side"] == "server" and r["family"] == "protocol" for r in rules)


# --- generated files -----------------------------------------------------

def test_docs_rules_md_is_up_to_date():
    rc, md, _ = run(["rules", "--format", "markdown"])
    with open(os.path.join(ROOT, "docs", "rules.md"), encoding="utf-8") as f:
        assert f.read() == md, "docs/rules.md is out of date: run scripts/gen_docs.sh"


def test_rule_corpus_is_up_to_date():
    p = subprocess.run([sys.executable, os.path.join(RULES, "make_cases.py"), "--smtpkit", BIN, "--check"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode() + "\nrun conformance/test/rules/make_cases.py"


def test_an_output_that_cannot_be_written_exits_2_with_one_line(tmp_path):
    target = tmp_path / "no-such-dir" / "report.txt"
    rc, out, err = run(["check", "-o", str(target), CLEAN])
    assert rc == 2 and out == ""
    assert err == "smtpkit check: cannot write %s\n" % target
