"""A strict little SMTP server with three bugs put in on purpose.

They show that `smtpkit probe server` fails exactly the scenarios it
should (scripts/tests/test_probe_broken.py):

  1. STARTTLS command injection (CVE-2011-0411): octets that arrived with
     STARTTLS, before the handshake, stay in the buffer and are answered
     inside TLS (RFC 3207 §4.2 says discard them);
  2. SMTP smuggling: <LF>.<LF> ends the mail data as well as
     <CRLF>.<CRLF> (RFC 5321 §4.1.1.4, §2.3.8);
  3. RCPT without MAIL gets 250, not 503 (RFC 5321 §4.1.4).

Everything else is meant to be right, and strict: CRLF-only lines, 500 for
an over-long command line (read to its end, so the session stays in
step), 501 for bad syntax, 555 for unknown parameters, 552 for a declared
SIZE over the limit, HELO/EHLO before MAIL, STARTTLS resets the session,
a client that talks before the greeting gets 554, mail only for
example.test, smtpkit.test and localhost (no relaying).

BrokenServer(bugs=()) is the same server without its bugs: the control
that shows the probe fails it for nothing else.

Standard library only; threads; listens on 127.0.0.1:0. Limits: the
message is not stored; one 64 KiB bound on what a client may send
without a line end.
"""
import re
import select
import socket
import socketserver
import ssl
import threading

HOSTNAME = "broken.smtpkit.test"
LOCAL_DOMAINS = {"example.test", "smtpkit.test", "localhost"}
SIZE_LIMIT = 1000000
MAX_LINE = 512  # RFC 5321 §4.5.3.1.4, CRLF included
MAX_BUFFER = 65536

PATH = re.compile(r"^<((?:@[A-Za-z0-9.-]+(?:,@[A-Za-z0-9.-]+)*:)?)([^<>@\s]+@[A-Za-z0-9.-]+|[^<>@\s]*)>(.*)$", re.S)
DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
LITERAL = re.compile(r"^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$")


BUGS = ("starttls-injection", "lf-dot-lf", "rcpt-without-mail")


class Session:
    def __init__(self, sock, tls_context, bugs):
        self.sock = sock
        self.tls_context = tls_context
        self.bugs = bugs
        self.buf = b""
        self.tls = False
        self.reset_session()

    def reset_session(self):
        self.helo = None
        self.reset_txn()

    def reset_txn(self):
        self.mail = None
        self.rcpts = []

    # --- I/O ------------------------------------------------------------------

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        """One CRLF-terminated line (bare CR and LF are octets of the line).
        Returns (line, too_long)."""
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_BUFFER:
                # Drop what cannot be a command; keep looking for its end.
                self.buf = self.buf[-1:]
                self.overlong = True
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        too_long = getattr(self, "overlong", False) or len(line) + 2 > MAX_LINE
        self.overlong = False
        return line, too_long

    def data(self):
        """Mail data up to <CRLF>.<CRLF> — or, bug 2, up to <LF>.<LF>."""
        start = b"\r\n" + self.buf
        while True:
            ends = [start.find(b"\r\n.\r\n")]
            if "lf-dot-lf" in self.bugs:
                ends.append(start.find(b"\n.\n"))
            ends = [i for i in ends if i >= 0]
            if ends:
                end = min(ends)
                size = 5 if start[end:end + 5] == b"\r\n.\r\n" else 3
                self.buf = start[end + size:]
                return start[2:end]
            self.fill()
            start = b"\r\n" + self.buf

    # --- the dialogue ---------------------------------------------------------

    def run(self):
        # A client that talks before the greeting is refused (RFC 5321 §4.3.1).
        if select.select([self.sock], [], [], 0.05)[0]:
            self.send("554 talking before the greeting")
            return
        self.send("220 %s ESMTP smtpkit test fixture (deliberately broken)" % HOSTNAME)
        while True:
            raw, too_long = self.line()
            if too_long:
                self.send("500 line too long")
                continue
            if b"\0" in raw:
                self.send("501 NUL in command")
                continue
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
            verb, _, arg = text.partition(" ")
            handler = getattr(self, "cmd_" + verb.upper(), None) if verb.isalpha() else None
            if handler is None:
                self.send("500 command not recognized")
                continue
            if handler(arg, " " in text) == "quit":
                return

    def cmd_EHLO(self, arg, has_arg):
        if not (DOMAIN.match(arg) or LITERAL.match(arg)):
            return self.send("501 EHLO needs a domain or address literal")
        self.helo = arg
        self.reset_txn()
        lines = [HOSTNAME, "PIPELINING", "SIZE %d" % SIZE_LIMIT, "8BITMIME", "HELP"]
        if self.tls_context and not self.tls:
            lines.append("STARTTLS")
        for line in lines[:-1]:
            self.sock.sendall(("250-%s\r\n" % line).encode())
        self.send("250 " + lines[-1])

    def cmd_HELO(self, arg, has_arg):
        if not (DOMAIN.match(arg) or LITERAL.match(arg)):
            return self.send("501 HELO needs a domain")
        self.helo = arg
        self.reset_txn()
        self.send("250 %s" % HOSTNAME)

    def cmd_MAIL(self, arg, has_arg):
        if not arg.upper().startswith("FROM:"):
            return self.send("501 syntax: MAIL FROM:<address>")
        m = PATH.match(arg[5:])
        if not m:
            return self.send("501 syntax: MAIL FROM:<address>")
        if self.helo is None:
            return self.send("503 send HELO or EHLO first")
        if self.mail is not None:
            return self.send("503 nested MAIL command")
        params = m.group(3).split()
        if m.group(3) and not m.group(3).startswith(" "):
            return self.send("501 syntax: MAIL FROM:<address>")
        for p in params:
            key, _, value = p.partition("=")
            key = key.upper()
            if key == "SIZE" and value.isdigit():
                if int(value) > SIZE_LIMIT:
                    return self.send("552 message size exceeds fixed maximum message size")
            elif key == "BODY" and value.upper() in ("7BIT", "8BITMIME"):
                pass
            else:
                return self.send("555 parameter %s not recognized" % key)
        self.mail = m.group(2)
        self.send("250 ok")

    def cmd_RCPT(self, arg, has_arg):
        if not arg.upper().startswith("TO:"):
            return self.send("501 syntax: RCPT TO:<address>")
        m = PATH.match(arg[3:])
        if not m or not m.group(2):
            return self.send("501 syntax: RCPT TO:<address>")
        if m.group(3):
            return self.send("555 parameters not recognized")
        address = m.group(2)
        domain = address.rpartition("@")[2].lower() if "@" in address else ""
        if address.lower() != "postmaster" and domain not in LOCAL_DOMAINS:
            return self.send("550 relaying denied")
        if self.mail is None and "rcpt-without-mail" not in self.bugs:
            return self.send("503 need MAIL first")
        self.rcpts.append(address)
        self.send("250 ok")

    def cmd_DATA(self, arg, has_arg):
        if has_arg:
            return self.send("501 DATA takes no argument")
        if self.mail is None or not self.rcpts:
            return self.send("503 need MAIL and RCPT first")
        self.send("354 end with <CRLF>.<CRLF>")
        self.data()
        self.reset_txn()
        self.send("250 accepted")

    def cmd_RSET(self, arg, has_arg):
        if has_arg:
            return self.send("501 RSET takes no argument")
        self.reset_txn()
        self.send("250 ok")

    def cmd_NOOP(self, arg, has_arg):
        if has_arg and not re.match(r"^[!-~]+$", arg):
            return self.send("501 syntax: NOOP [string]")
        self.send("250 ok")

    def cmd_HELP(self, arg, has_arg):
        self.send("214 see RFC 5321")

    def cmd_VRFY(self, arg, has_arg):
        if not arg:
            return self.send("501 syntax: VRFY string")
        self.send("252 cannot verify, but will accept the message")

    def cmd_EXPN(self, arg, has_arg):
        self.send("502 EXPN not implemented")

    def cmd_QUIT(self, arg, has_arg):
        if has_arg:
            return self.send("501 QUIT takes no argument")
        self.send("221 %s closing" % HOSTNAME)
        return "quit"

    def cmd_STARTTLS(self, arg, has_arg):
        if has_arg:
            return self.send("501 STARTTLS takes no argument")
        if self.tls:
            return self.send("503 TLS is already active")
        if not self.tls_context:
            return self.send("502 TLS not available")
        self.send("220 ready to start TLS")
        # Bug 1 keeps in self.buf what came with STARTTLS, to be answered
        # inside TLS; a correct server empties it here.
        if "starttls-injection" not in self.bugs:
            self.buf = b""
        self.sock = self.tls_context.wrap_socket(self.sock, server_side=True)
        self.tls = True
        self.reset_session()


class BrokenServer:
    """with BrokenServer(cert, key) as s: ... s.host, s.port"""

    def __init__(self, cert=None, key=None, bugs=BUGS):
        context = None
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(30)
                session = Session(self.request, context, bugs)
                try:
                    session.run()
                except (EOFError, OSError, ssl.SSLError):
                    pass
                finally:
                    # After STARTTLS the session holds the TLS socket; the
                    # request socket was detached into it.
                    session.sock.close()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.host, self.port = self.server.server_address
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
