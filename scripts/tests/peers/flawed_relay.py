#!/usr/bin/python3
"""flawed_relay.py — a careful SMTP relay (one MTA hop) that can be told to break one rule.

It listens on 127.0.0.1, takes mail from any client there for any
recipient, queues it in memory and forwards it to one next hop: every
recipient domain goes to the --next-hop of the command line. By default it
does what RFC 5321, 6152, 6531, 1870, 3461 and 3464 say a relay must;
each `--break NAME` (repeatable) breaks exactly one rule and keeps
everything else careful, so that `smtpkit probe relay` can be shown to
catch each fault for the reason it names. Standard library only; raw
sockets on both sides, so line ends, dot-stuffing and trace fields are
under byte-level control.

    flawed_relay.py --listen 127.0.0.1:0 --next-hop 127.0.0.1:PORT
        [--hostname relay.test] [--retry-delay 1.0] [--max-attempts 4]
        [--verbose] [--break NAME]...

Once listening it prints one line, "listening 127.0.0.1:PORT" (the real
port; port 0 picks one), on stdout. It runs until SIGTERM or SIGINT and
then exits 0; mail still in the queue is lost. Exit 2: usage error, or the
listening address cannot be bound. Each delivery outcome is one line on
stderr ("flawed_relay: ID: <rcpt>: sent|deferred|failed|dropped ..."),
with --verbose both dialogues too.

Inbound (the server side):
- Greeting "220 HOSTNAME ESMTP flawed-relay". EHLO offers PIPELINING,
  SIZE 10485760, 8BITMIME, SMTPUTF8, DSN and ENHANCEDSTATUSCODES (no
  CHUNKING, STARTTLS or AUTH); HELO works too. Verbs in any case; NOOP,
  RSET, VRFY (252), HELP, QUIT (221); anything else 500.
- MAIL FROM:<path> takes BODY=7BIT|8BITMIME, SMTPUTF8, SIZE=n, RET=FULL|HDRS
  and ENVID=xtext (RFC 6152, 6531, 1870, 3461); the null path <> is
  allowed. RCPT TO:<path> takes NOTIFY= and ORCPT=; at most 100 recipients
  (452 4.5.3 beyond).
- DATA reads strictly: the data ends at CRLF "." CRLF only; a leading dot
  is removed ("..x" -> ".x", RFC 5321 §4.5.2). At the end of data it
  refuses: a bare LF, bare CR or NUL (550 5.6.0, RFC 5321 §2.3.8,
  §4.1.1.4); a text line over 998 octets (500 5.5.6, §4.5.3.1.6; 998 pass);
  over 10485760 octets (552 5.3.4, RFC 1870); more than 100 Received:
  fields (554 5.4.6, §6.3). Else "250 2.0.0 Ok: queued as ID".

Outbound (the client side), one worker thread:
- Connect, greeting, EHLO HOSTNAME (HELO after a 5xx), lock-step commands.
- One trace field on top of the message, the existing header untouched
  (RFC 5321 §4.4):
      Received: from HELO-NAME (localhost [127.0.0.1])
      <TAB>by HOSTNAME (flawed-relay) with ESMTP id ID
      <TAB>for <first-rcpt>; DATE
  ("SMTP" after HELO; DATE is the arrival time). Never a Return-Path.
- MAIL FROM:<the same reverse path> with SIZE= (hop offers SIZE), BODY=8BITMIME
  (declared so, or 8-bit octets, and the hop offers 8BITMIME), SMTPUTF8
  (declared so and offered), RET= and ENVID= (hop offers DSN); RCPT TO with
  NOTIFY= and ORCPT= when the hop offers DSN.
- 8-bit mail (declared or by its octets) to a hop without 8BITMIME is not
  sent: it fails with 5.6.3 (RFC 6152 §3); SMTPUTF8 mail to a hop without
  SMTPUTF8 fails with 5.6.7 (RFC 6531 §3.4); a message over the hop's SIZE
  fails with 5.3.4 (RFC 1870 §6).
- DATA: CRLF line ends, every line that starts with "." gets another one,
  ".CRLF" at the end.
- Per recipient: 2xx sent; 5xx failed; 4xx (to RCPT, DATA or the end of
  data; also a refused, lost or timed-out connection) deferred and tried
  again after --retry-delay seconds, doubling, at most --max-attempts
  attempts in all, then failed with 5.4.7 and the last reply.
- Failed recipients get one DSN (RFC 3464) per attempt, to the reverse path
  through the same next hop, MAIL FROM:<>: multipart/report with a
  text/plain explanation, message/delivery-status (Reporting-MTA,
  Original-Envelope-Id, Arrival-Date; per recipient Original-Recipient,
  Final-Recipient, Action: failed, Status, Remote-MTA: dns; NEXT-HOP-HOST,
  Diagnostic-Code) and text/rfc822-headers (message/rfc822 under RET=FULL).
  None for the null reverse path, for a recipient with NOTIFY=NEVER or a
  NOTIFY without FAILURE, and never for a DSN.

The breaks, and what each violates:

  pass-bare-lf        inbound takes bare LF, bare CR and NUL in the data
                      (still ending it at CRLF.CRLF only), and outbound
                      sends those octets on as they are: a "\\n.\\n" reaches
                      the next hop raw (RFC 5321 §2.3.8, §4.1.1.4)
  end-at-lf-dot       inbound also ends the data at "\\n.\\n" and "\\n.\\r\\n":
                      what follows is read as commands (SMTP smuggling;
                      RFC 5321 §4.1.1.4)
  no-dot-stuffing     outbound adds no dots: a body line ".x" reaches the
                      next hop as "x", a line "." ends the data there early
                      (RFC 5321 §4.5.2)
  fold-long-lines     outbound breaks body lines over 78 octets into pieces
                      of 78 (the content is altered; RFC 5321 §2.4, §4.5.3.1.6)
  drop-empty-lines    outbound drops the body's empty lines (not the line
                      that ends the header) (RFC 5321 §2.4: content unchanged)
  drop-body-param     outbound never sends BODY=8BITMIME and sends the 8-bit
                      data anyway (RFC 6152 §3); a hop without 8BITMIME still
                      gets nothing
  force-8bit          8-bit data goes to a hop without 8BITMIME (with no
                      BODY=), no 5.6.3 failure (RFC 6152 §3)
  drop-smtputf8       outbound never sends SMTPUTF8, and sends SMTPUTF8 mail
                      to a hop without it too (RFC 6531 §3.4)
  rewrite-sender      MAIL FROM:<relay@HOSTNAME> instead of the original
                      reverse path, the null path included (RFC 5321 §3.3, §4.4)
  drop-second-rcpt    only the first recipient is sent on; the others are
                      lost without a DSN (RFC 5321 §3.3, §6.1)
  drop-dsn-params     RET, ENVID, NOTIFY and ORCPT are never passed on, though
                      the hop offers DSN (RFC 3461 §4)
  no-size             SIZE= is never sent, though the hop offers SIZE
                      (RFC 1870 §6)
  no-received         no trace field is added (RFC 5321 §4.4)
  received-no-date    the trace field it adds has no "; date-time" at its
                      end (RFC 5321 §4.4: the time stamp is not optional)
  received-at-bottom  the trace field goes after the last header field, not
                      on top (RFC 5321 §4.4)
  drop-received       the existing Received: fields are removed (its own is
                      still added) (RFC 5321 §4.4)
  add-return-path     a "Return-Path: <reverse-path>" field is added on top
                      (RFC 5321 §4.4: only the final delivery adds it)
  no-bounce           a failed recipient (5xx, 5.6.3/5.6.7/5.3.4, or retries
                      used up) is dropped without a DSN (RFC 5321 §6.1,
                      §4.2.5); "relayed" DSNs are still sent
  no-retry            a deferred (4xx) recipient is dropped, neither retried
                      nor reported (RFC 5321 §4.5.4.1, §6.1)
  no-loop-limit       any number of Received: fields is accepted
                      (RFC 5321 §6.3)
  bad-dsn             DSNs are sent as one text/plain part, not
                      multipart/report (RFC 3464 §2, RFC 6522)

Choices of the careful relay, where the RFCs leave room:
- Only loopback clients are served (554 5.7.1 greeting for others): it
  relays for anyone, so it must not be reachable from elsewhere.
- Commands are answered one by one, as read; pipelined commands work.
  Outbound it never pipelines. A command line may end with a bare LF; over
  2048 octets it gets 500 5.5.2. 20 errors or 10000 commands end the
  session with 421; at most 50 sessions at once (421 greeting beyond).
- MAIL and RCPT: a source route is dropped (RFC 5321 §4.1.1.3); a non-ASCII
  address needs SMTPUTF8 (553 5.6.7); an unknown parameter is 555 5.5.4,
  a malformed one 501 5.5.4. RCPT accepts any address with an "@", and
  Postmaster.
- The trace field's TCP-info names no looked-up host: "localhost" for a
  loopback client, else "unknown". "for" names the first recipient.
- At the end of data the checks go bare LF/CR/NUL, line length, size, hop
  count; the first that fails gives the reply. Lines are counted without
  the dot a client added for transparency. At most 1000
  messages wait in the queue (452 4.3.1 at the end of data beyond).
- SIZE= declares the message as sent (trace field included), before
  dot-stuffing.
- When the hop does not offer DSN and a recipient asked NOTIFY=SUCCESS, a
  "relayed" DSN goes to the reverse path once that recipient is sent
  (RFC 3461 §4.2). No "delayed" DSNs are sent.
- A DSN is itself 7-bit unless the returned header holds 8-bit octets (then
  message/global-headers, BODY=8BITMIME, and SMTPUTF8 when the original had
  it, RFC 6533); an ENVID and an ORCPT are decoded from xtext for it.
- A reply's meaning is its first digit; a reply that is neither 2yz nor 5yz
  (or a 3yz where no 354 is due) counts as a 4xx. A reply line with a bare
  LF is read.
"""
import argparse
import email.utils
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time

USAGE = 2
BREAKS = (
    "pass-bare-lf", "end-at-lf-dot", "no-dot-stuffing", "fold-long-lines", "drop-empty-lines",
    "drop-body-param", "force-8bit", "drop-smtputf8", "rewrite-sender", "drop-second-rcpt",
    "drop-dsn-params", "no-size", "no-received", "received-at-bottom", "drop-received",
    "add-return-path", "no-bounce", "no-retry", "no-loop-limit", "bad-dsn", "received-no-date",
)

TIMEOUT = 30.0  # every socket, both sides
MAX_SIZE = 10485760  # the SIZE offered, octets of the unstuffed data
MAX_READ = 2 * MAX_SIZE  # data octets read before the session is given up
MAX_TEXT_LINE = 998  # octets of a text line without its CRLF (RFC 5321 §4.5.3.1.6)
MAX_COMMAND = 2048  # a command line, extensions' parameters included
MAX_DISCARD = 1 << 20  # octets of an over-long command line thrown away before closing
MAX_REPLY_LINE = 65536
MAX_REPLY_LINES = 100
MAX_RCPTS = 100
MAX_HOPS = 100  # Received: fields a message may hold
MAX_ERRORS = 20
MAX_COMMANDS = 10000
MAX_SESSIONS = 50
MAX_QUEUE = 1000
FOLD_AT = 78  # the fold-long-lines break

EXTENSIONS = ("PIPELINING", "SIZE %d" % MAX_SIZE, "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES")

_log_lock = threading.Lock()


def log(text):
    with _log_lock:
        sys.stderr.write("flawed_relay: %s\n" % re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "?", text))
        sys.stderr.flush()


def is_ascii(text):
    return all(ord(c) < 128 for c in text)


def is_loopback(ip):
    return ip.startswith("127.") or ip in ("::1", "::ffff:127.0.0.1")


def has_8bit(octets):
    return re.search(rb"[\x80-\xff]", octets) is not None


def xtext_ok(value):
    """RFC 3461 §4: xtext is "!" to "~" except "+" and "=", or "+" and two upper-case hex digits."""
    return re.fullmatch(r"(?:[!-*,-<>-~]|\+[0-9A-F]{2})*", value) is not None


def xtext_decode(value):
    return re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def enhanced_status(text):
    """The enhanced status code at the start of a reply text (RFC 3463), or None."""
    m = re.match(r"([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)", text)
    return "%s.%s.%s" % m.groups() if m else None


def split_header(content):
    """(header, rest): the header with its last CRLF; rest starts with the
    empty line that ends the header (or is empty: a message that is all header)."""
    if content.startswith(b"\r\n"):
        return b"", content
    i = content.find(b"\r\n\r\n")
    if i < 0:
        return content, b""
    return content[:i + 2], content[i + 2:]


def header_fields(header):
    """The header's fields, each its octets with continuation lines and CRLFs."""
    fields = []
    if not header:
        return fields
    for line in header.split(b"\r\n")[:-1] if header.endswith(b"\r\n") else header.split(b"\r\n"):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line + b"\r\n"
        else:
            fields.append(line + b"\r\n")
    return fields


def field_name(field):
    return field.split(b":", 1)[0].strip().lower() if b":" in field else b""


def count_received(content):
    header, _ = split_header(content)
    return sum(1 for f in header_fields(header) if field_name(f) == b"received")


# --- inbound ----------------------------------------------------------------------------


class Closed(Exception):
    """The inbound session is over (closed, timed out, or given up)."""


class Session:
    """One inbound SMTP session on a connected socket."""

    def __init__(self, relay, sock, peer_ip):
        self.relay, self.sock, self.peer_ip = relay, sock, peer_ip
        self.hostname = relay.hostname
        self.buf = bytearray()
        self.helo = None  # the name given with EHLO/HELO
        self.protocol = None  # "ESMTP" after EHLO, "SMTP" after HELO
        self.errors = 0
        self.reset()

    def broken(self, name):
        return self.relay.broken(name)

    def reset(self):
        self.sender = None  # None: no MAIL yet; "" the null path
        self.mail_params = {}
        self.rcpts = []  # [(address, {NOTIFY:, ORCPT:})]

    # --- octets -----------------------------------------------------------------------

    def send(self, text):
        if self.relay.verbose:
            for line in text.split("\r\n"):
                log("in S: %s" % line)
        try:
            self.sock.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        except OSError as e:
            raise Closed("cannot send: %s" % e)

    def recv(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            try:
                self.sock.sendall(b"421 4.4.2 %s Timeout, closing connection\r\n" % self.hostname.encode())
            except OSError:
                pass
            raise Closed("timeout")
        except OSError as e:
            raise Closed("connection lost: %s" % e)
        if not chunk:
            raise Closed("the client closed the connection")
        return chunk

    def read_command(self):
        """The next command line without its line end (CRLF, or a bare LF),
        or None for a line over MAX_COMMAND octets (read and dropped)."""
        too_long, dropped = False, 0
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 1]
                if too_long:
                    return None
                line = line[:-1] if line.endswith(b"\r") else line
                if self.relay.verbose:
                    log("in C: %s" % line.decode("utf-8", "replace"))
                return line
            if len(self.buf) > MAX_COMMAND:
                too_long = True
                dropped += len(self.buf)
                self.buf.clear()
                if dropped > MAX_DISCARD:
                    self.send("500 5.5.2 Line too long")
                    raise Closed("an endless command line")
            self.buf += self.recv()

    def read_data(self):
        """The data after the 354 up to its end, the final line end kept
        and the end marker left out, or None when there was too much of it.
        Octets past the end stay in the buffer (pipelined commands)."""
        lf_too = self.broken("end-at-lf-dot")
        data = bytearray(b"\r\n")  # the CRLF before the first line, so ".CRLF" at once ends it too
        data += self.buf
        self.buf.clear()
        scan, total, too_big = 0, 0, False
        while True:
            if lf_too:
                hits = [(data.find(p, scan), len(p)) for p in (b"\n.\n", b"\n.\r\n")]
                hits = [h for h in hits if h[0] >= 0]
                pos, n = min(hits) if hits else (-1, 0)
                keep = 1  # the "\n" before the dot is the last line's end
            else:
                pos, n = data.find(b"\r\n.\r\n", scan), 5
                keep = 2
            if pos >= 0:
                self.buf += data[pos + n:]
                return None if too_big else bytes(data[2:pos + keep])
            if len(data) > MAX_SIZE + 65536:
                too_big = True
                data = data[-4:]
            scan = max(0, len(data) - 4)
            chunk = self.recv()
            total += len(chunk)
            if total > MAX_READ:
                self.send("552 5.3.4 Message too big")
                raise Closed("endless data")
            data += chunk

    # --- session ----------------------------------------------------------------------

    def run(self):
        if not self.relay.sessions.acquire(blocking=False):
            self.send("421 4.3.2 %s Too many connections, try again later" % self.hostname)
            return
        try:
            if not is_loopback(self.peer_ip):
                self.send("554 5.7.1 %s Relay access denied: loopback clients only" % self.hostname)
                return
            self.send("220 %s ESMTP flawed-relay" % self.hostname)
            for _ in range(MAX_COMMANDS):
                line = self.read_command()
                if line is None:
                    self.error("500 5.5.2 Line too long")
                    continue
                text = line.decode("utf-8", "surrogateescape")
                verb, _, arg = text.partition(" ")
                handler = getattr(self, "cmd_" + verb.upper(), None) if verb.isalpha() else None
                if handler is None:
                    self.error("500 5.5.2 Command not recognized")
                    continue
                if handler(arg.strip(" ")) is False:
                    return
            self.send("421 4.7.0 %s Too many commands, closing connection" % self.hostname)
        except Closed as e:
            if self.relay.verbose:
                log("in: session ended: %s" % e)
        finally:
            self.relay.sessions.release()

    def error(self, reply):
        self.errors += 1
        if self.errors >= MAX_ERRORS:
            self.send("421 4.7.0 %s Too many errors, closing connection" % self.hostname)
            raise Closed("too many errors")
        self.send(reply)

    def hello(self, arg, protocol):
        if not arg or " " in arg or re.search(r"[\x00-\x20\x7f]", arg):
            self.error("501 5.5.4 Syntax: %s hostname" % ("EHLO" if protocol == "ESMTP" else "HELO"))
            return False
        self.helo, self.protocol = arg, protocol
        self.reset()
        return True

    def cmd_EHLO(self, arg):
        if self.hello(arg, "ESMTP"):
            lines = ["%s greets %s" % (self.hostname, arg)] + list(EXTENSIONS)
            self.send("\r\n".join("250%s%s" % ("-" if i < len(lines) - 1 else " ", x) for i, x in enumerate(lines)))

    def cmd_HELO(self, arg):
        if self.hello(arg, "SMTP"):
            self.send("250 %s" % self.hostname)

    def cmd_NOOP(self, arg):
        self.send("250 2.0.0 Ok")

    def cmd_RSET(self, arg):
        if arg:
            return self.error("501 5.5.4 Syntax: RSET")
        self.reset()
        self.send("250 2.0.0 Ok")

    def cmd_VRFY(self, arg):
        if not arg:
            return self.error("501 5.5.4 Syntax: VRFY address")
        self.send("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery")

    def cmd_HELP(self, arg):
        self.send("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT")

    def cmd_QUIT(self, arg):
        self.send("221 2.0.0 %s Bye" % self.hostname)
        return False

    def parse_path(self, arg, keyword):
        """(address, [params]) from "FROM:<a> P=V ..." / "TO:<a> ...", or None."""
        if arg[:len(keyword)].upper() != keyword:
            return None
        rest = arg[len(keyword):].lstrip(" ")
        if not rest.startswith("<"):
            return None
        quoted, end = False, -1
        i = 1
        while i < len(rest):
            c = rest[i]
            if c == "\\" and quoted:
                i += 2
                continue
            if c == '"':
                quoted = not quoted
            elif c == ">" and not quoted:
                end = i
                break
            i += 1
        if end < 0:
            return None
        address, params = rest[1:end], rest[end + 1:]
        if params and not params.startswith(" "):
            return None
        if address.startswith("@") and ":" in address:  # a source route, ignored (RFC 5321 §4.1.1.3)
            address = address.split(":", 1)[1]
        if re.search(r"[\x00-\x1f\x7f]", address) or " " in re.sub(r'"(?:[^"\\]|\\.)*"', "", address):
            return None
        return address, params.split()

    def parse_params(self, words, known):
        """{KEY: value or True} from "KEY=value" words, or an error reply."""
        params = {}
        for word in words:
            key, eq, value = word.partition("=")
            key = key.upper()
            if key not in known:
                return "555 5.5.4 Unsupported parameter %s" % key
            if key in params:
                return "501 5.5.4 Duplicate parameter %s" % key
            params[key] = value if eq else True
        return params

    def cmd_MAIL(self, arg):
        if self.helo is None:
            return self.error("503 5.5.1 Send EHLO or HELO first")
        if self.sender is not None:
            return self.error("503 5.5.1 Nested MAIL command")
        parsed = self.parse_path(arg, "FROM:")
        if parsed is None:
            return self.error("501 5.5.4 Syntax: MAIL FROM:<address>")
        address, words = parsed
        if words and self.protocol != "ESMTP":
            return self.error("555 5.5.4 MAIL parameters need EHLO")
        params = self.parse_params(words, ("BODY", "SMTPUTF8", "SIZE", "RET", "ENVID"))
        if isinstance(params, str):
            return self.error(params)
        body, size = params.get("BODY"), params.get("SIZE")
        if body is not None and (body is True or body.upper() not in ("7BIT", "8BITMIME")):
            return self.error("501 5.5.4 BODY=7BIT or BODY=8BITMIME")
        if params.get("SMTPUTF8", True) is not True:
            return self.error("501 5.5.4 SMTPUTF8 takes no value")
        if size is not None and (size is True or not size.isdigit() or len(size) > 20):
            return self.error("501 5.5.4 Syntax: SIZE=octets")
        ret, envid = params.get("RET"), params.get("ENVID")
        if ret is not None and (ret is True or ret.upper() not in ("FULL", "HDRS")):
            return self.error("501 5.5.4 RET=FULL or RET=HDRS")
        if envid is not None and (envid is True or not 0 < len(envid) <= 100 or not xtext_ok(envid)):
            return self.error("501 5.5.4 ENVID must be xtext of 1 to 100 characters")
        if address and "@" not in address:
            return self.error("501 5.1.7 Bad sender address syntax")
        if not is_ascii(address) and "SMTPUTF8" not in params:
            return self.error("553 5.6.7 A non-ASCII address needs SMTPUTF8")
        if size is not None and int(size) > MAX_SIZE:
            return self.error("552 5.3.4 Message size exceeds fixed maximum message size")
        for key in ("BODY", "RET"):
            if key in params:
                params[key] = params[key].upper()
        self.sender, self.mail_params = address, params
        self.send("250 2.1.0 Ok")

    def cmd_RCPT(self, arg):
        if self.sender is None:
            return self.error("503 5.5.1 Need MAIL command")
        parsed = self.parse_path(arg, "TO:")
        if parsed is None:
            return self.error("501 5.5.4 Syntax: RCPT TO:<address>")
        address, words = parsed
        params = self.parse_params(words, ("NOTIFY", "ORCPT"))
        if isinstance(params, str):
            return self.error(params)
        notify, orcpt = params.get("NOTIFY"), params.get("ORCPT")
        if notify is not None:
            values = notify.upper().split(",") if notify is not True else [""]
            if not (values == ["NEVER"] or (values and all(v in ("SUCCESS", "FAILURE", "DELAY") for v in values)
                                            and len(set(values)) == len(values))):
                return self.error("501 5.5.4 NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY")
            params["NOTIFY"] = ",".join(values)
        if orcpt is not None and (orcpt is True or not re.fullmatch(r"[A-Za-z0-9-]+;.+", orcpt)
                                  or not xtext_ok(orcpt.split(";", 1)[1]) or len(orcpt) > 500):
            return self.error("501 5.5.4 Syntax: ORCPT=addr-type;xtext")
        if not address:
            return self.error("501 5.1.3 Bad recipient address syntax")
        if "@" not in address and address.lower() != "postmaster":
            return self.error("501 5.1.3 Bad recipient address syntax")
        if "@" in address and (address.startswith("@") or address.endswith("@")):
            return self.error("501 5.1.3 Bad recipient address syntax")
        if not is_ascii(address) and "SMTPUTF8" not in self.mail_params:
            return self.error("553 5.6.7 A non-ASCII address needs SMTPUTF8")
        if len(self.rcpts) >= MAX_RCPTS:
            return self.send("452 4.5.3 Too many recipients")
        self.rcpts.append((address, params))
        self.send("250 2.1.5 Ok")

    def cmd_DATA(self, arg):
        if arg:
            return self.error("501 5.5.4 Syntax: DATA")
        if self.sender is None:
            return self.error("503 5.5.1 Need MAIL command")
        if not self.rcpts:
            return self.error("554 5.5.1 No valid recipients")
        self.send("354 End data with <CR><LF>.<CR><LF>")
        raw = self.read_data()
        reply = self.accept(raw)
        self.reset()
        self.send(reply)

    def accept(self, raw):
        """The reply to the end of data; queues the message when it is 250."""
        if raw is None:
            return "552 5.3.4 Message too big"
        if not self.broken("pass-bare-lf") and re.search(rb"(?<!\r)\n|\r(?!\n)|\x00", raw):
            return "550 5.6.0 bare LF/CR in message data"
        lines = raw.split(b"\r\n")
        # A leading dot is removed from every line (RFC 5321 §4.5.2).
        lines = [x[1:] if x.startswith(b".") else x for x in lines]
        if any(len(x) > MAX_TEXT_LINE for x in lines):
            return "500 5.5.6 Line too long (over %d octets)" % MAX_TEXT_LINE
        content = b"\r\n".join(lines)
        if len(content) > MAX_SIZE:
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        if not self.broken("no-loop-limit") and count_received(content) > MAX_HOPS:
            return "554 5.4.6 Too many hops"
        job = Job(
            id=secrets.token_hex(5).upper(), sender=self.sender, params=dict(self.mail_params),
            rcpts=[Rcpt(a, p) for a, p in self.rcpts], content=content,
            arrival=email.utils.formatdate(localtime=True))
        host = "localhost" if is_loopback(self.peer_ip) else "unknown"
        job.trace = ("Received: from %s (%s [%s])\r\n\tby %s (flawed-relay) with %s id %s\r\n\tfor <%s>; %s\r\n"
                     % (self.helo, host, self.peer_ip, self.hostname, self.protocol, job.id,
                        job.rcpts[0].address, job.arrival)).encode("utf-8", "surrogateescape")
        if self.relay.broken("received-no-date"):
            job.trace = job.trace[:job.trace.rindex(b";")] + b"\r\n"
        if not self.relay.queue.put(job):
            return "452 4.3.1 Insufficient system storage, try again later"
        log("%s: from=<%s> size=%d nrcpt=%d queued" % (job.id, job.sender, len(content), len(job.rcpts)))
        return "250 2.0.0 Ok: queued as %s" % job.id


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(TIMEOUT)
        Session(self.server.relay, self.request, self.client_address[0]).run()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


# --- the queue ----------------------------------------------------------------------


class Rcpt:
    def __init__(self, address, params):
        self.address, self.params = address, params

    def notify(self, what):
        """Whether a DSN of this kind (SUCCESS, FAILURE) is wanted (RFC 3461 §4.1):
        FAILURE by default, SUCCESS only when asked for."""
        n = self.params.get("NOTIFY")
        if n is None:
            return what == "FAILURE"
        return what in n.split(",")


class Job:
    def __init__(self, id, sender, params, rcpts, content, arrival, is_dsn=False):
        self.id, self.sender, self.params, self.rcpts = id, sender, params, rcpts
        self.content, self.arrival, self.is_dsn = content, arrival, is_dsn
        self.trace = None  # the Received: field, None for a DSN
        self.attempts = 0
        self.due = 0.0

    def retry(self, rcpts, due):
        other = Job(self.id, self.sender, self.params, rcpts, self.content, self.arrival, self.is_dsn)
        other.trace, other.attempts, other.due = self.trace, self.attempts, due
        return other


class Queue:
    """Jobs by due time; one worker takes them when they are due."""

    def __init__(self):
        self.jobs = []
        self.cond = threading.Condition()
        self.stopping = False

    def put(self, job):
        with self.cond:
            if len(self.jobs) >= MAX_QUEUE:
                return False
            self.jobs.append(job)
            self.cond.notify()
            return True

    def take(self):
        """The next due job, or None once stopping."""
        with self.cond:
            while not self.stopping:
                now = time.monotonic()
                due = [j for j in self.jobs if j.due <= now]
                if due:
                    job = min(due, key=lambda j: j.due)
                    self.jobs.remove(job)
                    return job
                wait = min([j.due - now for j in self.jobs] + [1.0])
                self.cond.wait(max(wait, 0.01))
            return None

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


# --- outbound -----------------------------------------------------------------------


class Lost(Exception):
    """The outbound connection failed: every recipient not yet settled is deferred."""


class Reply:
    def __init__(self, code, lines):
        self.code, self.lines = code, lines

    @property
    def kind(self):
        if 200 <= self.code < 300:
            return "sent"
        if 500 <= self.code < 600:
            return "failed"
        return "deferred"

    def __str__(self):
        text = " ".join(x.strip() for x in self.lines).strip()
        return ("%d %s" % (self.code, text)).strip()


class Outbound:
    """A client connection to the next hop."""

    def __init__(self, sock, verbose):
        self.sock, self.verbose = sock, verbose
        self.buf = bytearray()

    def send(self, octets, show=True):
        if self.verbose and show:
            for line in octets.split(b"\r\n")[:-1]:
                log("out C: %s" % line.decode("utf-8", "replace"))
        try:
            self.sock.sendall(octets)
        except OSError as e:
            raise Lost("lost connection while sending: %s" % e)

    def read_line(self):
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buf) > MAX_REPLY_LINE:
                raise Lost("a reply line over %d octets" % MAX_REPLY_LINE)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Lost("no reply within %g s" % TIMEOUT)
            except OSError as e:
                raise Lost("lost connection while reading: %s" % e)
            if not chunk:
                raise Lost("lost connection: the next hop closed it")
            self.buf += chunk

    def reply(self):
        code, lines = None, []
        for _ in range(MAX_REPLY_LINES):
            line = self.read_line()
            if self.verbose:
                log("out S: %s" % line.decode("utf-8", "replace"))
            if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in (b"", b" ", b"-"):
                raise Lost("malformed reply line %r" % line[:80])
            if code is None:
                code = int(line[:3])
            lines.append(line[4:].decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return Reply(code, lines)
        raise Lost("a reply of over %d lines" % MAX_REPLY_LINES)

    def command(self, text):
        self.send(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def quit(self):
        try:
            self.command("QUIT")
        except Lost:
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Outcome:
    """What one attempt did for one recipient."""

    def __init__(self, kind, text, status=None, remote=True):
        self.kind = kind  # sent, deferred, failed, dropped
        self.text, self.status, self.remote = text, status, remote


class Relay:
    def __init__(self, args):
        self.args = args
        self.hostname = args.hostname
        self.breaks = set(args.breaks or ())
        self.verbose = args.verbose
        self.next_hop = args.next_hop
        self.queue = Queue()
        self.sessions = threading.BoundedSemaphore(MAX_SESSIONS)

    def broken(self, name):
        return name in self.breaks

    # --- the worker -------------------------------------------------------------------

    def work(self):
        while True:
            job = self.queue.take()
            if job is None:
                return
            try:
                self.deliver(job)
            except Exception as e:  # a bug here must not stop the queue
                log("%s: internal error: %r" % (job.id, e))

    def deliver(self, job):
        job.attempts += 1
        outcomes, hop_dsn = self.attempt(job)
        pending, failed, relayed = [], [], []
        for rcpt in job.rcpts:
            o = outcomes[rcpt.address]
            if o.kind == "sent":
                log("%s: <%s>: sent (%s)" % (job.id, rcpt.address, o.text))
                if not hop_dsn and rcpt.notify("SUCCESS"):
                    relayed.append((rcpt, o))
            elif o.kind == "dropped":
                log("%s: <%s>: dropped (%s)" % (job.id, rcpt.address, o.text))
            elif o.kind == "failed":
                log("%s: <%s>: failed (%s)" % (job.id, rcpt.address, o.text))
                failed.append((rcpt, o))
            elif self.broken("no-retry"):
                log("%s: <%s>: dropped (%s): no retry" % (job.id, rcpt.address, o.text))
            elif job.attempts >= self.args.max_attempts:
                log("%s: <%s>: failed after %d attempts (%s)" % (job.id, rcpt.address, job.attempts, o.text))
                failed.append((rcpt, Outcome("failed", o.text, "5.4.7", o.remote)))
            else:
                pending.append(rcpt)
        if pending:
            delay = self.args.retry_delay * 2 ** (job.attempts - 1)
            for rcpt in pending:
                log("%s: <%s>: deferred (%s), attempt %d, next in %g s"
                    % (job.id, rcpt.address, outcomes[rcpt.address].text, job.attempts, delay))
            self.queue.put(job.retry(pending, time.monotonic() + delay))
        if failed:
            self.notify(job, failed, "failed")
        if relayed:
            self.notify(job, relayed, "relayed")

    def outgoing(self, job):
        """The message octets as sent (trace field and all), before dot-stuffing."""
        content = job.content
        header, rest = split_header(content)
        if self.broken("drop-received"):
            header = b"".join(f for f in header_fields(header) if field_name(f) != b"received")
        if self.broken("drop-empty-lines") and rest.startswith(b"\r\n"):
            lines = rest[2:].split(b"\r\n")
            last = lines.pop()  # what follows the final CRLF (empty, unless raw octets)
            rest = b"\r\n" + b"".join(x + b"\r\n" for x in lines if x) + last
        if self.broken("fold-long-lines") and rest.startswith(b"\r\n"):
            lines = rest[2:].split(b"\r\n")
            folded = [x[i:i + FOLD_AT] for x in lines for i in range(0, max(len(x), 1), FOLD_AT)]
            rest = b"\r\n" + b"\r\n".join(folded)
        trace = b"" if self.broken("no-received") or job.trace is None else job.trace
        if self.broken("received-at-bottom"):
            out = header + trace + rest
        else:
            out = trace + header + rest
        if self.broken("add-return-path"):
            out = b"Return-Path: <%s>\r\n" % job.sender.encode("utf-8", "surrogateescape") + out
        if out and not out.endswith(b"\r\n") and not self.broken("pass-bare-lf"):
            out += b"\r\n"
        return out

    def stuffed(self, out):
        """The octets after the 354: dot-stuffed (RFC 5321 §4.5.2), then ".CRLF"."""
        if not self.broken("no-dot-stuffing"):
            out = re.sub(rb"(?:^|(?<=\r\n))\.", b"..", out)
        return out + b".\r\n"

    def attempt(self, job):
        """One delivery attempt: {address: Outcome} for every recipient of the
        job, and whether the hop offered DSN."""
        outcomes = {}
        rcpts = job.rcpts
        if self.broken("drop-second-rcpt") and len(rcpts) > 1:
            for r in rcpts[1:]:
                outcomes[r.address] = Outcome("dropped", "not sent on")
            rcpts = rcpts[:1]

        def settle(kind, text, status=None, remote=True):
            for r in rcpts:
                outcomes.setdefault(r.address, Outcome(kind, text, status, remote))

        def by_reply(r):
            return Outcome(r.kind, str(r), status_of(r))

        host, port = self.next_hop
        try:
            sock = socket.create_connection((host, port), timeout=TIMEOUT)
        except OSError as e:
            settle("deferred", "connect to %s:%d: %s" % (host, port, e), "4.4.1", remote=False)
            return outcomes, False
        conn = Outbound(sock, self.verbose)
        ext = {}
        try:
            r = conn.reply()
            if r.kind != "sent":
                conn.quit()
                settle(r.kind, str(r), status_of(r))
                return outcomes, False
            r = conn.command("EHLO %s" % self.hostname)
            if r.kind == "sent":
                for text in r.lines[1:]:
                    words = text.split()
                    if words:
                        ext[words[0].upper()] = words[1:]
            elif r.code >= 500:
                r = conn.command("HELO %s" % self.hostname)
            if r.kind != "sent":
                conn.quit()
                settle(r.kind, str(r), status_of(r))
                return outcomes, False

            out = self.outgoing(job)
            problem = self.refusal(job, out, ext)
            if problem:
                conn.quit()
                settle("failed", problem[1], problem[0], remote=False)
                return outcomes, "DSN" in ext

            r = conn.command("MAIL FROM:<%s>%s" % (
                "relay@%s" % self.hostname if self.broken("rewrite-sender") else job.sender,
                "".join(" " + p for p in self.mail_params(job, out, ext))))
            if r.kind != "sent":
                conn.quit()
                settle(r.kind, str(r), status_of(r))
                return outcomes, "DSN" in ext
            accepted = []
            for rcpt in rcpts:
                r = conn.command("RCPT TO:<%s>%s" % (rcpt.address,
                                                      "".join(" " + p for p in self.rcpt_params(rcpt, ext))))
                if r.kind == "sent":
                    accepted.append(rcpt)
                else:
                    outcomes[rcpt.address] = by_reply(r)
            if not accepted:
                conn.quit()
                return outcomes, "DSN" in ext
            r = conn.command("DATA")
            if r.code // 100 != 3:
                conn.quit()
                settle("deferred" if r.kind == "sent" else r.kind, str(r), status_of(r))
                return outcomes, "DSN" in ext
            conn.send(self.stuffed(out), show=False)
            if self.verbose:
                log("out C: (%d octets of data)" % len(out))
            r = conn.reply()
            for rcpt in accepted:
                outcomes[rcpt.address] = by_reply(r)
            conn.quit()
        except Lost as e:
            settle("deferred", str(e), "4.4.2")
        finally:
            conn.close()
        return outcomes, "DSN" in ext

    def refusal(self, job, out, ext):
        """(status, text) when the message cannot go to this hop as it is, else None."""
        eight_bit = job.params.get("BODY") == "8BITMIME" or has_8bit(out)
        if eight_bit and "8BITMIME" not in ext and not self.broken("force-8bit"):
            return "5.6.3", "conversion required but not supported: 8-bit message, the next hop does not offer 8BITMIME"
        if "SMTPUTF8" in job.params and "SMTPUTF8" not in ext and not self.broken("drop-smtputf8"):
            return "5.6.7", "SMTPUTF8 required but not supported by the next hop"
        limit = hop_size(ext)
        if limit and len(out) > limit:
            return "5.3.4", "message size %d exceeds the next hop's SIZE %d" % (len(out), limit)
        return None

    def mail_params(self, job, out, ext):
        p = job.params
        params = []
        if "SIZE" in ext and not self.broken("no-size"):
            params.append("SIZE=%d" % len(out))
        declared = p.get("BODY") == "8BITMIME" or has_8bit(out)
        if declared and "8BITMIME" in ext and not self.broken("drop-body-param"):
            params.append("BODY=8BITMIME")
        if "SMTPUTF8" in p and "SMTPUTF8" in ext and not self.broken("drop-smtputf8"):
            params.append("SMTPUTF8")
        if "DSN" in ext and not self.broken("drop-dsn-params"):
            if "RET" in p:
                params.append("RET=%s" % p["RET"])
            if "ENVID" in p:
                params.append("ENVID=%s" % p["ENVID"])
        return params

    def rcpt_params(self, rcpt, ext):
        params = []
        if "DSN" in ext and not self.broken("drop-dsn-params"):
            if "NOTIFY" in rcpt.params:
                params.append("NOTIFY=%s" % rcpt.params["NOTIFY"])
            if "ORCPT" in rcpt.params:
                params.append("ORCPT=%s" % rcpt.params["ORCPT"])
        return params

    # --- delivery status notifications ------------------------------------------------

    def notify(self, job, entries, action):
        """A DSN (RFC 3464) to the reverse path for entries [(Rcpt, Outcome)]."""
        what = "FAILURE" if action == "failed" else "SUCCESS"
        wanted = [(r, o) for r, o in entries if r.notify(what)]
        for r, o in entries:
            if (r, o) not in wanted:
                log("%s: <%s>: no DSN (NOTIFY=%s)" % (job.id, r.address, r.params.get("NOTIFY")))
        if not wanted:
            return
        if job.is_dsn or job.sender == "":
            log("%s: no DSN for a message with the null reverse path" % job.id)
            return
        if action == "failed" and self.broken("no-bounce"):
            log("%s: no DSN (no-bounce)" % job.id)
            return
        dsn = self.make_dsn(job, wanted, action)
        if self.queue.put(dsn):
            log("%s: DSN (%s) to <%s> queued as %s" % (job.id, action, job.sender, dsn.id))
        else:
            log("%s: queue full, DSN lost" % job.id)

    def make_dsn(self, job, entries, action):
        h = self.hostname
        dsn_id = secrets.token_hex(5).upper()
        date = email.utils.formatdate(localtime=True)
        boundary = "%s/%s" % (dsn_id, h)
        header, _ = split_header(job.content)
        full = job.params.get("RET") == "FULL"
        returned = job.content if full else header
        global_headers = has_8bit(returned)
        if action == "failed":
            subject = "Undelivered Mail Returned to Sender"
            intro = ("This is the mail system at host %s.\r\n\r\n"
                     "I'm sorry to have to inform you that your message could not\r\n"
                     "be delivered to one or more recipients. It's attached below.\r\n" % h)
        else:
            subject = "Relayed Mail Delivery Report"
            intro = ("This is the mail system at host %s.\r\n\r\n"
                     "Your message was relayed to a mail system that does not\r\n"
                     "report on delivery (no DSN).\r\n" % h)
        lines = []
        for r, o in entries:
            lines.append("<%s>: %s" % (r.address, ascii_text(o.text)))
        explanation = intro + "\r\n" + "".join("%s\r\n" % x for x in lines)

        msg_fields = ["Reporting-MTA: dns; %s" % h]
        if "ENVID" in job.params:
            msg_fields.append("Original-Envelope-Id: %s" % ascii_text(xtext_decode(job.params["ENVID"])))
        msg_fields.append("Arrival-Date: %s" % job.arrival)
        blocks = ["".join("%s\r\n" % x for x in msg_fields)]
        for r, o in entries:
            f = []
            if "ORCPT" in r.params:
                kind, _, value = r.params["ORCPT"].partition(";")
                f.append("Original-Recipient: %s;%s" % (kind, ascii_text(xtext_decode(value))))
            f.append("Final-Recipient: %s; %s" % ("rfc822" if is_ascii(r.address) else "utf-8", r.address))
            f.append("Action: %s" % action)
            if action == "failed":
                f.append("Status: %s" % (o.status if o.status and o.status.startswith("5") else "5.0.0"))
            else:
                f.append("Status: 2.0.0")
            f.append("Remote-MTA: dns; %s" % self.next_hop[0])
            if o.remote and re.match(r"\d{3}", o.text):
                f.append("Diagnostic-Code: smtp; %s" % ascii_text(o.text))
            else:
                f.append("Diagnostic-Code: X-Flawed-Relay; %s" % ascii_text(o.text))
            blocks.append("".join("%s\r\n" % x for x in f))
        status = "\r\n".join(blocks)

        top = [
            "Date: %s" % date,
            "From: MAILER-DAEMON@%s (Mail Delivery System)" % h,
            "To: <%s>" % job.sender,
            "Subject: %s" % subject,
            "Message-ID: <%s@%s>" % (dsn_id, h),
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
        ]
        if self.broken("bad-dsn"):
            top.append("Content-Type: text/plain; charset=us-ascii")
            body = (explanation + "\r\n" + status).encode("ascii", "replace")
        else:
            top.append('Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="%s"' % boundary)
            if full:
                part3 = "message/global" if global_headers else "message/rfc822"
                desc = "Undelivered Message"
            else:
                part3 = "message/global-headers" if global_headers else "text/rfc822-headers"
                desc = "Undelivered Message Headers"
            if action != "failed":
                desc = desc.replace("Undelivered", "Relayed")
            body = ("This is a MIME-encapsulated message.\r\n\r\n"
                    "--%s\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                    "%s\r\n"
                    "--%s\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
                    "%s\r\n"
                    "--%s\r\nContent-Description: %s\r\nContent-Type: %s\r\n%s\r\n"
                    % (boundary, explanation, boundary, status, boundary, desc, part3,
                       "Content-Transfer-Encoding: 8bit\r\n" if global_headers else "")
                    ).encode("utf-8", "surrogateescape")
            body += returned
            if returned and not returned.endswith(b"\r\n"):
                body += b"\r\n"
            body += ("\r\n--%s--\r\n" % boundary).encode("ascii")
        content = "".join("%s\r\n" % x for x in top).encode("utf-8", "surrogateescape") + b"\r\n" + body
        params = {}
        if has_8bit(content):
            params["BODY"] = "8BITMIME"
        if not is_ascii(job.sender) or ("SMTPUTF8" in job.params and has_8bit(content)):
            params["SMTPUTF8"] = True
        return Job(dsn_id, "", params, [Rcpt(job.sender, {})], content, date, is_dsn=True)


def status_of(reply):
    """The status for a DSN: the reply's enhanced code, else "5.0.0" / "4.0.0" by its class."""
    text = reply.lines[0] if reply.lines else ""
    found = enhanced_status(text)
    if found and found[0] == str(reply.code)[0]:
        return found
    return "5.0.0" if reply.code >= 500 else "4.0.0"


def hop_size(ext):
    try:
        return int(ext.get("SIZE", ["0"])[0])
    except (IndexError, ValueError):
        return 0


def ascii_text(text):
    """Reply or error text fit for a 7-bit DSN line."""
    return re.sub(r"[^\x20-\x7e]", "?", text)[:900]


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("HOST:PORT expected, not %r" % text)
    return host.strip("[]"), int(port)


def parse_args(argv):
    p = argparse.ArgumentParser(description="A careful SMTP relay that breaks one rule per --break.")
    p.add_argument("--listen", type=host_port, default=("127.0.0.1", 0), metavar="HOST:PORT",
                   help="where to listen (default 127.0.0.1:0, a free port)")
    p.add_argument("--next-hop", type=host_port, required=True, metavar="HOST:PORT",
                   help="where every message goes")
    p.add_argument("--hostname", default="relay.test", help="the relay's name (greeting, EHLO, trace, DSN)")
    p.add_argument("--retry-delay", type=float, default=1.0, metavar="S",
                   help="seconds before the first retry of a deferred recipient; doubles each time")
    p.add_argument("--max-attempts", type=int, default=4, metavar="N",
                   help="delivery attempts in all before a deferred recipient fails")
    p.add_argument("--verbose", "-v", action="store_true", help="both dialogues on stderr")
    p.add_argument("--break", dest="breaks", action="append", choices=BREAKS, metavar="NAME",
                   help="break one rule (repeatable): " + ", ".join(BREAKS))
    args = p.parse_args(argv)
    if args.retry_delay < 0:
        p.error("--retry-delay must not be negative")
    if args.max_attempts < 1:
        p.error("--max-attempts must be at least 1")
    if not re.fullmatch(r"[A-Za-z0-9.-]+", args.hostname):
        p.error("--hostname must be a domain name")
    return args


def main(argv=None):
    args = parse_args(argv)
    relay = Relay(args)
    try:
        server = Server(args.listen, Handler)
    except OSError as e:
        print("flawed_relay: cannot listen on %s:%d: %s" % (args.listen + (e,)), file=sys.stderr)
        return USAGE
    server.relay = relay
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    accepter = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    worker = threading.Thread(target=relay.work, daemon=True)
    accepter.start()
    worker.start()
    host, port = server.server_address[:2]
    sys.stdout.write("listening %s:%d\n" % (host, port))
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    relay.queue.stop()
    worker.join(2.0)  # a delivery under way is cut off (the thread is a daemon)
    return 0


if __name__ == "__main__":
    sys.exit(main())
