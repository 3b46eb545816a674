"""The dialogue format v1 in Python.

escape/unescape, a writer that mirrors smtpkit::transcript_writer
(parser/src/transcript.cpp) line for line, and a reader for v1
transcripts (no "C~"/"S~" patterns, no directives other than @tls and
@close).

Limits: the reader is for tests and mirrors the C++ reader's acceptance,
not its error messages word for word (it reports file:line: reason).
comment() takes one line, as the C++ writer does; a newline in it would
break the file, so it is refused here.
"""

CLIENT = "C"
SERVER = "S"

_HEX = "0123456789abcdef"


def utf8_sequence(b, i):
    """Length of the well-formed non-ASCII UTF-8 sequence at b[i], else 0
    (RFC 3629 §4; mirrors smtpkit::utf8_sequence, smtpkit/utf8.hpp)."""
    n = len(b)

    def at(k):
        return b[i + k] if i + k < n else 0x100

    def tail(k, lo=0x80, hi=0xBF):
        return lo <= at(k) <= hi

    c = at(0)
    if 0xC2 <= c <= 0xDF:
        return 2 if tail(1) else 0
    if c == 0xE0:
        return 3 if tail(1, 0xA0) and tail(2) else 0
    if 0xE1 <= c <= 0xEC or c in (0xEE, 0xEF):
        return 3 if tail(1) and tail(2) else 0
    if c == 0xED:
        return 3 if tail(1, 0x80, 0x9F) and tail(2) else 0
    if c == 0xF0:
        return 4 if tail(1, 0x90) and tail(2) and tail(3) else 0
    if 0xF1 <= c <= 0xF3:
        return 4 if tail(1) and tail(2) and tail(3) else 0
    if c == 0xF4:
        return 4 if tail(1, 0x80, 0x8F) and tail(2) and tail(3) else 0
    return 0


_NAMED = {0x5C: "\\\\", 0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x00: "\\0"}


def escape(data: bytes) -> str:
    """Octets -> record text (smtpkit::escape): \\\\ \\r \\n \\t \\0, other
    controls, DEL and ill-formed UTF-8 as \\xHH, a final space as \\x20."""
    out = []
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _NAMED:
            out.append(_NAMED[c])
            i += 1
        elif c < 0x20 or c == 0x7F:
            out.append("\\x" + _HEX[c >> 4] + _HEX[c & 15])
            i += 1
        elif c >= 0x80:
            k = utf8_sequence(data, i)
            if k == 0:
                out.append("\\x" + _HEX[c >> 4] + _HEX[c & 15])
                i += 1
            else:
                out.append(data[i:i + k].decode("utf-8"))
                i += k
        elif c == 0x20 and i + 1 == n:
            out.append("\\x20")
            i += 1
        else:
            out.append(chr(c))
            i += 1
    return "".join(out)


class DialogueError(ValueError):
    pass


def unescape(text: str) -> bytes:
    """Record text -> octets (smtpkit::unescape); raises DialogueError with
    the 0-based column on a bad escape or a raw control character."""
    raw = text.encode("utf-8", "surrogateescape")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x5C:
            if i + 1 >= n:
                raise DialogueError(i, "expected an escape after '\\'")
            e = raw[i + 1]
            simple = {0x5C: 0x5C, ord("r"): 0x0D, ord("n"): 0x0A, ord("t"): 0x09, ord("0"): 0x00}
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            if e == ord("x"):
                digits = raw[i + 2:i + 4]
                if len(digits) == 2 and all(d in b"0123456789abcdefABCDEF" for d in digits):
                    out.append(int(digits, 16))
                    i += 4
                    continue
                raise DialogueError(i, "expected two hex digits after '\\x'")
            raise DialogueError(i, "invalid escape '\\%c'" % e)
        if (c < 0x20 and c != 0x09) or c == 0x7F:
            raise DialogueError(i, "raw control octet 0x%02x (write it as an escape)" % c)
        if c >= 0x80:
            k = utf8_sequence(raw, i)
            if k == 0:
                raise DialogueError(i, "ill-formed UTF-8 (write such octets as \\xHH)")
            out += raw[i:i + k]
            i += k
            continue
        out.append(c)
        i += 1
    return bytes(out)


class TranscriptWriter:
    """Mirror of smtpkit::transcript_writer: complete CRLF lines become
    "C:"/"S:" records; a line ended by a bare LF, and a partial line left
    when the other side speaks or at flush(), become "C="/"S=" records."""

    def __init__(self):
        self._out = []
        self._pending = {CLIENT: b"", SERVER: b""}

    def comment(self, text: str):
        if "\n" in text or "\r" in text:
            raise ValueError("a comment is one line")
        self.flush()
        self._out.append("# " + text + "\n")

    def _emit_line(self, who, content: bytes, crlf: bool):
        body = escape(content)
        self._out.append(who + (":" if crlf else "=") + (" " + body if body else "") + "\n")

    def _flush_side(self, who):
        if self._pending[who]:
            self._emit_line(who, self._pending[who], False)
            self._pending[who] = b""

    def sent(self, who, data: bytes):
        if not data:
            return
        # The other side's partial line is written first: order is what was sent.
        self._flush_side(SERVER if who == CLIENT else CLIENT)
        p = self._pending[who] + data
        start = 0
        while True:
            nl = p.find(b"\n", start)
            if nl < 0:
                break
            if nl > start and p[nl - 1] == 0x0D:
                self._emit_line(who, p[start:nl - 1], True)
            else:
                self._emit_line(who, p[start:nl + 1], False)
            start = nl + 1
        self._pending[who] = p[start:]

    def directive(self, name: str, args: str = ""):
        self.flush()
        self._out.append("@" + name + (" " + args if args else "") + "\n")

    def tls(self):
        self.directive("tls")

    def close(self, who):
        self.directive("close", who)

    def flush(self):
        self._flush_side(CLIENT)
        self._flush_side(SERVER)

    def str(self) -> str:
        return "".join(self._out)

    def take(self) -> str:
        self.flush()
        s = "".join(self._out)
        self._out = []
        return s


class Record:
    __slots__ = ("kind", "who", "payload", "name", "args", "line")

    def __init__(self, kind, who=None, payload=b"", name="", args="", line=0):
        self.kind, self.who, self.payload = kind, who, payload  # kind: line | raw | directive
        self.name, self.args, self.line = name, args, line

    def bytes(self) -> bytes:
        return self.payload + b"\r\n" if self.kind == "line" else self.payload

    def __repr__(self):
        if self.kind == "directive":
            return "Record(@%s %s)" % (self.name, self.args)
        return "Record(%s%s %r)" % (self.who, ":" if self.kind == "line" else "=", self.payload)


def read_transcript(text: str, source: str = "<transcript>"):
    """Parse a v1 transcript into a list of Records."""
    records = []
    for no, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line or line[0] == "#" or not line.strip(" \t"):
            continue

        def fail(msg):
            raise DialogueError("%s:%d: %s" % (source, no, msg))

        if line[0] == "@":
            name, _, args = line[1:].partition(" ")
            if name == "tls" and not args:
                records.append(Record("directive", name="tls", line=no))
            elif name == "close" and args in (CLIENT, SERVER):
                records.append(Record("directive", who=args, name="close", args=args, line=no))
            else:
                fail("not a v1 directive: " + line)
            continue
        if len(line) < 2 or line[0] not in "CS" or line[1] not in ":=":
            fail("expected a record: 'C:', 'S:', 'C=', 'S=', '@directive' or '# comment'")
        payload = b""
        if len(line) > 2:
            if line[2] != " ":
                fail("expected one space after '%s'" % line[:2])
            try:
                payload = unescape(line[3:])
            except DialogueError as e:
                fail("column %d: %s" % (e.args[0] + 4, e.args[1]))
        kind = "line" if line[1] == ":" else "raw"
        if kind == "raw" and not payload:
            fail("'%s=' needs a payload" % line[0])
        records.append(Record(kind, who=line[0], payload=payload, line=no))
    return records


def side_bytes(records, who) -> bytes:
    """Every octet one side sent, in order."""
    return b"".join(r.bytes() for r in records if r.kind != "directive" and r.who == who)
