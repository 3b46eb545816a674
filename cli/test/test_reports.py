"""Verdicts a CI can act on (`smtpkit check`): waivers and level overrides
(flags and the .smtpkit.yaml found by walking up), waived findings visible in
text, JSON, JUnit, SARIF and HTML; SARIF valid against the official SARIF
2.1.0 schema (conformance/test/sarif/, with its licence note); JUnit case
names unique across dialogues; the HTML report drawn by headless Chromium;
and the ends that must be consistent: empty inputs, missing files, standard
input.

Needs python3-jsonschema (SARIF) and chromium (HTML), both installed by
scripts/setup.sh; neither is skipped when missing: the test fails and says so.
"""
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from peers.browser import dump_dom

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("SMTPKIT_BIN", os.path.join(ROOT, "build/default/cli/smtpkit"))
RULES = os.path.join(ROOT, "conformance", "test", "rules")
DIALOGUES = os.path.join(ROOT, "corpus", "dialogues")
SARIF_SCHEMA = os.path.join(ROOT, "conformance", "test", "sarif", "sarif-schema-2.1.0.json")
MUST_CASE = os.path.join(RULES, "server.esc.class.bad.smtp")       # one MUST finding, line 17
DOMAIN_CASE = os.path.join(RULES, "client.domain.unqualified.bad.smtp")
EXIM = [os.path.join(DIALOGUES, n) for n in ("real-curl-exim.smtp", "real-msmtp-exim.smtp", "real-swaks-exim.smtp")]


def run(args, cwd=None, stdin=None):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=120, cwd=cwd, input=stdin,
                       env=dict(os.environ, NO_COLOR="1"))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def findings(doc):
    return [f for d in doc["dialogues"] for f in d.get("findings", [])]


# --- waivers ----------------------------------------------------------------

def test_ignore_waives_a_rule_and_keeps_the_finding_visible():
    rc, out, _ = run(["check", MUST_CASE])
    assert rc == 1
    rc, out, _ = run(["check", "--no-config", "--ignore", "server.esc.class", MUST_CASE])
    assert rc == 0, out
    assert "server.esc.class" in out and "[waived: waived on the command line — --ignore]" in out
    assert "1 waived" in out.splitlines()[-1] and "PASS" in out.splitlines()[-1]
    rc, out, _ = run(["check", "--no-config", "--ignore", "server.esc.*", "--format", "json", MUST_CASE])
    (f,) = findings(json.loads(out))
    assert f["waived"] == {"reason": "waived on the command line", "by": "--ignore"} and f["counts"] is False
    assert json.loads(out)["summary"]["waived"] == 1 and json.loads(out)["summary"]["MUST"] == 0


def test_level_override_counts_a_rule_at_another_level():
    rc, out, _ = run(["check", "--no-config", "--level", "server.esc.class=advice", "--format", "json", MUST_CASE])
    assert rc == 0
    (f,) = findings(json.loads(out))
    assert (f["level"], f["rule_level"], f["level_set_by"], f["counts"]) == ("ADVICE", "MUST", "--level", False)
    rc, out, _ = run(["check", "--no-config", "--level", "server.esc.class=should", "--fail-on", "should", MUST_CASE])
    assert rc == 1 and "SHOULD (MUST, level set by --level)" in out
    rc, _, err = run(["check", "--no-config", "--level", "server.esc.class=sometimes", MUST_CASE])
    assert rc == 2 and "expected RULE=must|should|may|advice" in err


@pytest.fixture
def project(tmp_path):
    """A project with .smtpkit.yaml at its top and the dialogues two folders down."""
    (tmp_path / ".smtpkit.yaml").write_text(
        "# waivers of this project\n"
        "ignore:\n"
        "  - rule: server.esc.*\n"
        "    reason: our relay adds enhanced codes of its own\n"
        "    dialogues: ['*esc.class*']\n"
        "level:\n"
        "  - rule: client.domain.unqualified\n"
        "    level: advice\n"
        "    reason: the app runs in a container with a short host name\n")
    work = tmp_path / "tests" / "smtp"
    work.mkdir(parents=True)
    shutil.copy(MUST_CASE, work / "esc.class.smtp")
    shutil.copy(DOMAIN_CASE, work / "domain.smtp")
    shutil.copy(EXIM[0], work / "exim.smtp")
    return tmp_path, work


def test_the_config_file_is_found_by_walking_up(project):
    top, work = project
    rc, out, _ = run(["check", "--format", "json", "."], cwd=work)
    doc = json.loads(out)
    assert doc["policy"] == str(top / ".smtpkit.yaml")
    by_rule = {f["rule"]: f for f in findings(doc)}
    assert by_rule["server.esc.class"]["waived"] == {"reason": "our relay adds enhanced codes of its own",
                                                     "by": str(top / ".smtpkit.yaml") + ":3"}
    assert by_rule["client.domain.unqualified"]["level"] == "ADVICE"
    assert by_rule["client.domain.unqualified"]["level_set_by"] == str(top / ".smtpkit.yaml") + ":7"
    # The waiver names its dialogues: exim's finding elsewhere still counts.
    assert "waived" not in by_rule["server.ehlo.keyword-unregistered"] and rc == 1
    # --no-config reads no file; --config names one.
    assert all("waived" not in f for f in findings(json.loads(run(["check", "--no-config", "--format", "json", "."],
                                                                   cwd=work)[1])))
    rc, out, _ = run(["check", "--config", str(top / ".smtpkit.yaml"), "esc.class.smtp"], cwd=work)
    assert rc == 0


def test_waived_findings_stay_visible_in_every_format(project, tmp_path):
    top, work = project
    case = "esc.class.smtp"
    rc, text, _ = run(["check", case], cwd=work)
    assert rc == 0 and "[waived: our relay adds enhanced codes of its own" in text
    rc, xml, _ = run(["check", "--format", "junit", case], cwd=work)
    root = ET.fromstring(xml)
    assert root.get("failures") == "0"
    props = [(p.get("name"), p.get("value")) for p in root.iter("property")]
    assert [n for n, _ in props] == ["smtpkit.waived"] and "our relay adds" in props[0][1]
    rc, sarif, _ = run(["check", "--format", "sarif", case], cwd=work)
    (res,) = json.loads(sarif)["runs"][0]["results"]
    assert res["ruleId"] == "server.esc.class"
    assert res["suppressions"][0]["kind"] == "external" and "our relay adds" in res["suppressions"][0]["justification"]
    rc, html, _ = run(["check", "--format", "html", case], cwd=work)
    dom = chromium_dom(tmp_path, html)
    assert 'class="finding level-must waived"' in dom and "waived: our relay adds" in dom


@pytest.mark.parametrize("text,message", [
    ("ignore:\n  - rule: server.esc.class\n", ".smtpkit.yaml:2: 'reason' is missing"),
    ("ignore:\n  - rule: client.no-such-rule\n    reason: r\n", ".smtpkit.yaml:2: 'client.no-such-rule' matches no rule"),
    ("level:\n  - rule: server.esc.class\n    level: maybe\n    reason: r\n", ".smtpkit.yaml:3: 'level' must be must"),
    ("ignore: [\n", ".smtpkit.yaml:"),
    ("waivers: []\n", ".smtpkit.yaml:1: unknown key 'waivers'"),
])
def test_a_bad_config_file_says_file_line_and_what(tmp_path, text, message):
    (tmp_path / ".smtpkit.yaml").write_text(text)
    rc, out, err = run(["check", MUST_CASE], cwd=tmp_path)
    assert rc == 2 and out == "" and message in err, err


# --- JUnit -------------------------------------------------------------------

def test_junit_cases_are_named_by_rule_and_dialogue():
    """Five dialogues breaking one rule are five cases CI can tell apart."""
    rc, xml, _ = run(["check", "--no-config", "--format", "junit", *EXIM])
    root = ET.fromstring(xml)
    keys = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(keys) == len(set(keys))
    failing = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failing == [f"server.ehlo.keyword-unregistered [{p}]" for p in EXIM]


# --- SARIF -------------------------------------------------------------------

def validate_sarif(text):
    try:
        import jsonschema
    except ImportError:
        pytest.fail("python3-jsonschema is needed to validate SARIF (scripts/setup.sh installs it)")
    with open(SARIF_SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    doc = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(doc)
    return doc


def test_sarif_is_valid_against_the_official_schema(tmp_path):
    broken = tmp_path / "broken.smtp"
    broken.write_text("S: 220 mx.example.test\nC: EHLO a\\qb\n")
    for args in ([DIALOGUES], [RULES], [MUST_CASE, str(broken)], ["--ignore", "server.*", DIALOGUES]):
        rc, out, _ = run(["check", "--no-config", "--format", "sarif", *args])
        validate_sarif(out)


def test_sarif_locates_each_finding_at_its_transcript_line():
    rc, out, _ = run(["check", "--no-config", "--format", "sarif", MUST_CASE])
    assert rc == 1
    doc = validate_sarif(out)
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    (res,) = run_["results"]
    rule = rules[res["ruleIndex"]]
    assert rule["id"] == res["ruleId"] == "server.esc.class"
    assert rule["helpUri"] == "https://www.rfc-editor.org/rfc/rfc2034#section-4"
    assert res["level"] == "error"
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == MUST_CASE and loc["region"]["startLine"] == 17
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_sarif_reports_an_unreadable_transcript_as_a_notification(tmp_path):
    broken = tmp_path / "broken.smtp"
    broken.write_text("S: 220 mx.example.test\nC: EHLO a\\qb\n")
    rc, out, _ = run(["check", "--no-config", "--format", "sarif", str(broken)])
    assert rc == 2
    inv = validate_sarif(out)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    note = inv["toolExecutionNotifications"][0]
    assert note["level"] == "error" and "invalid escape" in note["message"]["text"]


# --- HTML --------------------------------------------------------------------

def chromium_dom(tmp_path, html):
    """The page's DOM after its scripts ran, as headless Chromium serialises it."""
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    return dump_dom(page)


def test_html_report_draws_the_ladder_with_the_finding_pinned(tmp_path):
    rc, html, _ = run(["check", "--no-config", "--format", "html", MUST_CASE, EXIM[0]])
    assert rc == 1
    assert "http://" not in html.replace("http://www.w3.org", "") and "<link" not in html, "self-contained"
    dom = chromium_dom(tmp_path, html)
    assert dom.count('class="ladder"') == 2, "each failing dialogue is drawn"
    assert 'class="row send to-client has-finding finding-must" data-line="17"' in dom
    pinned = dom[dom.index('class="pinned" data-line="17"'):]
    assert 'data-rule="server.esc.class"' in pinned[:2000] and "MUST" in pinned[:2000]
    assert 'href="https://www.rfc-editor.org/rfc/rfc2034#section-4"' in pinned[:2000]
    assert 'id="rule-filter"' in dom, "the filters are drawn"


def test_html_report_shows_control_octets_as_escapes(tmp_path):
    rc, html, _ = run(["check", "--no-config", "--format", "html", os.path.join(DIALOGUES, "real-curl-exim-lf.smtp")])
    dom = chromium_dom(tmp_path, html)
    assert '<span class="esc">\\n</span>' in dom and 'class="eol raw"' in dom


# --- consistent ends -----------------------------------------------------------

def test_empty_inputs_are_errors_not_a_pass(tmp_path):
    empty = tmp_path / "empty.smtp"
    empty.write_text("")
    comments = tmp_path / "comments.smtp"
    comments.write_text("# nothing here\n\n")
    folder = tmp_path / "none"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a transcript\n")
    rc, out, err = run(["check", str(empty)])
    assert rc == 2 and f"{empty}: no dialogue: the file holds no records" in err
    assert run(["check", str(comments)])[0] == 2
    rc, out, err = run(["check", str(folder)])
    assert rc == 2 and out == "" and f"{folder}: no *.smtp transcripts in this folder" in err


def test_a_missing_file_reads_the_same_in_every_verb(tmp_path):
    missing = str(tmp_path / "nowhere.smtp")
    for args in (["check", missing], ["replay", missing, "--target", "127.0.0.1:25"],
                 ["probe", "server", "--no-builtin", "--suite", missing, "127.0.0.1:25"],
                 ["serve", "--script", missing, "--listen", "127.0.0.1:0"], ["parse", missing]):
        rc, _, err = run(args)
        assert rc == 2 and f"{missing}: no such file or folder" in err, (args, err)


@pytest.mark.parametrize("args,message", [
    (["replay", MUST_CASE, "--target", "127.0.0.1:70000"], "port 70000 is out of range (1-65535)"),
    (["probe", "server", "127.0.0.1:0"], "port 0 is out of range (1-65535)"),
    (["serve", "--listen", "127.0.0.1:65536"], "port 65536 is out of range (0-65535, 0: any free port)"),
    (["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:99999", "--out", "x"], "port 99999 is out of range"),
    (["replay", MUST_CASE, "--target", "localhost"], "expected HOST:PORT"),
])
def test_an_out_of_range_port_says_so(args, message):
    rc, _, err = run(args)
    assert rc == 2 and message in err, err


def test_only_takes_its_value_and_leaves_the_target():
    # --list parses the target too: the group filter must not swallow it.
    rc, out, err = run(["probe", "server", "--only", "basics", "127.0.0.1:2525", "--list"])
    assert rc == 0, err
    assert out and all(line.startswith("Basics\t") for line in out.splitlines())


def test_check_dash_reads_standard_input():
    with open(MUST_CASE, "rb") as f:
        rc, out, _ = run(["check", "--no-config", "-"], stdin=f.read())
    assert rc == 1 and out.startswith("-:17: server MUST server.esc.class")
