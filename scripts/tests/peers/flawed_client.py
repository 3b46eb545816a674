#!/usr/bin/python3
"""flawed_client.py — a careful SMTP client that can be told to break one rule.

By default it sends one message the way RFC 5321, 3207, 2920, 4954, 6152,
6531, 1870 and 3030 say a client must. Each `--break NAME` (repeatable)
breaks exactly one rule and keeps everything else careful, so that every
scenario of a client conformance suite can be shown to fail for the
reason it names. Standard library only; raw sockets (never smtplib), so
that pipelining, dot-stuffing and line ends are under byte-level control.

    flawed_client.py --host H --port P --message FILE [--from A] [--to A]...
        [--helo NAME] [--tls none|starttls|required|implicit] [--cafile PEM]
        [--insecure] [--tls-name NAME] [--auth USER:PASS] [--chunking]
        [--timeout S] [--verbose] [--break NAME]...

SMTP_HOST, SMTP_PORT and SMTP_MESSAGE stand in for missing --host, --port
and --message. Exit status: 0 the message was accepted for every
recipient; 1 some recipient did not get it, the server refused, failed or closed (4xx, 5xx, 421, a
malformed reply, a timeout, or the client declined to send: SIZE, 8-bit,
UTF-8, line length); 2 usage error; 3 TLS policy or certificate failure;
70 a bug in this client (a traceback, never taken for a refusal). On
failure one line on stderr says why.

The breaks, and what each violates:

  early-talker          EHLO sent before the greeting arrived (RFC 5321 §4.3.1;
                        no effect together with no-ehlo)
  no-ehlo               no EHLO/HELO: the session starts with MAIL (RFC 5321 §4.1.4)
  no-helo-fallback      EHLO refused: MAIL without HELO (RFC 5321 §4.1.4, §3.2)
  ignore-greeting-554   a non-220 greeting is ignored (RFC 5321 §3.1, §4.3.2)
  first-line-only       a multi-line reply's first line is taken as the whole
                        reply; reading goes out of step (RFC 5321 §4.2.1)
  no-lockstep           MAIL, RCPTs and DATA in one write though PIPELINING was
                        not advertised (RFC 5321 §4.3.1, RFC 2920 §3)
  pipeline-data         message data sent with DATA, before the 354
                        (RFC 2920 §3.1, RFC 5321 §4.3.1)
  ignore-mail-error     RCPT and DATA after MAIL was refused (RFC 5321 §4.1.4)
  data-after-all-refused  DATA and the message though every RCPT was refused,
                        the data even without a 354 (RFC 5321 §4.1.4, §4.3.1)
  ignore-421            commands go on after a 421 (RFC 5321 §3.8)
  no-452-retry          a recipient refused with 452 is dropped: never sent in
                        a new transaction, and not reported either (exit 0 when
                        the others got the message) (RFC 5321 §4.5.3.1.10)
  no-dot-stuff          lines starting with "." are not dot-stuffed
                        (RFC 5321 §4.5.2)
  raw-line-ends         the file's bare LF / bare CR go out as they are
                        (RFC 5321 §2.3.8)
  long-lines            text lines over 998 octets are sent (RFC 5321 §4.5.3.1.6)
  undeclared-8bit       8-bit content without BODY=8BITMIME, even when 8BITMIME
                        is not advertised (RFC 6152 §3)
  undeclared-utf8       UTF-8 addresses without SMTPUTF8, even when it is not
                        advertised (RFC 6531 §3.4)
  ignore-size           a message over the advertised SIZE is sent anyway,
                        without SIZE= (RFC 1870 §4 makes the limit the
                        server's; no sentence binds the client, so this is a
                        policy break whose outcome is the server's 552)
  bdat-size             (--chunking) the last BDAT declares 10 octets fewer
                        than are sent: the rest is read as a command (RFC 3030 §2)
  bdat-unadvertised     (--chunking) BDAT though CHUNKING was not advertised
                        (RFC 3030 §2)
  starttls-keep-buffer  octets received with the 220 to STARTTLS are kept and
                        read as the first reply inside TLS (RFC 3207 §4.2,
                        CVE-2011-0411 client side)
  tls-downgrade         --tls required, STARTTLS not offered or refused: the
                        mail (and AUTH) goes in clear anyway (the client's
                        own policy; RFC 3207 §6 on a stripped STARTTLS)
  auth-in-clear         AUTH before STARTTLS, with PLAIN if the server offers
                        no mechanism in clear (the client's own --tls
                        required policy; RFC 4954 §4 on plaintext mechanisms)
  no-verify             any server certificate is accepted, --cafile and the
                        name ignored (RFC 7817 §3, RFC 6125)
  no-ehlo-after-tls     MAIL (or AUTH) right after the handshake, no new EHLO
                        (RFC 3207 §4.2)
  auth-unadvertised     AUTH PLAIN though PLAIN (or AUTH) was not advertised
                        (RFC 4954 §4)
  auth-retry            after a 535 the same credentials are sent again (no
                        RFC sentence forbids a retry, RFC 4954 §4 leaves it to
                        the client: a policy break, known-bad credentials)
  auth-twice            AUTH again after a 235 (RFC 4954 §4)
  no-quit               the connection is closed without QUIT (RFC 5321 §4.1.1.10)
  no-wait-221           QUIT, then close at once, without reading the 221
                        (RFC 5321 §4.1.1.10)
  after-quit            NOOP after the 221 to QUIT (RFC 5321 §4.1.1.10, §4.1.4)
  impatient             gives up when a reply takes over 2 s (RFC 5321 §4.5.3.2)
  unqualified-helo      EHLO with the bare name "client" (RFC 5321 §2.3.5, §4.1.1.1)
  no-auth-cancel        a SASL challenge it has no answer for gets an empty line,
                        not the "*" that cancels (RFC 4954 §4)
  quiet-partial         exit 0 when some recipients were refused and others got
                        the message: the refusal is not reported (RFC 5321 §3.3)
  always-succeed        exit 0 whatever happened in the session: a message that
                        was not delivered is taken for sent (RFC 5321 §4.2.5,
                        §6.1); a connection that cannot be made is still exit 1
  strict-reply-text     a reply line with no text after the code, or with
                        octets >= 0x80 in its text, is a protocol error: the
                        client gives up, exit 1 (RFC 5321 §4.2: "any text,
                        including no text at all, MUST be acceptable")
  one-read-replies      whatever one recv() returns is taken as the whole
                        reply, partial lines and further replies included
                        (RFC 5321 §4.2: a reply ends with CRLF, not with a read)
  exact-codes           only the documented codes are success: 220 to the
                        greeting and STARTTLS, 250 to EHLO, HELO, MAIL, BDAT and
                        the end of data, 250/251 to RCPT, 354 to DATA, 334 and
                        235 in AUTH; e.g. 299 to MAIL is a refusal (RFC 5321
                        §4.2: "interpreting the first digit only", §4.3.2)
  no-final-crlf         a message whose last line has no line end gets none
                        before the terminating ".CRLF": the last line is joined
                        to the dot (RFC 5321 §4.1.1.4: the data ends with
                        <CRLF>.<CRLF>)
  cn-only               the certificate's host name is checked against its
                        subject CN only, subjectAltName ignored (RFC 6125
                        §6.4.4: a CN is looked at only when there is no SAN);
                        a certificate whose SAN names the host, not its CN,
                        is exit 3
  starttls-twice        STARTTLS is sent when it is advertised even inside an
                        active TLS session, implicit or STARTTLS (RFC 3207
                        §4.2); a 220 to it ends the session (exit 1)
  strict-login-prompts  in AUTH LOGIN, a challenge that does not decode to
                        "Username:" (then "Password:") makes the client cancel
                        with "*" and give up, exit 1 (RFC 4954 §4 leaves the
                        challenge text to the mechanism; LOGIN's prompts
                        carry no meaning)
  close-is-failure      after the 221 to QUIT the client reads once more
                        (0.5 s), and the server closing the connection there
                        is taken for a lost connection: exit 1, though the
                        message was delivered (RFC 5321 §4.1.1.10: after its
                        221 the server closes the channel; §3.8)
  lowercase             verbs in lower case. NOT a violation (RFC 5321 §2.4):
                        a control that must fail nothing.

Choices of the careful client, where the RFCs leave room:
- A 421 ends the session at once: no QUIT, the connection is closed
  (RFC 5321 §3.8 allows either).
- --tls starttls is opportunistic; a certificate that fails the check is
  still fatal (exit 3), as it would be under --tls required.
- With PIPELINING, MAIL, every RCPT and DATA go out in one write and their
  replies are read in order (RFC 2920 §3.1): RCPT and DATA are then sent
  before MAIL's reply is known, as RFC 2920 intends; without it, each
  command waits for its reply, and a refused MAIL stops the transaction.
- SIZE= declares the CRLF-normalised message, before dot-stuffing.
- 452 to a RCPT (RFC 5321 §4.5.3.1.10): the recipients from there on go in
  a new transaction once this one has delivered; a transaction that
  delivers nothing ends the attempt (no endless retries).
- BDAT (--chunking, CHUNKING advertised): chunks of at most 64 KiB, the last
  with LAST; sent in one write with PIPELINING, else one by one.
- The line-length check counts the octets of a text line before
  dot-stuffing (998 plus CRLF, RFC 5321 §4.5.3.1.6).
- A 354 though no recipient was accepted (pipelining) gets a lone "."
  (RFC 2920 §3.1); the transaction delivers nothing. A 354 though MAIL
  was refused (pipelining) gets nothing: the connection is closed in the
  data, which aborts the transaction (RFC 5321 §3.8), exit 1.
- Replies: a line ended by a bare LF is read (robustness); a line that is
  not "ddd", "ddd text" or "ddd-text" ends the session (exit 1, no QUIT).
  A reply's meaning is its first digit (RFC 5321 §4.2): 2yz is success
  wherever 220, 235, 250 or 251 is documented, 3yz to DATA (354) and in
  AUTH (334) asks for more; only 421 (closing) and 452 to RCPT (a new
  transaction) are told apart by the whole code.
- Without --cafile and --insecure the system CAs decide: a self-signed
  server certificate is exit 3.
"""
import argparse
import base64
import os
import re
import socket
import ssl
import sys
import time
import traceback

OK, FAILED, USAGE, TLS_FAILURE = 0, 1, 2, 3
INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in this client (traceback on stderr)

BREAKS = (
    "early-talker", "no-ehlo", "no-helo-fallback", "ignore-greeting-554", "first-line-only",
    "no-lockstep", "pipeline-data", "ignore-mail-error", "data-after-all-refused", "ignore-421",
    "no-452-retry", "no-dot-stuff", "raw-line-ends", "long-lines", "undeclared-8bit", "undeclared-utf8",
    "ignore-size", "bdat-size", "bdat-unadvertised", "starttls-keep-buffer", "tls-downgrade",
    "auth-in-clear", "no-verify", "no-ehlo-after-tls", "auth-unadvertised", "auth-retry", "auth-twice",
    "no-quit", "no-wait-221", "after-quit", "impatient", "unqualified-helo", "quiet-partial",
    "always-succeed", "lowercase", "strict-reply-text", "one-read-replies", "exact-codes", "no-final-crlf",
    "cn-only", "starttls-twice", "strict-login-prompts", "close-is-failure", "no-auth-cancel",
)

MAX_TEXT_LINE = 998  # octets of a text line without its CRLF (RFC 5321 §4.5.3.1.6)
MAX_REPLY_LINE = 65536  # a bound on what is buffered while waiting for a line end
CHUNK = 65536  # BDAT chunk size
IMPATIENT_TIMEOUT = 2.0


class Stop(Exception):
    """Ends the run with an exit status and a one-line reason."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Reply:
    def __init__(self, code, lines):
        self.code, self.lines = code, lines  # lines: the text after "ddd-"/"ddd " (str)

    @property
    def ok(self):
        return 200 <= self.code < 300

    def __str__(self):
        return ("%d %s" % (self.code, " / ".join(self.lines))).rstrip()


class Connection:
    """A socket with its own read buffer: whole reply lines out, octets in.

    The buffer is ours (not a file object's) so that STARTTLS can decide,
    explicitly, what happens to plaintext octets read past the 220."""

    def __init__(self, sock, timeout, log=None, strict_text=False, one_read=False):
        self.sock, self.timeout, self.log = sock, timeout, log
        self.buf = bytearray()
        self.strict_text = strict_text  # the strict-reply-text break
        self.one_read = one_read  # the one-read-replies break

    def send(self, data):
        if self.log:
            for line in data.split(b"\r\n")[:-1] if data.endswith(b"\r\n") else data.split(b"\r\n"):
                self.log("C: %s" % line.decode("utf-8", "replace"))
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Stop(FAILED, "connection lost while sending: %s" % e)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Stop(FAILED, "no reply within %g s" % self.timeout)
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise Stop(FAILED, "no reply within %g s" % self.timeout)
        except (OSError, ssl.SSLError) as e:
            raise Stop(FAILED, "connection lost while reading: %s" % e)
        if not chunk:
            raise Stop(FAILED, "the server closed the connection")
        self.buf += chunk

    def read_line(self, deadline):
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                return line
            if len(self.buf) > MAX_REPLY_LINE:
                raise Stop(FAILED, "a reply line longer than %d octets" % MAX_REPLY_LINE)
            self._fill(deadline)

    def check_line(self, line):
        """A reply line without its line end: "ddd", "ddd text" or
        "ddd-text", else the session ends (exit 1)."""
        if self.log:
            self.log("S: %s" % line.decode("utf-8", "replace"))
        if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in (b"", b" ", b"-"):
            raise Stop(FAILED, "malformed reply line %r" % line[:80])
        if self.strict_text:  # the break: RFC 5321 §4.2 makes any text, or none, acceptable
            if not line[4:].strip():
                raise Stop(FAILED, "a reply line without text: %r" % line[:80])
            if re.search(rb"[\x80-\xff]", line):
                raise Stop(FAILED, "8-bit octets in a reply line: %r" % line[:80])

    def read_reply(self, first_line_only=False):
        """One reply: lines "ddd-text" up to "ddd text" or "ddd" alone. Its
        code is its first line's. A line ended by a bare LF is tolerated."""
        deadline = time.monotonic() + self.timeout
        if self.one_read:
            return self.read_one_read()
        code, lines = None, []
        while True:
            raw = self.read_line(deadline)
            line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            self.check_line(line)
            if code is None:
                code = int(line[:3])
            lines.append(line[4:].decode("utf-8", "replace"))  # 8-bit text: tolerated, not trusted
            if line[3:4] != b"-" or first_line_only:
                return Reply(code, lines)

    def read_one_read(self):
        """The one-read-replies break: what one recv() returns (or what is
        left in the buffer) is the whole reply, complete lines or not; its
        code is its first line's."""
        if not self.buf:
            self._fill(time.monotonic() + self.timeout)
        data = bytes(self.buf)
        self.buf.clear()
        pieces = data.split(b"\n")
        if pieces[-1] == b"":
            pieces.pop()
        lines = [x[:-1] if x.endswith(b"\r") else x for x in pieces]
        for line in lines:
            self.check_line(line)
        return Reply(int(lines[0][:3]), [x[4:].decode("utf-8", "replace") for x in lines])

    def start_tls(self, context, server_name, keep_buffer=False):
        """The TLS handshake on this connection. Octets read past the 220
        to STARTTLS arrived before TLS: an attacker may have injected them
        (CVE-2011-0411), so they are dropped (RFC 3207 §4.2) — unless
        keep_buffer, the vulnerable behaviour. Returns how many were dropped."""
        dropped = 0
        if not keep_buffer:
            dropped = len(self.buf)
            self.buf.clear()
        self.sock.settimeout(self.timeout)
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=server_name)
        except ssl.SSLCertVerificationError as e:
            raise Stop(TLS_FAILURE, "certificate verification failed: %s" % (e.verify_message or e))
        except (OSError, ssl.SSLError) as e:
            raise Stop(TLS_FAILURE, "TLS handshake failed: %s" % e)
        return dropped

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Message:
    """The message file, prepared for DATA or BDAT."""

    def __init__(self, raw, raw_line_ends=False):
        self.raw = raw
        if raw_line_ends:
            data = raw
        else:
            data = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)  # bare LF and bare CR become CRLF
        self.unterminated = bool(data) and not data.endswith(b"\r\n")  # the last line has no line end
        if self.unterminated:
            data += b"\r\n"
        self.data = data  # CRLF-normalised (unless raw), not dot-stuffed: what BDAT sends and SIZE counts
        # Text lines as the file has them (any line end), for the length check.
        self.longest_line = max((len(x) for x in re.split(rb"\r\n|\r|\n", raw)), default=0)
        self.eight_bit = re.search(rb"[\x80-\xff]", raw) is not None

    def for_data(self, stuff=True, final_crlf=True):
        """The octets after the 354: dot-stuffed (a "." at the start of a
        line, where lines start after CRLF, is doubled; RFC 5321 §4.5.2),
        then the final ".CRLF". Without final_crlf (the no-final-crlf
        break) a last line that had no line end gets none before the dot."""
        data = self.data[:-2] if self.unterminated and not final_crlf else self.data
        body = re.sub(rb"(?:^|(?<=\r\n))\.", b"..", data) if stuff else data
        return body + b".\r\n"


def cn_matches(cn, name):
    """The cn-only break's name check: the CN as a host name, "*." matching
    one label (RFC 6125 §6.4.3), case-insensitive."""
    cn, name = cn.lower().rstrip("."), name.lower().rstrip(".")
    if cn.startswith("*."):
        return "." in name and name.split(".", 1)[1] == cn[2:]
    return cn == name


def is_ascii(text):
    try:
        text.encode("ascii")
        return True
    except UnicodeEncodeError:
        return False


class Client:
    def __init__(self, args, message):
        self.args = args
        self.breaks = set(args.breaks or ())
        self.message = message
        self.timeout = IMPATIENT_TIMEOUT if "impatient" in self.breaks else args.timeout
        self.conn = None
        self.ext = {}  # EHLO keyword (upper case) -> its parameters
        self.tls_active = False
        self.authenticated = False
        self.dropped = []  # recipients given up under no-452-retry, never reported
        self.log = (lambda text: print(text, file=sys.stderr)) if args.verbose else None
        self.context = self.tls_context() if args.tls != "none" else None

    def broken(self, name):
        return name in self.breaks

    # --- commands and replies -------------------------------------------------------

    def line(self, verb, arg=None):
        """A command line: verb in upper case (lower case under `lowercase`,
        which RFC 5321 §2.4 allows), CRLF."""
        verb = verb.lower() if self.broken("lowercase") else verb
        text = verb if arg is None else "%s %s" % (verb, arg)
        return text.encode("utf-8", "surrogateescape") + b"\r\n"

    def send(self, *lines):
        self.conn.send(b"".join(lines))

    def reply(self):
        """The next reply. A 421 ends the session here: nothing more is sent
        and the connection is closed (RFC 5321 §3.8) — unless ignore-421."""
        r = self.conn.read_reply(first_line_only=self.broken("first-line-only"))
        if r.code == 421 and not self.broken("ignore-421"):
            self.conn.close()
            raise Stop(FAILED, "the server is closing the session: %s" % r)
        return r

    def command(self, verb, arg=None):
        self.send(self.line(verb, arg))
        return self.reply()

    def success(self, r, *documented):
        """Whether r is what the command hoped for: the first digit of its
        documented code (RFC 5321 §4.2, §4.3.2) — or, under exact-codes,
        one of the documented codes themselves."""
        if self.broken("exact-codes"):
            return r.code in documented
        return r.code // 100 == documented[0] // 100

    def give_up(self, status, reason):
        """QUIT (and wait for its 221), then stop with status."""
        self.quit()
        raise Stop(status, reason)

    def quit(self, after_mail=False):
        """QUIT, the 221 waited for, the connection closed. after_mail: the
        end of a session that got as far as mail (where close-is-failure
        looks for the server's close)."""
        if self.broken("no-quit"):
            self.conn.close()
            return
        try:
            self.send(self.line("QUIT"))
            if self.broken("no-wait-221"):
                return
            r = self.conn.read_reply(first_line_only=self.broken("first-line-only"))
            if self.broken("after-quit") and r.code == 221:
                self.send(self.line("NOOP"))
        except Stop:
            pass  # the session is over either way; a close is as good as a 221
        else:
            if after_mail and self.broken("close-is-failure") and self.closed_by_server():
                self.conn.close()
                raise Stop(FAILED, "the server closed the connection after QUIT")
        finally:
            self.conn.close()

    def closed_by_server(self):
        """The close-is-failure break: one more read, up to 0.5 s. True when
        the server has closed the connection (or reset it)."""
        try:
            self.conn.sock.settimeout(0.5)
            return self.conn.sock.recv(1) == b""
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            return True

    # --- session --------------------------------------------------------------------

    def tls_context(self):
        if self.args.insecure or self.broken("no-verify"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            # With check_hostname, an IP address as the name is checked
            # against the certificate's IP SANs.
            ctx = ssl.create_default_context(cafile=self.args.cafile)
            if self.broken("cn-only"):
                ctx.check_hostname = False  # the chain is still verified; handshake() checks the CN
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def connect(self):
        a = self.args
        try:
            sock = socket.create_connection((a.host, a.port), timeout=self.timeout)
        except OSError as e:
            raise Stop(FAILED, "cannot connect to %s:%s: %s" % (a.host, a.port, e))
        self.conn = Connection(sock, self.timeout, self.log, strict_text=self.broken("strict-reply-text"),
                               one_read=self.broken("one-read-replies"))
        if a.tls == "implicit":  # RFC 8314 §3.3: TLS from the first octet
            self.handshake()
            self.tls_active = True

    def handshake(self, keep_buffer=False):
        """The TLS handshake (Connection.start_tls) and, under cn-only, the
        broken name check. Returns how many plaintext octets were dropped."""
        name = self.args.tls_name or self.args.host
        dropped = self.conn.start_tls(self.context, name, keep_buffer=keep_buffer)
        if self.broken("cn-only") and self.context.verify_mode != ssl.CERT_NONE:
            subject = self.conn.sock.getpeercert().get("subject", ())
            cns = [value for rdn in subject for key, value in rdn if key == "commonName"]
            if not any(cn_matches(cn, name) for cn in cns):
                # Nothing goes inside a session whose certificate failed the check.
                raise Stop(TLS_FAILURE, "certificate verification failed: the subject CN %s does not name %s"
                           % (", ".join(cns) or "(none)", name))
        return dropped

    def helo_name(self):
        return "client" if self.broken("unqualified-helo") else self.args.helo

    def ehlo(self, already_sent=False):
        """EHLO; a 5xx (command not recognised) falls back to HELO
        (RFC 5321 §3.2). Sets self.ext from the EHLO reply."""
        self.ext = {}
        r = self.reply() if already_sent else self.command("EHLO", self.helo_name())
        if self.success(r, 250):
            for text in r.lines[1:]:
                words = text.split()
                if words:
                    self.ext[words[0].upper()] = words[1:]
            return
        if r.code >= 500:
            if self.broken("no-helo-fallback"):
                return  # straight on to MAIL
            r = self.command("HELO", self.helo_name())
            if self.success(r, 250):
                return
        self.give_up(FAILED, "%s refused: %s" % ("EHLO" if r.code < 500 else "HELO", r))

    def greeting(self):
        early = self.broken("early-talker") and not self.broken("no-ehlo")
        if early:
            self.send(self.line("EHLO", self.helo_name()))  # before the greeting: the break
        r = self.reply()
        if not self.success(r, 220) and not self.broken("ignore-greeting-554"):
            self.give_up(FAILED, "greeting: %s" % r)
        if self.broken("no-ehlo"):
            return
        self.ehlo(already_sent=early)

    def starttls(self):
        """STARTTLS per --tls: opportunistic (starttls) or required."""
        mode = self.args.tls
        if mode not in ("starttls", "required") or self.tls_active:
            self.starttls_inside_tls()
            return
        required = mode == "required" and not self.broken("tls-downgrade")
        if "STARTTLS" not in self.ext:
            if required:
                self.give_up(TLS_FAILURE, "the server does not offer STARTTLS (--tls required)")
            return  # opportunistic: on in clear
        r = self.command("STARTTLS")
        if not self.success(r, 220):
            if required:
                self.give_up(TLS_FAILURE, "STARTTLS refused: %s" % r)
            return
        dropped = self.handshake(keep_buffer=self.broken("starttls-keep-buffer"))
        if dropped and self.log:
            self.log("# %d octets received with the 220 to STARTTLS dropped (RFC 3207 §4.2)" % dropped)
        self.tls_active = True
        if self.broken("no-ehlo-after-tls"):
            return  # the break: what the server said before TLS is still believed
        # RFC 3207 §4.2: everything learnt before TLS is forgotten; EHLO again.
        self.ehlo()
        self.starttls_inside_tls()

    def starttls_inside_tls(self):
        """The starttls-twice break: STARTTLS though TLS is active, when the
        EHLO reply inside TLS offers it. A refusal is taken as in
        opportunistic mode; a 220 ends the session (no second handshake)."""
        if not (self.tls_active and self.broken("starttls-twice") and "STARTTLS" in self.ext):
            return
        r = self.command("STARTTLS")
        if self.success(r, 220):
            self.conn.close()
            raise Stop(FAILED, "STARTTLS inside TLS was accepted: %s" % r)

    def authenticate(self, in_clear_anyway=False):
        """AUTH with the first advertised of PLAIN, LOGIN (RFC 4954 §4);
        nothing when neither is advertised."""
        if not self.args.auth or self.authenticated:
            return
        offered = [m.upper() for m in self.ext.get("AUTH", [])]
        if self.broken("auth-unadvertised") or (in_clear_anyway and not {"PLAIN", "LOGIN"} & set(offered)):
            mechanism = "PLAIN"
        elif "PLAIN" in offered:
            mechanism = "PLAIN"
        elif "LOGIN" in offered:
            mechanism = "LOGIN"
        else:
            return  # never a mechanism the server did not offer
        r = self.auth_exchange(mechanism)
        if not self.success(r, 235) and self.broken("auth-retry"):
            r = self.auth_exchange(mechanism)
        if not self.success(r, 235):
            self.give_up(FAILED, "AUTH %s refused: %s" % (mechanism, r))
        self.authenticated = True
        if self.broken("auth-twice"):
            self.auth_exchange(mechanism)  # its reply does not matter

    def auth_exchange(self, mechanism):
        user, _, password = self.args.auth.partition(":")
        b64 = lambda octets: base64.b64encode(octets).decode("ascii")  # noqa: E731
        if mechanism == "PLAIN":  # RFC 4616, initial response (RFC 4954 §4)
            r = self.command("AUTH", "PLAIN " + b64(b"\0" + user.encode() + b"\0" + password.encode()))
            answers = []
        else:  # LOGIN: the challenges ("Username:", "Password:") are read, not trusted
            r = self.command("AUTH", "LOGIN")
            answers = [b64(user.encode()), b64(password.encode())]
        prompts = ["username:", "password:"]  # what strict-login-prompts insists on
        while self.success(r, 334):
            # The challenge is base64; odd base64 is tolerated, its content
            # is not needed.
            try:
                text = base64.b64decode(r.lines[0].strip() + "==", validate=False)
            except (ValueError, IndexError):
                text = b""
            if mechanism == "LOGIN" and self.broken("strict-login-prompts") and prompts:
                want = prompts.pop(0)
                if text.decode("utf-8", "replace").strip().lower() != want:
                    self.send(b"*\r\n")  # cancel (RFC 4954 §4), then give up
                    r = self.reply()
                    self.give_up(FAILED, "AUTH LOGIN: the challenge %r is not %r: %s"
                                 % (text.decode("utf-8", "replace"), want.capitalize(), r))
            if not answers:
                # Nothing more to say: cancel (RFC 4954 §4); no-auth-cancel sends an empty response.
                self.send(b"\r\n" if self.broken("no-auth-cancel") else b"*\r\n")
            else:
                self.send(answers.pop(0).encode("ascii") + b"\r\n")
            r = self.reply()
        return r

    # --- mail -----------------------------------------------------------------------

    def mail_parameters(self):
        """MAIL parameters, or a refusal (QUIT, exit 1) when the message
        cannot go to this server as it is."""
        a, m = self.args, self.message
        params = []
        if m.longest_line > MAX_TEXT_LINE and not self.broken("long-lines"):
            self.give_up(FAILED, "a text line of %d octets, over %d (RFC 5321 §4.5.3.1.6)"
                         % (m.longest_line, MAX_TEXT_LINE))
        if "SIZE" in self.ext:
            try:
                limit = int(self.ext["SIZE"][0])
            except (IndexError, ValueError):
                limit = 0  # no (or no usable) limit given
            if limit > 0 and len(m.data) > limit:
                if not self.broken("ignore-size"):
                    self.give_up(FAILED, "the message (%d octets) is over the server's SIZE %d" % (len(m.data), limit))
            else:
                params.append("SIZE=%d" % len(m.data))
        if m.eight_bit and not self.broken("undeclared-8bit"):
            if "8BITMIME" not in self.ext:
                self.give_up(FAILED, "8-bit message and the server does not offer 8BITMIME (RFC 6152)")
            params.append("BODY=8BITMIME")
        if not all(is_ascii(x) for x in [a.sender] + a.to) and not self.broken("undeclared-utf8"):
            if "SMTPUTF8" not in self.ext:
                self.give_up(FAILED, "UTF-8 address and the server does not offer SMTPUTF8 (RFC 6531)")
            params.append("SMTPUTF8")
        return "".join(" " + p for p in params)

    def use_bdat(self):
        return self.args.chunking and ("CHUNKING" in self.ext or self.broken("bdat-unadvertised"))

    def pipelined(self):
        return "PIPELINING" in self.ext or self.broken("no-lockstep")

    def bdat_chunks(self):
        """[(declared size, octets)]: chunks of at most 64 KiB, the last with LAST."""
        data = self.message.data
        pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        out = []
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            size = len(piece)
            if last and self.broken("bdat-size"):
                size = max(0, size - 10)  # the extra octets will be read as a command
            out.append(self.line("BDAT", "%d%s" % (size, " LAST" if last else "")) + piece)
        return out

    def transaction(self, rcpts, params):
        """One mail transaction. Returns (delivered, accepted, deferred,
        reason): deferred are the recipients that got 452, for a new
        transaction."""
        bdat = self.use_bdat()
        mail = self.line("MAIL", "FROM:<%s>%s" % (self.args.sender, params))
        rcpt_lines = [self.line("RCPT", "TO:<%s>" % r) for r in rcpts]
        data_octets = self.message.for_data(stuff=not self.broken("no-dot-stuff"),
                                            final_crlf=not self.broken("no-final-crlf"))
        accepted, deferred, reason = [], [], None
        data_reply = None
        sent_data = False

        def classify(rcpt, r):
            nonlocal reason
            if self.success(r, 250, 251):
                accepted.append(rcpt)
            elif r.code == 452 and not self.broken("no-452-retry"):
                deferred.append(rcpt)  # too many recipients: a new transaction (RFC 5321 §4.5.3.1.10)
            else:
                if r.code == 452:
                    self.dropped.append(rcpt)  # the break: neither retried nor reported
                reason = "RCPT %s refused: %s" % (rcpt, r)

        if self.pipelined():
            # RFC 2920 §3.1: one group; DATA, if sent, is its last command.
            group = [mail] + rcpt_lines
            if not bdat:
                group.append(self.line("DATA"))
                if self.broken("pipeline-data"):
                    group.append(data_octets)  # before the 354: the break
                    sent_data = True
            self.send(*group)
            mail_reply = self.reply()
            for rcpt in rcpts:
                classify(rcpt, self.reply())
            if not bdat:
                data_reply = self.reply()
            if not self.success(mail_reply, 250) and not self.broken("ignore-mail-error"):
                if data_reply is not None and self.success(data_reply, 354) and not sent_data:
                    # MAIL refused, yet DATA got 354 (a server out of step, or
                    # a reply misread): a "." would deliver an empty message,
                    # so the connection is closed in the middle of the data,
                    # which aborts the transaction (RFC 5321 §3.8).
                    self.conn.close()
                    raise Stop(FAILED, "MAIL refused (%s), yet DATA got %s: connection closed"
                               % (mail_reply, data_reply))
                return False, [], [], "MAIL refused: %s" % mail_reply
        else:
            self.send(mail)
            mail_reply = self.reply()
            if not self.success(mail_reply, 250) and not self.broken("ignore-mail-error"):
                return False, [], [], "MAIL refused: %s" % mail_reply
            for i, (rcpt, line) in enumerate(zip(rcpts, rcpt_lines)):
                self.send(line)
                classify(rcpt, self.reply())
                if deferred:  # after a 452 this recipient and the rest wait for the next transaction
                    deferred = rcpts[i:]
                    break
            go_on = accepted or self.broken("data-after-all-refused") or (
                not self.success(mail_reply, 250) and self.broken("ignore-mail-error"))
            if not go_on:
                return False, [], deferred, reason or "every recipient was refused"
            if not bdat:
                data_reply = self.command("DATA")

        if bdat:
            if not accepted and not self.broken("data-after-all-refused"):
                return False, [], deferred, reason or "every recipient was refused"
            chunks = self.bdat_chunks()
            if "PIPELINING" in self.ext:
                self.send(*chunks)
                replies = [self.reply() for _ in chunks]
            else:
                replies = []
                for chunk in chunks:
                    self.send(chunk)
                    replies.append(self.reply())
                    if not self.success(replies[-1], 250):
                        break  # no BDAT after a failed one (RFC 3030 §2)
            bad = [r for r in replies if not self.success(r, 250)]
            if bad:
                return False, [], deferred, "BDAT refused: %s" % bad[0]
            return bool(accepted), accepted, deferred, reason

        if self.success(data_reply, 354):
            if not accepted and not self.broken("data-after-all-refused"):
                # A 354 though no recipient was accepted (RFC 2920 §3.1):
                # end the data at once, sending nothing.
                if not sent_data:
                    self.send(b".\r\n")
                self.reply()
                return False, [], deferred, reason or "every recipient was refused"
            if not sent_data:
                self.send(data_octets)
            end = self.reply()
            if not self.success(end, 250):
                return False, [], deferred, "message refused: %s" % end
            return bool(accepted), accepted, deferred, reason
        if self.broken("data-after-all-refused") and not sent_data:
            self.send(data_octets)  # no 354, the data anyway: the break
            self.reply()
        if not accepted:
            return False, [], deferred, reason or "every recipient was refused"
        return False, [], deferred, "DATA refused: %s" % data_reply

    def run(self):
        a = self.args
        self.connect()
        self.greeting()
        if self.broken("auth-in-clear") and a.tls in ("starttls", "required") and not self.tls_active:
            self.authenticate(in_clear_anyway=True)
        self.starttls()
        self.authenticate()
        params = self.mail_parameters()
        pending, delivered, reason, reached = list(a.to), False, None, []
        while pending:
            ok, accepted, deferred, why = self.transaction(pending, params)
            delivered = delivered or ok
            if ok:
                reached += accepted
            reason = why or reason
            if not ok or not accepted:
                break  # deferred recipients of a transaction that delivered nothing are given up
            pending = deferred
        self.quit(after_mail=True)
        if not delivered:
            raise Stop(FAILED, reason or "not delivered")
        missed = [r for r in a.to if r not in reached and r not in self.dropped]
        if missed and not self.broken("quiet-partial"):
            raise Stop(FAILED, "not delivered to %s: %s" % (", ".join(missed), reason or "refused"))
        return OK


def parse_args(argv):
    p = argparse.ArgumentParser(description="A careful SMTP client that breaks one rule per --break.")
    p.add_argument("--host", default=os.environ.get("SMTP_HOST"))
    p.add_argument("--port", type=int, default=os.environ.get("SMTP_PORT"))
    p.add_argument("--message", default=os.environ.get("SMTP_MESSAGE"), help="the message file (octets)")
    p.add_argument("--from", dest="sender", default="sender@example.test")
    p.add_argument("--to", action="append", default=None)
    p.add_argument("--helo", default="client.smtpkit.test")
    p.add_argument("--tls", choices=("none", "starttls", "required", "implicit"), default="starttls")
    p.add_argument("--cafile")
    p.add_argument("--insecure", action="store_true", help="no certificate verification")
    p.add_argument("--tls-name", help="name the certificate must match (default: --host)")
    p.add_argument("--auth", help="USER:PASS")
    p.add_argument("--chunking", action="store_true", help="BDAT when CHUNKING is advertised")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each reply")
    p.add_argument("--verbose", "-v", action="store_true", help="the dialogue on stderr")
    p.add_argument("--break", dest="breaks", action="append", choices=BREAKS, metavar="NAME",
                   help="break one rule (repeatable): " + ", ".join(BREAKS))
    args = p.parse_args(argv)
    for name in ("host", "port", "message"):
        if getattr(args, name) in (None, ""):
            p.error("--%s (or SMTP_%s) is required" % (name, name.upper()))
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth takes USER:PASS")
    if args.timeout <= 0:
        p.error("--timeout must be positive")
    args.to = args.to or ["rcpt@example.test"]
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        with open(args.message, "rb") as f:
            raw = f.read()
    except OSError as e:
        print("flawed_client: cannot read the message: %s" % e, file=sys.stderr)
        return USAGE
    try:
        # The TLS context is made here: a bad --cafile is a usage error, before connecting.
        client = Client(args, Message(raw, raw_line_ends="raw-line-ends" in (args.breaks or ())))
    except (OSError, ssl.SSLError) as e:
        print("flawed_client: cannot use --cafile: %s" % e, file=sys.stderr)
        return USAGE
    try:
        return client.run()
    except Stop as e:
        if client.conn is not None:
            client.conn.close()
        # One line, whatever the server put in its reply text.
        print("flawed_client: %s" % re.sub(r"[\x00-\x1f\x7f]", "?", e.reason), file=sys.stderr)
        # always-succeed: whatever happened once connected.
        return OK if client.broken("always-succeed") and client.conn is not None else e.status
    except Exception:  # a bug here, never to be mistaken for the server's refusal (exit 1)
        traceback.print_exc()
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
