#!/usr/bin/env python3
"""scripts/fuzz_seeds.py — (re)write the seed corpora of the fuzz targets,
corpus/<target>/, from three sources:

  1. recorded dialogues, corpus/dialogues/*.smtp (RFC 5321 Appendix D and
     real sessions): their command lines, replies, greetings, EHLO responses,
     byte streams, DATA content and the transcript files themselves; the
     rule corpus (conformance/test/rules/*.smtp) for the engine target; the
     ready scripts (examples/scripts/) and the probe scenarios
     (conformance/server/) for the script target;
  2. hand-written edge cases below, one list per target, named after what
     they exercise (RFC section in the name where there is one);
  3. random valid inputs from the reference grammar (fuzz/reference/*.abnf),
     written by the smtpkit_abnf_generate tool when --generator is given.

Seeds of a target that reads option bytes (fuzz/fuzz_<target>.cpp header)
carry them. Files this script did not write (crash regressions, named
regress-*, and inputs merged from fuzzing runs, named by SHA-1) are left
alone; files it wrote before are replaced. Standard library only;
deterministic.

Usage: scripts/fuzz_seeds.py [--generator build/fuzzwork/fuzz/smtpkit_abnf_generate]
"""

import argparse
import glob
import hashlib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpus")
MANAGED = re.compile(r"^(dlg|hand|gen)-")


# ---------------------------------------------------------------- dialogues
def unescape(text):
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    simple = {ord("\\"): b"\\", ord("r"): b"\r", ord("n"): b"\n", ord("t"): b"\t", ord("0"): b"\0"}
    while i < len(raw):
        c = raw[i]
        if c == ord("\\") and i + 1 < len(raw):
            e = raw[i + 1]
            if e in simple:
                out += simple[e]
                i += 2
                continue
            if e == ord("x"):
                out.append(int(raw[i + 2:i + 4], 16))
                i += 4
                continue
        out.append(c)
        i += 1
    return bytes(out)


def read_dialogue(path):
    """Records as (side, bytes sent) in order; directives are skipped."""
    records = []
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8", "surrogateescape").split("\n"):
            line = line.rstrip("\r")
            if len(line) < 2 or line[0] not in "CS" or line[1] not in ":=":
                continue
            payload = unescape(line[3:]) if len(line) > 2 else b""
            records.append((line[0], payload + (b"\r\n" if line[1] == ":" else b"")))
    return records


def stream(records, side):
    return b"".join(b for s, b in records if s == side)


def split_lines(data):
    lines = data.split(b"\r\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def replies(server_bytes):
    """Group server lines into replies (a line with '-' after the code continues)."""
    out, cur = [], []
    for line in split_lines(server_bytes):
        cur.append(line)
        if not (len(line) > 3 and line[3:4] == b"-"):
            out.append(b"\r\n".join(cur))
            cur = []
    return out


def client_commands(client_bytes):
    """Command lines, skipping DATA content (up to the line '.')."""
    out, in_data = [], False
    for line in split_lines(client_bytes):
        if in_data:
            in_data = line != b"."
            continue
        out.append(line)
        in_data = line.upper() == b"DATA"
    return out


def data_content(client_bytes):
    """What follows the DATA command line: the message and its end marker."""
    m = re.search(rb"(?i)\r\nDATA\r\n", b"\r\n" + client_bytes)
    return client_bytes[m.end() - 2:] if m else b""


# ---------------------------------------------------------------- helpers
def split_header(options, lengths):
    return bytes([options, len(lengths)] + list(lengths))


# ---------------------------------------------------------------- hand-written seeds
COMMANDS = {
    "ehlo": b"EHLO client.example.test",
    "ehlo-ipv4": b"EHLO [192.0.2.1]",
    "ehlo-ipv6": b"EHLO [IPv6:2001:db8::1]",
    "ehlo-general-literal": b"EHLO [x-tag:opaque]",
    "helo": b"HELO client.example",
    "helo-literal-4.1.1.1": b"HELO [192.0.2.1]",
    "mail-null": b"MAIL FROM:<>",
    "mail-space-after-colon": b"MAIL FROM: <a@example.test>",
    "mail-no-brackets": b"MAIL FROM:a@example.test",
    "mail-all-params": b"MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B314159 "
                       b"AUTH=e+3Dmc2@example.com MT-PRIORITY=-3 REQUIRETLS",
    "mail-utf8": b"MAIL FROM:<j\xc3\xb6rg@b\xc3\xbccher.example> SMTPUTF8",
    "mail-quoted": b'MAIL FROM:<"john \\"q\\" smith"@example.test>',
    "mail-source-route": b"MAIL FROM:<@a.example,@b.example:u@c.example>",
    "mail-trailing-sp": b"MAIL FROM:<a@example.test> ",
    "mail-unknown-param": b"MAIL FROM:<a@example.test> XFOO=bar",
    "mail-dup-param": b"MAIL FROM:<a@example.test> SIZE=1 size=2",
    "rcpt-postmaster": b"RCPT TO:<Postmaster>",
    "rcpt-postmaster-domain": b"RCPT TO:<postmaster@example.test>",
    "rcpt-dsn": b"RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;b+40example.test",
    "rcpt-ipv6v4": b"RCPT TO:<u@[IPv6:::ffff:192.0.2.1]>",
    "data": b"DATA",
    "data-arg": b"DATA x",
    "rset": b"RSET",
    "quit": b"quit",
    "starttls": b"StartTLS",
    "vrfy": b"VRFY Smith",
    "vrfy-quoted": b'VRFY "John Smith"',
    "vrfy-smtputf8": b"VRFY j\xc3\xb6rg SMTPUTF8",
    "expn": b"EXPN Example-People",
    "help": b"HELP",
    "help-topic": b"HELP MAIL",
    "noop": b"NOOP",
    "noop-string": b"NOOP ping",
    "auth": b"AUTH LOGIN",
    "auth-initial": b"AUTH PLAIN AHRlc3QAdGVzdA==",
    "auth-empty-initial": b"AUTH PLAIN =",
    "auth-lower": b"AUTH plain",
    "auth-response-cancel": b"*",
    "auth-response": b"dGVzdA==",
    "bdat": b"BDAT 1000",
    "bdat-last": b"BDAT 0 LAST",
    "bdat-max": b"BDAT 18446744073709551615",
    "bdat-overflow": b"BDAT 18446744073709551616",
    "unknown": b"XYZZY plugh",
    "empty": b"",
    "leading-sp": b" NOOP",
    "nul": b"NOOP \x00",
    "long-local-part": b"RCPT TO:<" + b"a" * 65 + b"@example.test>",
    "long-path": b"RCPT TO:<" + b"a" * 64 + b"@" + b"b" * 63 + b"." + b"c" * 63 + b"." + b"d" * 62 + b">",
}

PATHS = {
    "domain": b"example.test",
    "domain-label-63": b"a" * 63 + b".x",
    "domain-label-64": b"a" * 64 + b".x",
    "domain-255": b".".join([b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 63]),
    "domain-hyphen": b"-a.example",
    "domain-underscore": b"a_b.example",
    "domain-trailing-dot": b"example.test.",
    "ipv4": b"[192.0.2.1]",
    "ipv4-256": b"[256.0.0.1]",
    "ipv4-leading-zeros": b"[001.002.003.004]",
    "ipv6-full": b"[IPv6:2001:db8:0:0:0:0:0:1]",
    "ipv6-comp": b"[IPv6:2001:db8::1]",
    "ipv6-all-zero": b"[IPv6:::]",
    "ipv6-seven-comp": b"[IPv6:1:2:3:4::5:6:7]",
    "ipv6v4-full": b"[IPv6:0:0:0:0:0:ffff:192.0.2.1]",
    "ipv6v4-comp": b"[IPv6:1:2::3:4:192.0.2.1]",
    "ipv6-tag-case": b"[ipv6:2001:db8::1]",
    "ipv6-tag-general": b"[IPv6:not-an-address]",
    "general": b"[x-tag:some-address]",
    "general-gt": b"[x-tag:a>b]",
    "mailbox": b"user@example.test",
    "mailbox-specials": b"a!#$%&'*+-/=?^_`{|}~@example.test",
    "mailbox-quoted": b'"john \\"q\\" smith"@example.test',
    "mailbox-literal": b"user@[IPv6:2001:db8::1]",
    "mailbox-utf8": b"j\xc3\xb6rg@b\xc3\xbccher.example",
    "mailbox-64": b"a" * 64 + b"@example.test",
    "path": b"<user@example.test>",
    "path-null": b"<>",
    "path-postmaster": b"<Postmaster>",
    "path-route": b"<@a.example,@b.example:user@c.example>",
    "path-unclosed": b"<user@example.test",
    "path-256": b"<" + b"a" * 64 + b"@" + b"b" * 63 + b"." + b"c" * 63 + b"." + b"d" * 61 + b">",
}

PARAMS = {
    "size": b"SIZE=12345",
    "size-20-digits": b"SIZE=99999999999999999999",
    "size-21-digits": b"SIZE=999999999999999999999",
    "body": b"BODY=8BITMIME",
    "body-binarymime": b"BODY=BINARYMIME",
    "smtputf8": b"SMTPUTF8",
    "smtputf8-value": b"SMTPUTF8=yes",
    "ret": b"RET=FULL",
    "envid": b"ENVID=QQ+2B314159",
    "envid-lower-hex": b"ENVID=QQ+2b",
    "envid-100": b"ENVID=" + b"a" * 100,
    "envid-101": b"ENVID=" + b"a" * 101,
    "auth": b"AUTH=e+3Dmc2@example.com",
    "auth-null": b"AUTH=<>",
    "mt-priority": b"MT-PRIORITY=-9",
    "mt-priority-bad": b"MT-PRIORITY=+3",
    "requiretls": b"REQUIRETLS",
    "notify": b"NOTIFY=SUCCESS,FAILURE,DELAY",
    "notify-never": b"NOTIFY=NEVER",
    "notify-repeat": b"NOTIFY=DELAY,DELAY",
    "orcpt": b"ORCPT=rfc822;b+40example.test",
    "orcpt-empty-address": b"ORCPT=rfc822;",
    "many": b"SIZE=1 BODY=7BIT RET=HDRS ENVID=x AUTH=<> MT-PRIORITY=0 REQUIRETLS SMTPUTF8",
    "two-sp": b"SIZE=1  BODY=7BIT",
    "trailing-sp": b"SIZE=1 ",
    "dup": b"SIZE=1 SIZE=2",
    "unknown": b"XFOO=bar",
    "utf8-value": b"XA=\xc3\xa9",
}

REPLIES = {
    "code-alone": b"250",
    "ok": b"250 OK",
    "ht": b"250 a\tb",
    "multi": b"250-first\r\n250-second\r\n250 last",
    "continuation-empty": b"250-\r\n250 last",
    "empty-text": b"250 ",
    "code-600": b"600 no",
    "mismatch-4.2.1": b"250-a\r\n251 b",
    "incomplete": b"250-a\r\n250-b",
    "after-last": b"250 a\r\n250 b",
    "final-crlf": b"250 OK\r\n",
    "enhanced": b"250 2.1.0 Sender OK",
    "enhanced-leading-zero": b"550 5.01.1 no",
    "enhanced-class-3": b"354 3.0.0 go",
    "utf8": b"250 caf\xc3\xa9",
    "521-rfc7504": b"521 does not accept mail",
}

GREETINGS = {
    "domain": b"220 mx.example.test ESMTP ready",
    "domain-only": b"220 mx.example.test",
    "literal": b"220 [192.0.2.1] ready",
    "multi": b"220-mx.example.test ESMTP\r\n220-more\r\n220",
    "trailing-sp": b"220 mx.example.test ",
    "text-only": b"220 Welcome!",
    "554": b"554 no service",
}

EHLOS = {
    "single": b"250 mx.example.test",
    "greet": b"250 mx.example.test greets you",
    "lines": b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME",
    "all-known": b"250-mx.example.test\r\n" + b"\r\n".join(
        b"250-" + k for k in [b"PIPELINING", b"SIZE", b"8BITMIME", b"SMTPUTF8", b"STARTTLS", b"AUTH PLAIN", b"DSN",
                              b"ENHANCEDSTATUSCODES", b"CHUNKING", b"BINARYMIME", b"REQUIRETLS",
                              b"MT-PRIORITY MIXER", b"DELIVERBY 240", b"ETRN", b"ATRN", b"BURL imap", b"HELP",
                              b"VRFY", b"EXPN", b"NO-SOLICITING", b"FUTURERELEASE 604800 2012-10-05T00:00:00Z"]) +
                 b"\r\n250 LIMITS RCPTMAX=20",
    "keyword-eq": b"250-mx.example.test\r\n250 AUTH=PLAIN",
    "size-bad": b"250-mx.example.test\r\n250 SIZE big",
    "two-sp": b"250-mx.example.test\r\n250 AUTH  PLAIN",
    "bare-code": b"250-mx.example.test\r\n250",
    "not-250": b"550 no",
}

# Streams for the framer and the client-stream target.
STREAMS = {
    "bare-lf": b"EHLO a\nMAIL FROM:<a@b>\r\n",
    "bare-cr": b"NOOP\rRSET\r\n",
    "cr-at-end": b"NOOP\r",
    "nul-ctl-8bit": b"NOOP \x00\x01\xff\tx\r\n",
    "long-line": b"NOOP " + b"x" * 600 + b"\r\nQUIT\r\n",
    "long-cr-split": b"x" * 510 + b"\r\n" + b"y" * 511 + b"\r\n",
    "empty-lines": b"\r\n\r\n\n\r",
    "pipelined": b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n",
}

CLIENT_SESSIONS = {
    "bdat": b"EHLO c.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n"
            b"BDAT 12\r\nHello world\nBDAT 0 LAST\r\nQUIT\r\n",
    "bdat-last-data": b"BDAT 5 LAST\r\nabcdeQUIT\r\n",
    "bdat-huge": b"BDAT 18446744073709551615\r\nall of this is chunk data\r\n",
    "bdat-then-data": b"BDAT 3\r\n.\r\nDATA\r\nline\r\n..dot\r\n.\r\nQUIT\r\n",
    "data-smuggle": b"DATA\r\nA\n.\nMAIL FROM:<x@y>\r\n.\r\nQUIT\r\n",
}

DATA = {
    "end": b"Hello\r\n.\r\n",
    "empty": b".\r\n",
    "trailing": b"a\r\n.\r\nQUIT\r\n",
    "stuffed": b"..hidden\r\n.\r\n",
    "bare-lf": b"a\nb\r\n.\r\n",
    "bare-cr": b"a\rb\r\n.\r\n",
    "nul": b"a\x00b\r\n.\r\n",
    "8bit": b"caf\xc3\xa9\r\n.\r\n",
    "long-line": b"x" * 1200 + b"\r\n.\r\n",
    "lf-dot-lf": b"a\n.\nb\r\n.\r\n",
    "lf-dot-crlf": b"a\n.\r\nb\r\n.\r\n",
    "lf-dot-cr": b"a\n.\rb\r\n.\r\n",
    "crlf-dot-lf": b"a\r\n.\nb\r\n.\r\n",
    "crlf-dot-cr": b"a\r\n.\rb\r\n.\r\n",
    "cr-dot-cr": b"a\r.\rb\r\n.\r\n",
    "cr-dot-lf": b"a\r.\nb\r\n.\r\n",
    "cr-dot-crlf": b"a\r.\r\nb\r\n.\r\n",
    "nul-dot": b"a\r\n\x00.\r\nb\r\n.\r\n",
}

TRANSCRIPTS = {
    "all-records": b"# c\n\nS: 220 mx.example.test ESMTP\nC: EHLO c\nC=  partial\\n\nC:\nS: 250 a  \n@tls\n@close C\n",
    "escapes": b"C: a\\\\b\\r\\n\\t\\0\\x7F\\xff\n",
    "script": b"C~ EHLO {*}\nS: 250 ok\n@pause 5\n",
    "crlf-file": b"S: 220 x\r\nC: QUIT\r\n",
    "bad-escape": b"C: a\\qb\n",
    "directive-cr": b"@close C\r\r\n",
}

XTEXT = {
    "envid": b"QQ+2B314159",
    "lower-hex": b"a+2b",
    "plus-at-end": b"a+",
    "auth": b"e+3Dmc2@example.com",
    "raw-octets": b"\x00\xff plain=text",
}

ESCAPES = {
    "all-escapes": b"a\\\\b\\r\\n\\t\\0\\x7F\\xff",
    "raw-control": b"a\x01b",
    "bad-utf8": b"\xc3(",
    "utf8": b"caf\xc3\xa9 \xf0\x9f\x98\x80",
    "trailing-sp": b"text ",
    "short-hex": b"\\x4",
    "lone-backslash": b"\\",
}


# ---------------------------------------------------------------- writing
# Server scripts with the directives the ready scripts do not use.
SCRIPTS = {
    "sessions-seed-mismatch": b"@seed 7\n@on-mismatch reply 503 5.5.1 {*}\\r\\n\n@session 1\nS: 220 one\nC~ EHLO {h}\n"
                              b"S: 250 {h}\n@session *\nS: 220 any\n@close S\n",
    "on-mismatch-close": b"@on-mismatch close\nS: 220 x\nC: EHLO a\n",
    "rule-per-chance": b"@seed 1\n@rule per=session chance=0.25 nth=2 RCPT TO:<{r}>\nS: 450 {r} later\n@end\n"
                       b"@rule per=server times=3 after=1 tls=no auth=yes MAIL{*}\n@pause 10ms\n@fallback\n@end\n",
    "rule-tls-ends": b"@rule STARTTLS\nS: 220 go\n@tls\n@end\n",
    "bad-chance": b"@rule chance=2 QUIT\nS: 221 x\n@end\n",
    "bad-per": b"@rule per=nobody QUIT\nS: 221 x\n@end\n",
    "bad-session": b"@session 0\nS: 220 x\n",
    "bad-seed": b"@seed x\n",
    "bad-on-mismatch": b"@on-mismatch maybe\n",
    "data-compare": b"@data-ignore X-Request-Id\n@strict-data\nS: 220 x\nC: EHLO c.example\nS: 250 SIZE 9\n"
                    b"C: MAIL FROM:<a@b> SIZE=120\nS: 250 ok\nC: RCPT TO:<c@d>\nS: 250 ok\nC: DATA\nS: 354 go\n"
                    b"C: Date: Thu, 01 Jan 2026 00:00:00 +0000\nC: Message-ID: <1@c>\nC: Content-Type: multipart/mixed;\n"
                    b"C: \\tboundary=\"b1\"\nC:\nC: --b1\nC: Content-ID: <p@c>\nC:\nC: x\nC: --b1--\nC: .\nS: 250 ok\n",
    "bdat-generalized": b"S: 220 x\n# recorded: C: EHLO h\nC~ EHLO {*}\nS: 250 CHUNKING\n"
                        b"C~ MAIL FROM:<a@b> SIZE={re:[0-9]+}\nS: 250 ok\nC: BDAT 11 LAST\nC~ Date:{*}\nC: x\nS: 250 ok\n",
    "bad-data-ignore": b"@data-ignore Bad:Name\n",
}


class corpus:
    def __init__(self, target):
        self.dir = os.path.join(CORPUS, target)
        os.makedirs(self.dir, exist_ok=True)
        self.seen = set()
        self.files = {}

    def add(self, name, data):
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
        while name in self.files:
            name += "_"
        self.files[name] = data

    def write(self):
        for old in os.listdir(self.dir):
            if MANAGED.match(old):
                os.remove(os.path.join(self.dir, old))
        for name, data in sorted(self.files.items()):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)
        return len(self.files)


def generated(generator, target, rule, prefix, count, seed, extra=()):
    if not generator:
        return
    out = os.path.join(CORPUS, target)
    subprocess.run([generator, "--rule", rule, "--out", out, "--count", str(count), "--seed", str(seed),
                    "--prefix", prefix, "--max-len", "300", *extra], check=True, stdout=subprocess.DEVNULL)


def seeds_from_dialogues(c):
    """Seeds cut from the recorded dialogues of corpus/dialogues/, for every target that reads a part of one."""
    for path in sorted(glob.glob(os.path.join(CORPUS, "dialogues", "*.smtp"))):
        name = os.path.splitext(os.path.basename(path))[0]
        recs = read_dialogue(path)
        client, server = stream(recs, "C"), stream(recs, "S")
        for i, cmd in enumerate(client_commands(client)):
            c["command"].add(f"dlg-{name}-{i:02}", cmd)
            m = re.match(rb"(?i)(MAIL FROM:|RCPT TO:)(<[^ ]*>)(?: (.*))?$", cmd)
            if m:
                mail = m.group(1).upper().startswith(b"MAIL")
                c["path"].add(f"dlg-{name}-{i:02}", b"\x00" + m.group(2))
                if m.group(3):
                    c["params"].add(f"dlg-{name}-{i:02}", (b"\x01" if mail else b"\x00") + m.group(3))
        reps = replies(server)
        for i, rep in enumerate(reps):
            c["reply"].add(f"dlg-{name}-{i:02}", b"\x00" + rep)
            if b"\r\n" in rep and rep.startswith(b"250"):
                c["ehlo"].add(f"dlg-{name}-{i:02}", b"\x00" + rep)
        if reps:
            c["greeting"].add(f"dlg-{name}", b"\x00" + reps[0])
        c["reply_stream"].add(f"dlg-{name}", split_header(0, [5, 1, 40]) + server)
        c["reply_stream"].add(f"dlg-{name}-reset", split_header(4, [90]) + server)
        c["line_framer"].add(f"dlg-{name}", split_header(5, [3, 60, 0]) + client)
        c["bdat"].add(f"dlg-{name}", split_header(0, [17, 2]) + client)
        content = data_content(client)
        if content:
            c["data"].add(f"dlg-{name}", split_header(0, [1, 2, 30]) + content)
        with open(path, "rb") as f:
            c["transcript"].add(f"dlg-{name}", b"\x00" + f.read())
        for s, b in recs[:12]:
            c["escape"].add(f"dlg-{name}-{len(c['escape'].files)}", b)


def seeds_from_scripts(c):
    """Whole transcripts for the engine, and scripts (hand-written, examples, the probe suite) for the script target."""
    # The engine target reads a transcript as it stands; the script target
    # takes a byte saying which side the script plays (1: client).
    for path in sorted(glob.glob(os.path.join(CORPUS, "dialogues", "*.smtp")) +
                       glob.glob(os.path.join(ROOT, "conformance", "test", "rules", "*.smtp"))):
        with open(path, "rb") as f:
            c["check"].add("dlg-" + os.path.splitext(os.path.basename(path))[0], f.read())
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "scripts", "*.smtp"))):
        with open(path, "rb") as f:
            c["script"].add("hand-server-" + os.path.splitext(os.path.basename(path))[0], b"\x00" + f.read())
    for k, v in SCRIPTS.items():
        c["script"].add(f"hand-{k}", b"\x00" + v)
    for path in sorted(glob.glob(os.path.join(ROOT, "conformance", "server", "**", "*.smtp"), recursive=True)):
        with open(path, "rb") as f:
            c["script"].add("hand-client-" + os.path.splitext(os.path.basename(path))[0], b"\x01" + f.read())


def seeds_by_hand(c):
    """The hand-written inputs of this file, each to the targets it exercises."""
    for k, v in COMMANDS.items():
        c["command"].add(f"hand-{k}", v)
    for k, v in PATHS.items():
        c["path"].add(f"hand-{k}", (b"\x01" if b"\xc3" in v else b"\x00") + v)
    c["path"].add("hand-lenient-no-brackets", b"\x02user@example.test")
    c["path"].add("hand-path-flags-no-brackets", b"\x04user@example.test")
    for k, v in PARAMS.items():
        rcpt = k.startswith(("notify", "orcpt"))
        c["params"].add(f"hand-{k}", bytes([(0 if rcpt else 1) | (2 if b"\xc3" in v else 0)]) + v)
    for k, v in XTEXT.items():
        c["params"].add(f"hand-xtext-{k}", b"\x04" + v)
    for k, v in REPLIES.items():
        c["reply"].add(f"hand-{k}", (b"\x01" if b"\xc3" in v else b"\x00") + v)
        c["reply_stream"].add(f"hand-{k}", split_header(0, [2]) + v + b"\r\n")
    for k, v in GREETINGS.items():
        c["greeting"].add(f"hand-{k}", b"\x00" + v)
    c["greeting"].add("hand-trailing-sp-lenient", b"\x02" + GREETINGS["trailing-sp"])
    for k, v in EHLOS.items():
        c["ehlo"].add(f"hand-{k}", b"\x00" + v)
    for i, (k, v) in enumerate(STREAMS.items()):
        c["line_framer"].add(f"hand-{k}", split_header(i % 8 | (8 if "lf" in k else 0), [1, 4]) + v)
        c["reply_stream"].add(f"hand-{k}", split_header(2 if "lf" in k else 0, [3]) + v)
        c["bdat"].add(f"hand-{k}", split_header(0, [2, 7]) + v)
    for k, v in CLIENT_SESSIONS.items():
        c["bdat"].add(f"hand-{k}", split_header(0, [9, 1, 3]) + v)
        c["line_framer"].add(f"hand-{k}", split_header(5, [30]) + v)
    for i, (k, v) in enumerate(DATA.items()):
        c["data"].add(f"hand-{k}", split_header(0, [1, 1]) + v)
        c["data"].add(f"hand-{k}-accepted", split_header(1, [2]) + v)
        c["data"].add(f"hand-{k}-one-variant", split_header(2 | (i % 9) << 2, []) + v)
    for k, v in TRANSCRIPTS.items():
        c["transcript"].add(f"hand-{k}", b"\x03" + v)
    for k, v in ESCAPES.items():
        c["escape"].add(f"hand-{k}", v)


def differential_by_hand(c):
    """Hand-written inputs for the differential target (the grammar against the reference)."""
    # The differential target: byte 0 = entry (+17 for SMTPUTF8 mode).
    diff_entries = ["command", "reverse", "forward", "mailbox", "domain", "host", "literal", "mail-params",
                    "rcpt-params", "reply", "reply-line", "greeting", "ehlo", "enhanced", "auth-response",
                    "xtext", "base64"]
    hand_diff = {
        0: [COMMANDS["mail-all-params"], COMMANDS["rcpt-dsn"], COMMANDS["bdat-overflow"], b"AUTH PLAIN "],
        1: [PATHS["path-route"], PATHS["path-256"]],
        2: [PATHS["path-postmaster"], b"<Postmaster@example.test>"],
        3: [PATHS["mailbox-64"], b"a" * 65 + b"@x", b"u@[IPv6:1::2::3]"],
        4: [PATHS["domain-255"], PATHS["domain-label-64"]],
        5: [PATHS["ipv6-tag-general"], PATHS["ipv6-seven-comp"], PATHS["general-gt"]],
        6: [PATHS["ipv4-leading-zeros"], PATHS["ipv6v4-comp"]],
        7: [PARAMS["many"], PARAMS["envid-101"], PARAMS["dup"], b"AUTH=a+2b"],
        8: [PARAMS["notify-repeat"], PARAMS["orcpt-empty-address"], b"ORCPT=rfc822;" + b"a" * 500],
        9: [REPLIES["mismatch-4.2.1"], REPLIES["multi"]],
        10: [REPLIES["code-alone"], REPLIES["empty-text"]],
        11: [GREETINGS["multi"], GREETINGS["trailing-sp"], b"220 [IPv6:zz] x"],
        12: [EHLOS["lines"], EHLOS["size-bad"], b"250 mx.example.test hi\x01"],
        13: [b"2.1.0 ok", b"5.01.1 no", b"4.4.2"],
        14: [b"*", b"", b"dGVzdA=="],
        15: [b"QQ+2B314159", b"a+2b"],
        16: [b"AHRlc3QAdGVzdA==", b"AAA="],
    }
    for e, inputs in hand_diff.items():
        for i, v in enumerate(inputs):
            c["differential"].add(f"hand-{diff_entries[e]}-{i}", bytes([e]) + v)
    c["differential"].add("hand-mailbox-utf8", bytes([3 + 17]) + PATHS["mailbox-utf8"])


def seeds_generated(g, counts):
    """Seeds derived from the grammar by smtpkit_abnf_generate (none without the generator); adds to counts."""
    gen_rules = [  # target, rule, prefix, count, extra
        ("command", "ref-command-typed", "", 30, ["--strip-crlf"]),
        ("command", "ref-command-typed", "", 10, ["--strip-crlf", "--utf8"]),
        ("path", "Reverse-path", "00", 8, []),
        ("path", "ref-forward-path", "00", 8, []),
        ("path", "Mailbox", "01", 8, ["--utf8"]),
        ("path", "ref-host", "00", 8, []),
        ("params", "mail-parameters-typed", "01", 12, []),
        ("params", "rcpt-parameters-typed", "00", 8, []),
        ("reply", "Reply-line", "00", 10, ["--strip-crlf"]),
        ("greeting", "Greeting", "00", 10, ["--strip-crlf"]),
        ("ehlo", "ehlo-ok-rsp", "00", 10, ["--strip-crlf"]),
    ]
    diff_rules = ["ref-command-typed", "Reverse-path", "ref-forward-path", "Mailbox", "Domain", "ref-host",
                  "address-literal", "mail-parameters-typed", "rcpt-parameters-typed", "Reply-line",
                  "ref-reply-line", "Greeting", "ehlo-ok-rsp", "ref-enhanced-text", "ref-auth-response", "xtext",
                  "base64"]
    for e, rule in enumerate(diff_rules):
        strip = ["--strip-crlf"] if rule in ("ref-command-typed", "Reply-line", "Greeting", "ehlo-ok-rsp") else []
        gen_rules.append(("differential", rule, f"{e:02x}", 6, strip))
        if e <= 8:
            gen_rules.append(("differential", rule, f"{e + 17:02x}", 3, strip + ["--utf8"]))
    for n, (target, rule, prefix, count, extra) in enumerate(gen_rules):
        before = len(os.listdir(os.path.join(CORPUS, target)))
        generated(g, target, rule, prefix, count, 1000 + n, extra)
        if g:
            # The generator names files by rule; keep names unique per prefix and mode.
            for f in os.listdir(os.path.join(CORPUS, target)):
                if f.startswith(f"gen-{rule}-") and not f.count("~"):
                    os.rename(os.path.join(CORPUS, target, f),
                              os.path.join(CORPUS, target, f"{f}~{prefix or 'x'}{'u' if '--utf8' in extra else ''}"))
            counts[target] += len(os.listdir(os.path.join(CORPUS, target))) - before

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generator", help="path to smtpkit_abnf_generate (grammar-derived seeds)")
    args = ap.parse_args()

    targets = ["command", "path", "params", "reply", "reply_stream", "ehlo", "greeting", "line_framer", "data",
               "bdat", "transcript", "escape", "differential", "check", "script"]
    c = {t: corpus(t) for t in targets}

    seeds_from_dialogues(c)
    seeds_from_scripts(c)
    seeds_by_hand(c)
    differential_by_hand(c)
    counts = {t: c[t].write() for t in targets}
    seeds_generated(args.generator, counts)
    for t in targets:
        print(f"corpus/{t}: {counts[t]} seeds written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
