"""`smtpkit parse`: JSON lines out, exit 0/1/2 (docs/cli.md)."""
import json
import os
import subprocess

BIN = os.environ.get("SMTPKIT_BIN", "build/default/cli/smtpkit")


def run(args, stdin=""):
    p = subprocess.run([BIN, *args], input=stdin.encode(), capture_output=True, timeout=30)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, lines, p.stderr.decode()


def test_every_record_parsed_exits_0():
    rc, out, _ = run(["parse", "--as", "command"], "EHLO client.example\nMAIL FROM:<a@example.test> SIZE=10\n")
    assert rc == 0
    assert [o["ok"] for o in out] == [True, True]
    assert out[1]["fields"]["verb"] == "MAIL"
    assert out[1]["fields"]["path"]["mailbox"]["local_part"] == "a"
    assert out[1]["fields"]["typed"]["size"] == 10
    assert out[0]["rule"] is None


def test_a_rejected_record_exits_1_with_rule_offset_reason_rfc():
    rc, out, _ = run(["parse"], "MAIL FROM: <a@example.test>\n")
    assert rc == 1
    o = out[0]
    assert o["ok"] is False
    assert o["rule"] == "path.space-after-colon"
    assert o["offset"] == 10
    assert o["reason"]
    assert o["rfc"] == "RFC 5321 §4.1.1.2"
    assert o["input"] == "MAIL FROM: <a@example.test>"


def test_lenient_flag_relaxes_only_its_rule():
    rc, out, _ = run(["parse", "--lenient", "space-after-colon"], "MAIL FROM: <a@example.test>\n")
    assert rc == 0 and out[0]["ok"]
    rc, out, _ = run(["parse", "--lenient", "space-after-colon"], "MAIL FROM:a@example.test\n")
    assert rc == 1 and out[0]["rule"] == "path.open"


def test_escapes_and_line_level_rules():
    rc, out, _ = run(["parse"], "NOOP\\rX\nNO\\0OP\n")
    assert rc == 1
    assert out[0]["rule"] == "line.bare-cr"
    assert out[1]["rule"] == "line.nul"


def test_multiline_reply_record():
    rc, out, _ = run(["parse", "--as", "reply"], "250-first\\r\\n250 2.0.0 last\n250-a\\r\\n251 b\n")
    assert rc == 1
    assert out[0]["ok"] and out[0]["fields"]["code"] == 250
    assert out[0]["fields"]["lines"] == ["first", "2.0.0 last"]
    assert out[1]["rule"] == "reply.code-mismatch"


def test_ehlo_reply_fields():
    rc, out, _ = run(["parse", "--as", "ehlo-reply"],
                     "250-mx.example.test hi\\r\\n250-SIZE 1000\\r\\n250-AUTH PLAIN LOGIN\\r\\n250 PIPELINING\n")
    assert rc == 0
    f = out[0]["fields"]
    assert f["domain"] == "mx.example.test"
    assert f["size_limit"] == 1000
    assert set(f["extensions"]) == {"SIZE", "AUTH", "PIPELINING"}
    assert f["auth_mechanisms"] == "PLAIN LOGIN"


def test_paths_mailboxes_domains():
    rc, out, _ = run(["parse", "--as", "path"], "<Postmaster>\n<@a.example:u@[IPv6:::1]>\n")
    assert rc == 0
    assert out[0]["fields"]["postmaster"] is True
    assert out[1]["fields"]["mailbox"]["domain"]["kind"] == "ipv6"
    rc, out, _ = run(["parse", "--as", "mailbox", "--smtputf8"], "j\u00f6rg@b\u00fccher.example\n")
    assert rc == 0 and out[0]["fields"]["utf8"] is True
    rc, out, _ = run(["parse", "--as", "domain"], "a..b\n")
    assert rc == 1 and out[0]["rule"] == "domain.empty"


def test_usage_errors_exit_2():
    rc, _, err = run(["parse", "--as", "nonsense"], "")
    assert rc == 2
    rc, _, err = run(["parse"], "C: a\\qb\n")
    assert rc == 2
    assert "<stdin>:1:5:" in err and "invalid escape" in err
    rc, _, err = run(["parse", "/nonexistent/file"])
    assert rc == 2 and "no such file or folder" in err
    rc, _, _ = run(["frobnicate"])
    assert rc == 2


def test_help_lists_only_working_verbs():
    p = subprocess.run([BIN, "--help"], capture_output=True, timeout=30)
    assert p.returncode == 0
    assert b"parse" in p.stdout


def test_the_example_in_docs_cli_md_is_what_parse_prints():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "cli.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("$ echo ") and l.endswith("| smtpkit parse"))
    record = lines[i][len("$ echo '"):lines[i].rindex("'")]
    rc, out, _ = run(["parse"], record + "\n")
    assert json.dumps(out[0], ensure_ascii=False, separators=(",", ":")) == lines[i + 1]
