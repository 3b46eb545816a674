# test_scripts_docs.py — runs every example of docs/dialogue-format.md, each
# with the perspective its fence names:
#   ```smtp          a v1 transcript: `smtpkit check` reads it (exit 0 or 1,
#                    never 2) and the Python reader/writer round-trips it;
#   ```smtp server   served by `smtpkit serve --script`; each ```smtp session
#                    block after it is one connection, in order, played as a
#                    client would (C records sent, S records expected: S: a
#                    line, S= octets, S~ a whole reply whose last line
#                    matches, @tls, @close S, @pause);
#   ```smtp client   loaded by `smtpkit replay` against the reference server
#                    (any verdict but a loading error, exit 2);
#   ```smtp error    must fail to load (served: exit 2) with the message in
#                    the ```text block after it.
# A failure names the example's line in the document.
#
# Limits: Python's `re` stands in for RE2 in session patterns (the examples
# use the common subset); each connection is bounded by 5 s per read.
import os
import re
import socket
import ssl
import subprocess
import time

import pytest

from peers import dialogue
from smtpkit import binary

DOC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                                   "dialogue-format.md"))


class Block:
    def __init__(self, info, text, line):
        self.info, self.text, self.line = info, text, line
        self.sessions = []  # smtp session blocks after a server block
        self.expect = None  # the text block after an error block

    def __repr__(self):
        return "%s block at docs/dialogue-format.md:%d" % (self.info, self.line)


def blocks():
    with open(DOC, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\S.*)?$", lines[i])
        if m and m.group(1):
            start, info = i + 1, m.group(1).strip()
            j = start
            while lines[j] != "```":
                j += 1
            found.append(Block(info, "\n".join(lines[start:j]) + "\n", start + 1))
            i = j + 1
            continue
        i += 1
    out = []
    for b in found:
        if b.info == "smtp session":
            assert out and out[-1].info == "smtp server", "%r follows no server block" % b
            out[-1].sessions.append(b)
        elif b.info == "text" and out and out[-1].info == "smtp error":
            out[-1].expect = b.text.strip()
        elif b.info.startswith("smtp"):
            out.append(b)
    return out


BLOCKS = blocks()


def ids(kind):
    return [b for b in BLOCKS if b.info == kind]


def test_the_document_has_examples_of_every_kind():
    kinds = {b.info for b in BLOCKS}
    assert kinds == {"smtp", "smtp server", "smtp client", "smtp error"}, kinds
    assert sum(len(b.sessions) for b in BLOCKS) >= 10
    # Every directive the loader knows appears in an example.
    text = "".join(b.text for b in BLOCKS)
    for d in ("tls", "close", "pause", "rate", "split", "reset", "hang", "stall-tls", "rule", "end", "fallback",
              "session", "repeat", "on-mismatch", "seed", "smuggle", "needs", "scenario", "title", "group",
              "checks", "requires", "timeout", "level", "rfc", "on-close", "strict-data", "data-ignore"):
        assert re.search(r"(^|\n)@%s\b" % re.escape(d), text), "no example of @%s" % d
    for opt in ("session=", "nth=", "times=", "after=", "per=session", "chance=", "tls=", "auth="):
        assert "@rule " in text and opt in text, opt
    for rec in ("C: ", "S: ", "C= ", "S= ", "C~ ", "S~ ", "# "):
        assert rec in text, rec


def write(tmp_path, block, name="example.smtp"):
    path = tmp_path / name
    path.write_text(block.text, encoding="utf-8")
    return path


@pytest.mark.parametrize("block", ids("smtp"), ids=repr)
def test_v1_transcripts_read_and_round_trip(block, tmp_path):
    path = write(tmp_path, block)
    p = subprocess.run([binary.find_binary(), "check", str(path)], capture_output=True, timeout=30)
    assert p.returncode in (0, 1), "%r: %s" % (block, p.stderr.decode())
    records = dialogue.read_transcript(block.text, repr(block))
    w = dialogue.TranscriptWriter()
    for r in records:
        if r.kind == "directive":
            w.tls() if r.name == "tls" else w.close(r.who)
        else:
            w.sent(r.who, r.bytes())
    again = dialogue.read_transcript(w.take())
    for who in ("C", "S"):
        assert dialogue.side_bytes(again, who) == dialogue.side_bytes(records, who), block


# --- a client for session blocks -------------------------------------------------------

def pattern_regex(text):
    """The dialogue format's pattern as a Python regex (literal parts unescaped)."""
    out, lit, i = ["(?is)"], "", 0

    def flush():
        nonlocal lit
        if lit:
            out.append(re.escape(dialogue.unescape(lit).decode("latin-1")))
            lit = ""

    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            lit += text[i:i + 2]
            i += 2
        elif text.startswith("{{", i):
            lit += "{"
            i += 2
        elif text.startswith("{re:", i):
            flush()
            depth, j = 0, i + 4
            while not (text[j] == "}" and depth == 0):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            out.append("(?:%s)" % text[i + 4:j])
            i = j + 1
        elif text[i] == "{":
            flush()
            out.append("(.*)")
            i = text.index("}", i) + 1
        else:
            lit += text[i]
            i += 1
    flush()
    return re.compile("".join(out) + r"\Z")


class Player:
    """Plays a session block's client side against host:port."""

    def __init__(self, host, port, where):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buf = b""
        self.where = where

    def recv_until(self, pred):
        deadline = time.monotonic() + 5
        while not pred():
            assert time.monotonic() < deadline, "%s: timed out; got %r" % (self.where, self.buf)
            chunk = self.sock.recv(65536)
            assert chunk, "%s: the server closed; got %r" % (self.where, self.buf)
            self.buf += chunk

    def take(self, n):
        got, self.buf = self.buf[:n], self.buf[n:]
        return got

    def line(self):
        self.recv_until(lambda: b"\n" in self.buf)
        return self.take(self.buf.index(b"\n") + 1)

    def play(self, text):
        for no, raw in enumerate(text.split("\n"), 0):
            where = "%s, session line %d" % (self.where, no + 1)
            if not raw or raw.startswith("#"):
                continue
            head, payload = raw[:2], raw[3:]
            if head in ("C:", "C="):
                data = dialogue.unescape(payload) + (b"\r\n" if head == "C:" else b"")
                self.sock.sendall(data)
            elif head in ("S:", "S="):
                want = dialogue.unescape(payload) + (b"\r\n" if head == "S:" else b"")
                self.recv_until(lambda: len(self.buf) >= len(want))
                got = self.take(len(want))
                assert got == want, "%s: expected %r, got %r" % (where, want, got + self.buf)
            elif head == "S~":
                rx = pattern_regex(payload)
                one = re.match(r"^\d{3}-", payload) is not None
                while True:
                    got = self.line()
                    assert got.endswith(b"\r\n"), "%s: %r" % (where, got)
                    last = one or len(got) < 6 or got[3:4] != b"-"
                    if last:
                        break
                assert rx.match(got[:-2].decode("latin-1")), "%s: %r does not match %r" % (where, got, payload)
            elif raw == "@tls":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                assert self.buf == b"", "%s: octets before TLS: %r" % (where, self.buf)
                self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
            elif raw == "@close S":
                deadline = time.monotonic() + 5
                while True:
                    assert time.monotonic() < deadline, where
                    chunk = self.sock.recv(4096)
                    assert chunk == b"", "%s: more after the close: %r" % (where, chunk)
                    break
                return
            elif raw == "@close C":
                break
            elif raw.startswith("@pause "):
                time.sleep(int(raw[7:].rstrip("ms")) / 1000 if raw.endswith("ms") else float(raw[7:].rstrip("s")))
            else:
                raise AssertionError("%s: a session block cannot hold %r" % (where, raw))
        self.sock.close()


@pytest.mark.parametrize("block", ids("smtp server"), ids=repr)
def test_server_scripts_serve_their_sessions(block, smtp_server_factory, tmp_path):
    srv = smtp_server_factory(str(write(tmp_path, block)), idle_timeout=10)
    for n, session in enumerate(block.sessions, 1):
        Player(srv.host, srv.port, "%r, session %d (docs line %d)" % (block, n, session.line)).play(session.text)
        srv.wait_for(lambda s, n=n: len([x for x in s.sessions if x.closed]) >= n, timeout=10,
                     what="session %d to end" % n)


@pytest.mark.parametrize("block", ids("smtp client"), ids=repr)
def test_client_scripts_load_in_smtpkit_replay(block, smtp_server_factory, tmp_path):
    srv = smtp_server_factory()
    p = subprocess.run([binary.find_binary(), "replay", str(write(tmp_path, block)), "--target",
                        "%s:%d" % (srv.host, srv.port), "--timeout", "5"], capture_output=True, timeout=60)
    assert p.returncode in (0, 1), "%r: exit %d: %s" % (block, p.returncode, p.stderr.decode())


@pytest.mark.parametrize("block", ids("smtp error"), ids=repr)
def test_errors_are_reported_as_shown(block, tmp_path):
    assert block.expect, "%r has no ```text block with its message" % block
    path = write(tmp_path, block)
    p = subprocess.run([binary.find_binary(), "serve", "--listen", "127.0.0.1:0", "--discard", "--script", str(path)],
                       capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert p.stderr.decode() == "%s:%s\n" % (path, block.expect)
